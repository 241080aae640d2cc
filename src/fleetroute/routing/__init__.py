"""Routing core: the immutable Problem, the solvers (PyVRP, OR-Tools), the schedule and the Plan.

Imports neither osmnx nor lightgbm; it takes matrices.
"""

from fleetroute.routing.combined import PartitionedPlan, PlanTables
from fleetroute.routing.options import SolveOptions
from fleetroute.routing.plan import ROUTE_COLUMNS, Plan
from fleetroute.routing.problem import UNLIMITED, Problem
from fleetroute.routing.result import PlanResult
from fleetroute.routing.schedule import DROPOFF, PICKUP, Route, RouteSchedule, schedule
from fleetroute.routing.screen import screen
from fleetroute.routing.solve import solve

__all__ = [
    "PlanResult",
    "DROPOFF",
    "PICKUP",
    "ROUTE_COLUMNS",
    "UNLIMITED",
    "PartitionedPlan",
    "Plan",
    "PlanTables",
    "Problem",
    "Route",
    "RouteSchedule",
    "SolveOptions",
    "schedule",
    "screen",
    "solve",
]
