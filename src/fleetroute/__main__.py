"""``python -m fleetroute`` runs the ``route`` command line."""

from fleetroute.cli import main

if __name__ == "__main__":
    main()
