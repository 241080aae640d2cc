"""Road maps: load once, snap, travel-time and distance matrices, synthetic cities."""

from fleetroute.maps.fetch import fetch
from fleetroute.maps.load import FALLBACK_SPEED_KPH, HWY_SPEEDS_KPH, MAP_SUFFIXES, from_graph, load
from fleetroute.maps.roadmap import RoadMap
from fleetroute.maps.synthetic import synthetic_city, write_synthetic_city

__all__ = [
    "FALLBACK_SPEED_KPH",
    "HWY_SPEEDS_KPH",
    "MAP_SUFFIXES",
    "RoadMap",
    "fetch",
    "from_graph",
    "load",
    "synthetic_city",
    "write_synthetic_city",
]
