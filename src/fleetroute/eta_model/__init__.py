"""ETA models: the free-flow baseline now; the learned LightGBM model answers the same protocol."""

from fleetroute.eta_model.baseline import EtaProvider, FreeFlow

__all__ = ["EtaProvider", "FreeFlow"]
