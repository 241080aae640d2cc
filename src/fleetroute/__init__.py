"""fleetroute: delivery-route optimisation on real road maps.

The Python API for dispatch systems::

    import fleetroute
    city = fleetroute.maps.load("city.osm.pbf")          # once per process
    plan = fleetroute.plan("orders.csv", "vehicles.csv", road_map=city)
    plan.routes_table()      # routes.csv as a DataFrame
    plan.summary()           # the summary of plan.json
    plan.unassigned_table()  # orders left out, with reasons

    # many depots or zones at once, each its own problem, in parallel on Dask
    day = fleetroute.plan_partitioned("orders.csv", "vehicles.csv", road_map=city, by="zone")
"""

from importlib.metadata import PackageNotFoundError, version

from fleetroute import _env, maps  # noqa: F401  (_env first: before pandas is imported)
from fleetroute.api import (
    MAX_SNAP_M,
    bench_vrplib,
    build_problem,
    check_routes,
    evaluate_eta,
    insert_order,
    late_risk,
    monitor_eta,
    plan,
    predict_eta,
    replan,
    slots,
    train_eta,
)
from fleetroute.distributed.partition import plan_partitioned
from fleetroute.errors import (
    EtaOptionError,
    FleetrouteError,
    InputError,
    InputWarning,
    MapError,
    ModelBundleError,
    NotFittedError,
)
from fleetroute.eta_model import EtaModel, EtaProvider, FreeFlow, LearnedEta
from fleetroute.io.readers import FleetSpec
from fleetroute.io.writers import write_plan
from fleetroute.maps import RoadMap
from fleetroute.routing import (
    PartitionedPlan,
    Plan,
    Problem,
    Route,
    SolveOptions,
    schedule,
    solve,
)

try:
    __version__ = version("fleetroute")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "MAX_SNAP_M",
    "EtaModel",
    "EtaOptionError",
    "EtaProvider",
    "LearnedEta",
    "FleetSpec",
    "FleetrouteError",
    "FreeFlow",
    "InputError",
    "InputWarning",
    "MapError",
    "ModelBundleError",
    "NotFittedError",
    "PartitionedPlan",
    "Plan",
    "Problem",
    "RoadMap",
    "Route",
    "SolveOptions",
    "__version__",
    "bench_vrplib",
    "build_problem",
    "check_routes",
    "late_risk",
    "replan",
    "insert_order",
    "slots",
    "evaluate_eta",
    "monitor_eta",
    "predict_eta",
    "train_eta",
    "maps",
    "plan",
    "plan_partitioned",
    "schedule",
    "solve",
    "write_plan",
]
