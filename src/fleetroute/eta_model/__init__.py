"""ETA models: the free-flow baseline and the learned LightGBM model, one protocol."""

from fleetroute.eta_model.baseline import EtaProvider, FreeFlow
from fleetroute.eta_model.learned import LearnedEta
from fleetroute.eta_model.model import EtaModel

__all__ = ["EtaModel", "EtaProvider", "FreeFlow", "LearnedEta"]
