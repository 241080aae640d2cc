"""The Dask pieces together: the cluster (local or a scheduler, values sent once per worker),
many depots or zones as parallel problems (partition), many days (batch), and training on
partitioned history (training).

``cluster`` and ``training`` sit below the api (``train_eta(distributed=True)`` uses
them); ``partition`` and ``batch`` sit above it, beside the CLI: they plan through
:mod:`fleetroute.api` on every worker.
"""
