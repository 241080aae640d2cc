"""The composition the CLI and dispatch systems call: inputs + map + ETAs -> Problem -> Plan.

One module per use: ``planning`` (build_problem, plan), ``dispatch`` (insert_order,
replan, check_routes, late_risk), ``eta`` (train, monitor, predict, evaluate), ``bench``
(standard VRP instances) and ``report`` (the HTML report of a plan folder).
"""

from fleetroute.api import parts as _parts
from fleetroute.api._common import MAX_SNAP_M, ROUTE_INPUT_COLUMNS, Progress, road_map_of
from fleetroute.api.bench import bench_vrplib
from fleetroute.api.dispatch import check_routes, insert_order, late_risk, replan
from fleetroute.api.eta import evaluate_eta, monitor_eta, predict_eta, train_eta
from fleetroute.api.parts import (  # noqa: F401  (listed in __all__ through _parts)
    BACKENDS,
    DEFAULT_QUANTILES,
    DEFAULT_SHIFT_S,
    PLAN_QUANTILE,
    FleetSpec,
    LearnedEta,
    PartitionedPlan,
    PlanResult,
    RoadMap,
    SolveOptions,
    die_with_parent,
    fetch_map,
    kpis,
    load_map,
    map_html,
    neutralise_table,
    plan_geojson,
    plot_trend,
    read_done,
    read_orders,
    read_positions,
    request_stop,
    restore_table,
    simulate_history,
    simulate_orders,
    vehicle_table,
    write_csv,
    write_folder,
    write_plan,
    write_synthetic_city,
)
from fleetroute.api.planning import (
    LOCK_COLUMNS,
    build_problem,
    check_inputs,
    plan,
    stop_on_ctrl_c,
)
from fleetroute.api.report import plan_report
from fleetroute.api.slots import SLOT_COLUMNS, slots
from fleetroute.routing.plan import Plan

__all__ = [
    "plan",
    "build_problem",
    "check_inputs",
    "train_eta",
    "predict_eta",
    "evaluate_eta",
    "monitor_eta",
    "bench_vrplib",
    "check_routes",
    "insert_order",
    "replan",
    "late_risk",
    "plan_report",
    "slots",
    "SLOT_COLUMNS",
    "stop_on_ctrl_c",
    "road_map_of",
    "MAX_SNAP_M",
    "LOCK_COLUMNS",
    "ROUTE_INPUT_COLUMNS",
    "Plan",
    "Progress",
    # the parts the commands use, so that they go through the api only
    *_parts.__all__,
]
