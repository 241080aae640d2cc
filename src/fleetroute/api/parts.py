"""The parts' names the commands use, in one place: a command (the CLI, the suite, the Dask
jobs) reaches io, maps, the ETA model, routing, views and the simulator through the api."""

from fleetroute.eta_model.learned import LearnedEta
from fleetroute.eta_model.model import DEFAULT_QUANTILES, PLAN_QUANTILE
from fleetroute.eta_model.monitor import plot_trend
from fleetroute.io.cells import neutralise_table, restore_table, write_csv
from fleetroute.io.readers import (
    DEFAULT_SHIFT_S,
    FleetSpec,
    read_done,
    read_orders,
    read_positions,
)
from fleetroute.io.writers import write_folder, write_plan
from fleetroute.maps import RoadMap, write_synthetic_city
from fleetroute.maps import fetch as fetch_map
from fleetroute.maps import load as load_map
from fleetroute.routing.combined import PartitionedPlan
from fleetroute.routing.options import BACKENDS, SolveOptions, die_with_parent, request_stop
from fleetroute.routing.result import PlanResult
from fleetroute.simulator import simulate_history, simulate_orders
from fleetroute.views import kpis, map_html, plan_geojson, vehicle_table

__all__ = [
    "BACKENDS",
    "DEFAULT_QUANTILES",
    "DEFAULT_SHIFT_S",
    "FleetSpec",
    "LearnedEta",
    "PLAN_QUANTILE",
    "PartitionedPlan",
    "PlanResult",
    "RoadMap",
    "SolveOptions",
    "die_with_parent",
    "fetch_map",
    "kpis",
    "load_map",
    "map_html",
    "neutralise_table",
    "plan_geojson",
    "plot_trend",
    "read_done",
    "read_orders",
    "read_positions",
    "request_stop",
    "restore_table",
    "simulate_history",
    "simulate_orders",
    "vehicle_table",
    "write_csv",
    "write_folder",
    "write_plan",
    "write_synthetic_city",
]
