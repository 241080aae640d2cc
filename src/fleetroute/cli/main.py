"""The click commands of ``route``."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd

from fleetroute import api
from fleetroute.cli.params import LAT_LON, SHIFT, VIEWS
from fleetroute.cli.runner import RouteGroup
from fleetroute.errors import InputError, ModelBundleError
from fleetroute.io.readers import DEFAULT_SHIFT_S, FleetSpec, read_orders
from fleetroute.io.tables import Column, read_table
from fleetroute.io.writers import write_plan
from fleetroute.maps import RoadMap, write_synthetic_city
from fleetroute.maps import load as load_map
from fleetroute.routing.combined import PartitionedPlan
from fleetroute.routing.options import BACKENDS, SolveOptions

if TYPE_CHECKING:
    from fleetroute.eta_model.learned import LearnedEta

__all__ = ["cli"]


@click.group(cls=RouteGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(package_name="fleetroute")
def cli(debug: bool) -> None:
    """fleetroute: plan delivery routes on a real road map.

    Typical use: route plan orders.csv --map city.osm.pbf --vehicles vehicles.csv --out plan/

    File formats are described in the README (SPEC.md). Exit status: 0 when a plan was
    produced (even with unassigned orders), 2 for bad input, 1 for anything else.
    """
    del debug


@dataclass(frozen=True)
class Day:
    """What the day options say: the map, the fleet, stores, ETA source and date."""

    map_path: Path
    vehicles: Path | None
    fleet: FleetSpec | None
    stores: Path | None
    eta_model: Path | None
    eta_quantile: float
    plan_date: date | None

    @cached_property
    def road_map(self) -> RoadMap:
        """The map, loaded once."""
        return load_map(self.map_path)

    @cached_property
    def eta(self) -> LearnedEta | None:
        """The learned ETA provider of --eta-model/--eta-quantile (None: free-flow)."""
        return _eta(self.eta_model, self.road_map, self.eta_quantile)

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments every day-reading API function takes."""
        return {
            "road_map": self.road_map,
            "stores": self.stores,
            "fleet": self.fleet,
            "eta": self.eta,
            "plan_date": self.plan_date,
        }


_DAY_PARAMS = (
    "map_path",
    "vehicles",
    "fleet_size",
    "capacity",
    "depot",
    "shift",
    "stores",
    "eta_model",
    "eta_quantile",
    "plan_date",
)


def _day_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options that describe a day to plan or check: map, fleet, stores, ETA source,
    date. The command receives them as one ``day: Day`` argument."""

    @functools.wraps(command)
    def packed(**kwargs: Any) -> None:
        d = {name: kwargs.pop(name) for name in _DAY_PARAMS}
        day = Day(
            map_path=d["map_path"],
            vehicles=d["vehicles"],
            fleet=_fleet(d["fleet_size"], d["depot"], d["capacity"], d["shift"]),
            stores=d["stores"],
            eta_model=d["eta_model"],
            eta_quantile=d["eta_quantile"],
            plan_date=d["plan_date"].date() if d["plan_date"] else None,
        )
        command(day=day, **kwargs)

    options = [
        click.option(
            "--map",
            "map_path",
            required=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help="Road map: .osm, .osm.bz2, .osm.pbf or OSMnx .graphml.",
        ),
        click.option(
            "--vehicles",
            type=click.Path(dir_okay=False, path_type=Path),
            help="vehicles.csv; or use the --fleet-size shorthand.",
        ),
        click.option(
            "--fleet-size",
            type=click.IntRange(min=1),
            help="Shorthand: this many identical vehicles.",
        ),
        click.option(
            "--capacity", type=click.IntRange(min=0), help="Shorthand: capacity of each vehicle."
        ),
        click.option(
            "--depot", type=LAT_LON, help="Shorthand: LAT,LON where every vehicle starts and ends."
        ),
        click.option(
            "--shift", type=SHIFT, help="Shorthand: working time HH:MM-HH:MM (default 00:00-23:59)."
        ),
        click.option(
            "--stores",
            type=click.Path(dir_okay=False, path_type=Path),
            help="stores.csv, needed when orders name a store_id.",
        ),
        click.option(
            "--eta-model",
            "eta_model",
            type=click.Path(file_okay=False, path_type=Path),
            help="A model folder from `route eta train` (default: free-flow times).",
        ),
        click.option(
            "--eta-quantile",
            type=click.FloatRange(0.01, 0.99),
            default=0.5,
            show_default=True,
            help="Plan on this quantile of predicted times (0.9: cautious promises).",
        ),
        click.option(
            "--date",
            "plan_date",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            help="Plan date for HH:MM times (default: today).",
        ),
    ]
    wrapped: Callable[..., None] = packed
    for option in reversed(options):
        wrapped = option(wrapped)
    return wrapped


def _driven_options(command: Callable[..., None]) -> Callable[..., None]:
    """ROUTES (a routes.csv being driven or checked), the --orders it serves, and the day."""
    command = _day_options(command)
    command = click.option(
        "--orders",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="orders.csv the routes serve.",
    )(command)
    return click.argument("routes", type=click.Path(dir_okay=False, path_type=Path))(command)


def _out_dir(default: str, what: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The --out folder option of a command that writes ``what``."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(default),
        show_default=True,
        help=f"Folder for {what}.",
    )


def _dask_options(command: Callable[..., None]) -> Callable[..., None]:
    """Where Dask tasks run: a running scheduler, or a local cluster of N workers."""
    command = click.option(
        "--dask-workers",
        type=click.IntRange(min=1),
        help="Worker processes of the local Dask cluster [default: one per core].",
    )(command)
    return click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="A running Dask scheduler (tcp://host:8786) [default: a local cluster].",
    )(command)


def _search_options(command: Callable[..., None]) -> Callable[..., None]:
    """How the solver searches: time, effort limit, seed, backend, parallel searches."""
    options = [
        click.option(
            "--time-limit",
            type=click.FloatRange(min=0.1),
            default=10.0,
            show_default=True,
            help="Seconds the solver may search (per instance for benchmarks).",
        ),
        click.option(
            "--solution-limit",
            type=click.IntRange(min=1),
            help="A deterministic effort limit instead of the clock (repeatable results).",
        ),
        click.option("--seed", type=int, default=0, show_default=True, help="Random seed."),
        click.option(
            "--backend",
            type=click.Choice(BACKENDS),
            default="auto",
            show_default=True,
            help="Solver: auto picks PyVRP where it can model the day, else OR-Tools.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            help="Parallel searches, cheapest plan kept [default: one per core, at most 2].",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command("plan")
@click.argument("orders", type=click.Path(dir_okay=False, path_type=Path))
@_day_options
@_search_options
@click.option(
    "--max-snap",
    "max_snap_m",
    type=click.FloatRange(min=1),
    default=api.MAX_SNAP_M,
    show_default=True,
    help="Metres from the nearest road beyond which an order is not planned.",
)
@_out_dir("out", "routes.csv, plan.json and unassigned.csv")
@click.option(
    "--locks",
    type=click.Path(dir_okay=False, path_type=Path),
    help="locks.csv (vehicle_id, order_id[, seq]): orders tied to vehicles, seq keeps order.",
)
@click.option(
    "--format",
    "views",
    type=VIEWS,
    default="",
    help="Also write views: geojson (routes.geojson, road-following legs), html (map.html, "
    "a self-contained map); comma-separated.",
)
@click.option(
    "--zone-orders",
    type=click.IntRange(min=1),
    default=SolveOptions.zone_orders,
    show_default=True,
    help="Days OR-Tools plans with more orders are searched in sectors of about this many.",
)
@click.option(
    "--partition",
    metavar="COLUMN|auto",
    help="Plan each depot or zone as its own problem, in parallel on Dask: by a column "
    "orders and vehicles share (zone, depot_id, ...), or auto (each order to its nearest "
    "depot).",
)
@_dask_options
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the summary, KPIs, vehicles and unassigned orders as JSON (for machines).",
)
def plan_cmd(
    orders: Path,
    day: Day,
    time_limit: float,
    solution_limit: int | None,
    seed: int,
    backend: str,
    workers: int | None,
    max_snap_m: float,
    out_dir: Path,
    locks: Path | None,
    views: tuple[str, ...],
    zone_orders: int,
    partition: str | None,
    scheduler: str | None,
    dask_workers: int | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Plan deliveries of ORDERS (orders.csv): which vehicle, what sequence, what times.

    Writes routes.csv (one row per stop), plan.json (summary, routes, unassigned orders
    with reasons, inputs) and unassigned.csv into --out; with --format, routes.geojson
    and map.html too. Shows progress on a terminal, then a table per vehicle and the day's
    KPIs (--quiet: nothing; --json: machine-readable). With --partition, each depot or
    zone is planned as its own problem on Dask, and the files hold them all.
    """
    from fleetroute.cli.show import Status, plan_tables

    if partition is None and (scheduler or dask_workers):
        raise InputError("--scheduler", "Dask runs partitions: give --partition too")
    if partition is not None and locks is not None:
        raise InputError("--locks", "locks are not supported with --partition yet")
    with Status(enabled=not (quiet or as_json)) as status:
        status(f"loading map {day.map_path.name}")
        t0 = time.perf_counter()
        road_map = day.road_map
        t_map = time.perf_counter() - t0
        search: dict[str, Any] = {
            "time_limit_s": time_limit,
            "solution_limit": solution_limit,
            "seed": seed,
            "backend": backend,
            "max_snap_m": max_snap_m,
            "zone_orders": zone_orders,
        }
        result: api.Plan | PartitionedPlan
        if partition is not None:
            from fleetroute.distributed.partition import plan_partitioned

            result = plan_partitioned(
                orders, day.vehicles, by=partition, scheduler=scheduler, n_workers=dask_workers,
                progress=status, workers=workers or 1, **day.kwargs(), **search,
            )  # fmt: skip
        else:
            result = api.plan(
                orders, day.vehicles, **day.kwargs(), workers=workers, locks=locks,
                progress=status, **search,
            )  # fmt: skip
        if views:
            status("drawing the views")
        write_plan(result, out_dir, views=_views(result, road_map, views))
        status("")
    if as_json:
        click.echo(json.dumps(_plan_json(result, out_dir), indent=1))
    if quiet or as_json:
        return
    click.echo(
        f"map {day.map_path.name}: {road_map.n_nodes} nodes, {road_map.n_edges} edges "
        f"({t_map:.1f} s)"
    )
    plan_tables(result)
    _report(result, out_dir)
    if isinstance(result, PartitionedPlan):
        for name, part in result.tables.items():
            s = part.summary()
            click.echo(
                f"partition {name}: {s['assigned']} of {s['orders']} orders on "
                f"{s['vehicles_used']} of {len(part.vehicle_ids)} vehicles"
            )
        for name, error in result.failed.items():
            click.echo(f"partition {name}: FAILED: {error}", err=True)


def _plan_json(result: api.Plan | PartitionedPlan, out_dir: Path) -> dict[str, Any]:
    """What --json prints: summary, KPIs, one object per vehicle, unassigned orders."""
    from fleetroute.views import kpis, vehicle_table

    routes = result.routes_table()
    summary = result.summary()
    return {
        "summary": summary,
        "kpis": kpis(routes, summary),
        "vehicles": vehicle_table(routes).to_dict("records") if len(routes) else [],
        "unassigned": result.unassigned_table().to_dict("records"),
        "search": result.inputs.get("search", {}) if isinstance(result, api.Plan) else {},
        "out": str(out_dir),
    }


def _views(
    result: api.Plan | PartitionedPlan, road_map: RoadMap, names: tuple[str, ...]
) -> dict[str, str]:
    """The view files asked for with --format, by file name."""
    if not names:
        return {}
    from fleetroute.views import map_html, plan_geojson

    geojson = plan_geojson(result, road_map)
    out = {}
    if "geojson" in names:
        out["routes.geojson"] = json.dumps(geojson, ensure_ascii=False)
    if "html" in names:
        out["map.html"] = map_html(geojson, title=f"fleetroute plan: {road_map.source}")
    return out


def _report(result: api.Plan | PartitionedPlan, out_dir: Path) -> None:
    """The plan's summary line, its unassigned orders, and where it was written."""
    s = result.summary()
    click.echo(
        f"planned {s['assigned']} of {s['orders']} orders on {s['vehicles_used']} vehicles: "
        f"{s['total_distance_m'] / 1000:.1f} km, {s['total_duration_s'] / 3600:.1f} h, "
        f"on time {s['on_time_rate']:.0%}, cost {s['objective']:.2f} "
        f"(solver {s['solve_time_s']:.1f} s)"
    )
    if isinstance(result, api.Plan):
        from fleetroute.cli.show import describe_search

        click.echo(describe_search(result.inputs.get("search", {})))
    left = result.unassigned_table()
    for order_id, reason in zip(left["order_id"], left["reason"], strict=True):
        click.echo(f"  unassigned {order_id}: {reason}")
    click.echo(f"wrote {out_dir}/routes.csv, plan.json, unassigned.csv")


def _driven(routes: Path, orders: Path, day: Day) -> api.Plan:
    """The plan being driven, rebuilt from its routes.csv and the day's inputs."""
    current, _ = api.check_routes(routes, orders, day.vehicles, **day.kwargs())
    return current


#: Columns of the done-stops file of ``route replan``.
DONE_COLUMNS = (
    Column("order_id", "text", required=True),
    Column("kind", "text", default="dropoff"),
)
#: Columns of the vehicle-positions file of ``route replan``.
POSITION_COLUMNS = (
    Column("vehicle_id", "text", required=True),
    Column("lat", "lat", required=True),
    Column("lon", "lon", required=True),
)


@cli.command("replan")
@_driven_options
@click.option("--now", required=True, help="Time of the re-plan: HH:MM or ISO date-time.")
@click.option(
    "--done",
    "done_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Stops done (order_id[, kind pickup|dropoff]); default: as planned up to --now.",
)
@click.option(
    "--positions",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where vehicles are now (vehicle_id, lat, lon).",
)
@click.option(
    "--keep",
    type=click.Choice(["none", "vehicle", "sequence"]),
    default="none",
    show_default=True,
    help="Keep orders on their vehicle, or also in their planned order.",
)
@_search_options
@_out_dir("replan", "the new routes.csv, plan.json and unassigned.csv")
def replan_cmd(
    routes: Path,
    orders: Path,
    day: Day,
    now: str,
    done_path: Path | None,
    positions: Path | None,
    keep: str,
    time_limit: float,
    solution_limit: int | None,
    seed: int,
    backend: str,
    workers: int | None,
    out_dir: Path,
) -> None:
    """Re-plan the rest of the day of ROUTES (the routes.csv being driven) from --now.

    Delivered orders leave the plan, orders on board stay with their vehicle, vehicles
    start from their last stop (or --positions), and the rest is planned again.
    """
    current = _driven(routes, orders, day)
    done = picked = None
    if done_path is not None:
        table = read_table(done_path, DONE_COLUMNS, origin=current.problem.origin)
        bad = table.index[~table["kind"].isin(["pickup", "dropoff"])]
        if len(bad):
            raise InputError(
                str(done_path), "kind must be pickup or dropoff", row=int(bad[0]), column="kind"
            )
        done = table.loc[table["kind"] == "dropoff", "order_id"].tolist()
        picked = table.loc[table["kind"] == "pickup", "order_id"].tolist()
    where = None
    if positions is not None:
        table = read_table(positions, POSITION_COLUMNS, origin=current.problem.origin)
        where = {
            str(v): (float(a), float(b))
            for v, a, b in zip(table["vehicle_id"], table["lat"], table["lon"], strict=True)
        }
    result = api.replan(
        current,
        now=now,
        road_map=day.road_map,
        eta=day.eta,
        done=done,
        picked_up=picked or (),
        positions=where,
        keep=keep,
        time_limit_s=time_limit,
        solution_limit=solution_limit,
        seed=seed,
        backend=backend,
        workers=workers,
    )
    write_plan(result, out_dir)
    _report(result, out_dir)


@cli.command("insert")
@_driven_options
@click.option(
    "--new",
    "new_orders",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="New orders (orders.csv columns), put in one by one where each costs least.",
)
@_out_dir("insert", "the new routes.csv, plan.json and unassigned.csv")
def insert_cmd(
    routes: Path,
    orders: Path,
    day: Day,
    new_orders: Path,
    out_dir: Path,
) -> None:
    """Add NEW orders to ROUTES (a routes.csv) without reshuffling the other stops."""
    current = _driven(routes, orders, day)
    table = read_orders(new_orders, origin=current.problem.origin, name=str(new_orders))
    raw = pd.read_csv(new_orders, dtype=str, keep_default_na=False)
    result = current
    for row in range(len(table)):
        result = api.insert_order(result, raw.iloc[[row]], road_map=day.road_map, eta=day.eta)
        oid = raw["order_id"].iloc[row]
        i = result.problem.n_orders - 1
        if i in result.unassigned:
            click.echo(f"  {oid}: not inserted: {result.unassigned[i]}")
        else:
            vehicle = next(r.vehicle for r in result.routes if i in r.orders)
            click.echo(f"  {oid}: on vehicle {result.problem.vehicle_id[vehicle]}")
    write_plan(result, out_dir)
    _report(result, out_dir)


@cli.group("map")
def map_group() -> None:
    """Make or fetch road maps."""


@map_group.command("synth")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--nodes",
    type=click.IntRange(min=4),
    default=2500,
    show_default=True,
    help="About how many intersections.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--center", type=LAT_LON, default="52.37,4.89", show_default=True)
def synth_cmd(out: Path, nodes: int, seed: int, center: tuple[float, float]) -> None:
    """Write a synthetic city to OUT (GraphML that OSMnx loads)."""
    write_synthetic_city(out, nodes, seed=seed, center=center)  # type: ignore[arg-type]
    click.echo(f"wrote {out}")


@map_group.command("fetch")
@click.argument("place")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def fetch_cmd(place: str, out: Path) -> None:
    """Download the drivable roads of PLACE with OSMnx and save them to OUT (.graphml).

    Needs network access (OpenStreetMap's Overpass API); planning itself never does.
    """
    import osmnx as ox

    G = ox.graph_from_place(place, network_type="drive")
    ox.save_graphml(G, out)
    click.echo(f"wrote {out}: {len(G)} nodes")


@map_group.command("prepare")
@click.argument("map_file", type=click.Path(dir_okay=False, path_type=Path))
def prepare_cmd(map_file: Path) -> None:
    """Load MAP_FILE into the map cache and build its contraction hierarchy.

    Done once per map (about 25 s for a 200k-node city); every later plan on the map
    computes its matrices over the hierarchy. `route plan` builds it by itself for days
    with 1,000 places or more.
    """
    from fleetroute.maps import load

    road_map = load(map_file)
    t0 = time.perf_counter()
    hierarchy = road_map.hierarchy()
    click.echo(
        f"{map_file}: {road_map.n_nodes:,} nodes, {road_map.n_edges:,} edges; hierarchy of "
        f"{hierarchy.n_edges:,} edges ready in {time.perf_counter() - t0:.1f} s "
        f"(cached in {road_map.hierarchy_path.parent})"
    )


_MAP = click.option(
    "--map",
    "map_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The road map the history was driven on.",
)
_TRIPS = click.option(
    "--trips",
    required=True,
    type=click.Path(path_type=Path),
    help="trips.csv: driven legs with their departure time (CSV or Parquet, or a folder "
    "of them: one partition per file).",
)
_STOPS = click.option(
    "--stops",
    required=True,
    type=click.Path(path_type=Path),
    help="stops.csv: shop and drop-off events (CSV or Parquet, or a folder of them: one "
    "partition per file).",
)
_MODEL = click.option(
    "--model",
    "model_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="An ETA model folder made by `route eta train`.",
)


@cli.group("eta")
def eta_group() -> None:
    """Train, apply and check the learned ETA model."""


@eta_group.command("train")
@_MAP
@_TRIPS
@_STOPS
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the model bundle (LightGBM text models + manifest.json).",
)
@click.option(
    "--quantile",
    "quantiles",
    type=click.FloatRange(0.01, 0.99),
    multiple=True,
    help="Quantiles to learn besides the median (default 0.9); repeatable.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--last-days",
    type=click.IntRange(min=1),
    help="Train on the latest N days of the history only (retraining after drift).",
)
@click.option(
    "--dask",
    "use_dask",
    is_flag=True,
    help="Train with lightgbm.dask on a Dask cluster, features computed per partition on "
    "the workers (a local cluster unless --scheduler is given).",
)
@_dask_options
def eta_train_cmd(
    map_path: Path,
    trips: Path,
    stops: Path,
    out_dir: Path,
    quantiles: tuple[float, ...],
    seed: int,
    last_days: int | None,
    use_dask: bool,
    scheduler: str | None,
    dask_workers: int | None,
) -> None:
    """Learn travel and shop/drop-off times from history; write the model bundle."""
    from fleetroute.cli.show import Status

    distributed = use_dask or scheduler is not None or dask_workers is not None
    with Status() as status:
        status(f"loading map {map_path.name}")
        road_map = load_map(map_path)
        where = "on Dask" if distributed else "here"
        status(f"computing features and training the LightGBM boosters {where}")
        model = api.train_eta(
            road_map,
            trips,
            stops,
            quantiles=(0.5, *(quantiles or (0.9,))),
            seed=seed,
            last_days=last_days,
            distributed=distributed,
            scheduler=scheduler,
            n_workers=dask_workers,
        )
        status("")
    _atomic_dir(out_dir, model.save)
    m = model.metrics_
    share = f"{model.validation_share:.0%}"
    travel, free = m["travel"]["mae_s"], m["baseline"]["travel"]["mae_s"]
    click.echo(
        f"trained on {trips.name} and {stops.name}; validation (latest {share}): "
        f"travel MAE {travel:.0f} s (free-flow {free:.0f} s), "
        f"service MAE {m['service']['mae_s']:.0f} s"
    )
    click.echo(f"wrote {out_dir}")


@eta_group.command("monitor")
@click.option(
    "--model",
    "model_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The model bundle in service.",
)
@_MAP
@_TRIPS
@_STOPS
@click.option(
    "--threshold",
    type=click.FloatRange(min=1.0),
    default=1.25,
    show_default=True,
    help="A day drifts when its MAE exceeds the training MAE by this factor.",
)
@_out_dir("monitor", "monitor.json, by_day.csv, by_hour.csv and error_trend.png")
def eta_monitor_cmd(
    model_dir: Path, map_path: Path, trips: Path, stops: Path, threshold: float, out_dir: Path
) -> None:
    """How the model does on actuals that came after training: error by day and hour
    against its training error, drift, and whether to retrain. Drift is not an error:
    the exit status is 0 either way (read `drift` in monitor.json)."""
    report = api.monitor_eta(model_dir, map_path, trips, stops, threshold=threshold)

    def write(tmp: Path) -> None:
        plot = None
        try:
            from fleetroute.eta_model.monitor import plot_trend

            plot = plot_trend(tmp / "error_trend.png", report)
        except ImportError:  # matplotlib is optional (extra "plot")
            pass
        report["by_day"].to_csv(tmp / "by_day.csv", index=False)
        report["by_hour"].to_csv(tmp / "by_hour.csv", index=False)
        doc = {k: v for k, v in report.items() if k not in ("by_day", "by_hour")}
        doc["by_day"] = json.loads(report["by_day"].to_json(orient="records"))
        doc["plot"] = plot.name if plot else None
        (tmp / "monitor.json").write_text(json.dumps(doc, indent=1) + "\n")

    _atomic_dir(out_dir, write)
    ref = report["reference"]
    click.echo(
        f"training error: travel MAE {ref['travel_mae_s']:.0f} s, "
        f"service MAE {ref['service_mae_s']:.0f} s"
    )
    for row in report["by_day"].to_dict("records"):
        flag = "  DRIFT" if row["drift"] else ""
        click.echo(
            f"  {row['day']}: {row['trips']} trips, travel MAE {row['travel_mae_s']:.0f} s "
            f"({row['travel_ratio']:.2f}x), service {row['service_ratio']:.2f}x, "
            f"P90 coverage {row['p90_coverage']:.0%}{flag}"
        )
    click.echo(report["verdict"])
    click.echo(f"wrote {out_dir}")


@eta_group.command("predict")
@_MODEL
@_MAP
@_TRIPS
@_STOPS
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
def eta_predict_cmd(
    model_dir: Path, map_path: Path, trips: Path, stops: Path, out_dir: Path
) -> None:
    """Write what the model expects each trip and stop to take: DIR/trips.csv, DIR/stops.csv."""
    road_map = load_map(map_path)
    t, s = api.predict_eta(model_dir, road_map, trips, stops)

    def write(folder: Path) -> None:
        t.to_csv(folder / "trips.csv", index=False)
        s.to_csv(folder / "stops.csv", index=False)

    _atomic_dir(out_dir, write)
    click.echo(f"wrote {out_dir}/trips.csv ({len(t)} rows) and stops.csv ({len(s)} rows)")


@eta_group.command("evaluate")
@_MODEL
@_MAP
@_TRIPS
@_STOPS
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write all metrics (overall and by hour) to this JSON file.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save a PNG: predicted vs actual, error by hour (needs fleetroute[plot]).",
)
def eta_evaluate_cmd(
    model_dir: Path,
    map_path: Path,
    trips: Path,
    stops: Path,
    json_path: Path | None,
    plot_path: Path | None,
) -> None:
    """Error of the model and of the free-flow baseline on a history with actual durations."""
    import importlib.util
    import json

    if plot_path is not None and importlib.util.find_spec("matplotlib") is None:
        raise InputError("--plot", "needs matplotlib: pip install 'fleetroute[plot]'")
    road_map = load_map(map_path)
    result = api.evaluate_eta(model_dir, road_map, trips, stops, plot=plot_path)
    t, s, b = result["travel"], result["service"], result["baseline"]
    click.echo(f"{'':9}{'MAE s':>8}{'MAPE':>8}{'P90 cov':>9}")
    click.echo(f"{'travel':9}{t['mae_s']:>8.1f}{t['mape']:>8.1%}{t.get('p90_coverage', 0):>9.1%}")
    click.echo(f"{'  free':9}{b['travel']['mae_s']:>8.1f}{b['travel']['mape']:>8.1%}{'':>9}")
    click.echo(f"{'service':9}{s['mae_s']:>8.1f}{s['mape']:>8.1%}{s.get('p90_coverage', 0):>9.1%}")
    click.echo(f"{'  default':9}{b['service']['mae_s']:>8.1f}{b['service']['mape']:>8.1%}{'':>9}")
    click.echo("travel MAE by departure hour (model / free-flow):")
    for hour, row in result["by_hour"].items():
        click.echo(f"  {hour}:00 {row['model']['mae_s']:>7.0f} / {row['baseline']['mae_s']:>7.0f}")
    if plot_path is not None:
        click.echo(f"wrote {plot_path}")
    if json_path is not None:
        tmp = json_path.with_name(f".{json_path.name}.tmp")
        json_path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        tmp.replace(json_path)
        click.echo(f"wrote {json_path}")


@cli.group("simulate")
def simulate_group() -> None:
    """Simulated history and orders from a documented true world (no real data needed)."""


@simulate_group.command("history")
@click.option("--map", "map_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--days", type=click.IntRange(min=1), default=28, show_default=True)
@click.option("--trips-per-day", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--stops-per-day", type=click.IntRange(min=1), default=1500, show_default=True)
@click.option(
    "--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2026-01-05", show_default=True
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
def simulate_history_cmd(
    map_path: Path,
    days: int,
    trips_per_day: int,
    stops_per_day: int,
    start: datetime,
    seed: int,
    out_dir: Path,
) -> None:
    """Write trips.csv, stops.csv and stores.csv of DAYS days of simulated deliveries."""
    from fleetroute.simulator.world import simulate_history

    road_map = load_map(map_path)
    _atomic_dir(
        out_dir,
        lambda folder: simulate_history(
            road_map,
            folder,
            days=days,
            trips_per_day=trips_per_day,
            stops_per_day=stops_per_day,
            start=start.date(),
            seed=seed,
        ),
    )
    click.echo(f"wrote {out_dir}/trips.csv, stops.csv, stores.csv ({days} days)")


@simulate_group.command("orders")
@click.option("--map", "map_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--stores", type=click.Path(dir_okay=False, path_type=Path), help="stores.csv to shop at."
)
@click.option("--orders", "n_orders", type=click.IntRange(min=1), default=200, show_default=True)
@click.option(
    "--window",
    "window_h",
    type=click.IntRange(1, 8),
    default=2,
    show_default=True,
    help="Delivery window width, hours.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
def simulate_orders_cmd(
    map_path: Path, stores: Path | None, n_orders: int, window_h: int, seed: int, out_path: Path
) -> None:
    """Write one day of orders (orders.csv) on the map."""
    import pandas as pd

    from fleetroute.simulator.world import simulate_orders

    road_map = load_map(map_path)
    store_table = (
        pd.read_csv(stores) if stores else pd.DataFrame(columns=["store_id", "lat", "lon"])
    )
    orders = simulate_orders(road_map, store_table, n_orders=n_orders, window_h=window_h, seed=seed)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    orders.to_csv(tmp, index=False)
    tmp.replace(out_path)
    click.echo(f"wrote {out_path} ({n_orders} orders)")


@cli.group("bench")
def bench_group() -> None:
    """Benchmarks of the routing core."""


@bench_group.command("vrplib")
@click.argument(
    "instances", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@_search_options
@click.option(
    "--json",
    "json_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the results (a JSON list, one object per instance) here.",
)
def bench_vrplib_cmd(
    instances: tuple[Path, ...],
    time_limit: float,
    solution_limit: int | None,
    seed: int,
    backend: str,
    workers: int | None,
    json_path: Path,
) -> None:
    """Solve standard instances: Solomon/Homberger and Li & Lim text files, CVRPLIB .vrp."""
    import json

    results = api.bench_vrplib(
        list(instances),
        time_limit_s=time_limit,
        solution_limit=solution_limit,
        seed=seed,
        backend=backend,
        workers=workers,
    )
    json_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = json_path.with_name(f".{json_path.name}.tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    tmp.replace(json_path)
    for r in results:
        ok = "feasible" if r["feasible"] else "INFEASIBLE"
        click.echo(
            f"{r['instance']:14} cost {r['cost']:>12.2f}  vehicles {r['vehicles']:>3}  {ok}  "
            f"{r['time_s']:.1f} s"
        )
    click.echo(f"wrote {json_path}")


@bench_group.command("suite")
@click.option(
    "--scenarios",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("benchmarks/scenarios.toml"),
    show_default=True,
    help="The versioned scenarios file.",
)
@click.option(
    "--profile",
    default="quick",
    show_default=True,
    help="Which scenarios: quick (about 2 minutes, CI's smoke test) or full.",
)
@click.option(
    "--scenario",
    "names",
    multiple=True,
    metavar="NAME",
    help="Run only this scenario of the file, whatever the profile (repeatable).",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, path_type=Path),
    help="An earlier run (its folder or results.json): report.md says what got worse.",
)
@_out_dir("bench-suite", "results.json, results.csv, report.md and plots")
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("benchmarks/.cache"),
    show_default=True,
    help="Where generated cities are kept between runs.",
)
def bench_suite_cmd(
    scenarios: Path,
    profile: str,
    names: tuple[str, ...],
    baseline: Path | None,
    out_dir: Path,
    cache: Path,
) -> None:
    """Plan scenario days on synthetic cities; record stage times, memory, cost, on-time
    rates (free-flow and ETA model, replayed in the simulated true world) and model error.

    Slower or worse than the baseline is reported, never an error: only a scenario that
    ends without a plan (or crashes) makes the exit status 1.
    """
    from fleetroute.suite import compare, load_scenarios, read_results, run_suite

    chosen = load_scenarios(scenarios, profile, list(names))
    before = read_results(baseline) if baseline is not None else None
    what = f"profile {profile}" if not names else "the named scenarios"
    click.echo(f"{len(chosen)} scenarios of {what} from {scenarios}")
    table = run_suite(chosen, out_dir, cache=cache, echo=click.echo, baseline=before)
    if before is not None:
        for r in compare(table, before).to_dict("records"):
            if r["worse"]:
                click.echo(f"worse than the baseline: {r['scenario']}: {r['worse']}")
    click.echo(f"wrote {out_dir}/report.md, results.json, results.csv")
    failed = int((table["error"] != "").sum())
    if failed:  # every scenario must end with a plan; slow or costly is not a failure
        raise click.exceptions.Exit(1)


def _fleet(
    size: int | None,
    depot: tuple[float, float] | None,
    capacity: int | None,
    shift: tuple[int, int] | None,
) -> FleetSpec | None:
    """The shorthand fleet of --fleet-size/--depot/--capacity/--shift, if given."""
    if size is None and depot is None:
        return None
    if size is None or depot is None:
        raise InputError("--fleet-size", "the shorthand fleet needs both --fleet-size and --depot")
    return FleetSpec(size=size, depot=depot, capacity=capacity, shift=shift or DEFAULT_SHIFT_S)


def _eta(model_dir: Path | None, road_map: RoadMap, quantile: float) -> LearnedEta | None:
    """The learned ETA provider of --eta-model/--eta-quantile (None: free-flow)."""
    if model_dir is None:
        return None
    from fleetroute.eta_model.learned import LearnedEta

    try:
        return LearnedEta.load(model_dir, road_map, quantile=quantile)
    except ModelBundleError:
        raise
    except ValueError as exc:  # a quantile the model did not learn
        raise InputError("--eta-quantile", str(exc)) from None


@cli.command("batch")
@click.argument("orders_dir", type=click.Path(file_okay=False, path_type=Path))
@_day_options
@_search_options
@_out_dir("batch", "one folder per order file, and batch.json")
@_dask_options
def batch_cmd(
    orders_dir: Path,
    day: Day,
    time_limit: float,
    solution_limit: int | None,
    seed: int,
    backend: str,
    workers: int | None,
    out_dir: Path,
    scheduler: str | None,
    dask_workers: int | None,
) -> None:
    """Plan every order file of ORDERS_DIR (*.csv, one day or scenario each) as one Dask
    job: OUT/<file name>/ gets the usual files. Rerunning skips the days already planned;
    a day that fails is named and the others still complete (exit status 1 then).
    The vehicles, stores and order files must be readable by the workers."""
    from fleetroute.distributed.batch import order_files, plan_batch

    days = plan_batch(
        order_files(orders_dir),
        out_dir,
        scheduler=scheduler,
        n_workers=dask_workers,
        vehicles=day.vehicles,
        **day.kwargs(),
        time_limit_s=time_limit,
        solution_limit=solution_limit,
        seed=seed,
        backend=backend,
        workers=workers or 1,
    )
    for d in days:
        if d.status == "planned":
            s = d.summary
            click.echo(f"{d.name}: planned {s['assigned']} of {s['orders']} orders -> {d.out}")
        elif d.status == "skipped":
            click.echo(f"{d.name}: already planned in {d.out} (skipped)")
        else:
            click.echo(f"{d.name}: FAILED: {d.error}", err=True)
    click.echo(f"wrote {out_dir}/batch.json")
    if any(d.status == "failed" for d in days):
        raise click.exceptions.Exit(1)


@cli.command("report")
@click.argument("plan_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--map",
    "map_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The map planned on: legs follow its roads (default: the folder's routes.geojson "
    "if there is one, else straight lines).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the page [default: PLAN_DIR/report.html].",
)
@click.option("--no-tiles", is_flag=True, help="No OpenStreetMap background tiles.")
def report_cmd(
    plan_dir: Path, map_path: Path | None, out_file: Path | None, no_tiles: bool
) -> None:
    """A one-page HTML report of a plan folder: KPIs, map, vehicle table, route timeline."""
    page = api.plan_report(plan_dir, road_map=map_path, tiles=not no_tiles)
    target = out_file or plan_dir / "report.html"
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    click.echo(f"wrote {target}")


@cli.command("check")
@_driven_options
@_out_dir("check", "the recomputed routes.csv and violations.csv")
def check_cmd(
    routes: Path,
    orders: Path,
    day: Day,
    out_dir: Path,
) -> None:
    """Audit ROUTES (routes.csv made elsewhere; times may be absent) without re-solving.

    Recomputes every ETA with the planner's travel and service times and lists each
    violation with its cause: late, over capacity, shift exceeded, pickup missing, not routed.
    With --eta-model, also writes risk.csv: each stop's chance of starting after its window.
    """
    audited, found = api.check_routes(routes, orders, day.vehicles, **day.kwargs())
    risk = None
    if day.eta is not None:
        inputs = {k: v for k, v in day.kwargs().items() if k != "eta"}
        risk = api.late_risk(routes, orders, day.vehicles, model=day.eta.model, **inputs)

    def write(folder: Path) -> None:
        audited.routes_table().to_csv(folder / "routes.csv", index=False)
        found.to_csv(folder / "violations.csv", index=False)
        if risk is not None:
            risk.to_csv(folder / "risk.csv", index=False)

    _atomic_dir(out_dir, write)
    s = audited.summary()
    click.echo(
        f"checked {s['assigned']} drop-offs on {s['vehicles_used']} vehicles: "
        f"{len(found)} violations, on time {s['on_time_rate']:.0%}"
    )
    for rec in found.head(20).to_dict("records"):
        who = f"{rec['vehicle_id'] or '-'} {rec['order_id'] or '-'}"
        click.echo(f"  {who}: {rec['violation']}: {rec['detail']}")
    if risk is not None:
        risky = risk[risk["p_late"] >= 0.5]
        click.echo(
            f"chance of lateness (ETA model): {len(risky)} stops more likely late than not, "
            f"mean {risk['p_late'].mean():.0%}; see risk.csv"
        )
    click.echo(
        f"wrote {out_dir}/routes.csv and violations.csv"
        + (" and risk.csv" if risk is not None else "")
    )


def _atomic_dir(out_dir: Path, fill: Callable[[Path], object]) -> None:
    """Fill a temporary folder beside ``out_dir`` and move its files in only when complete."""
    import os
    import shutil
    import tempfile

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fleetroute-", dir=out_dir.parent))
    try:
        fill(tmp)
        out_dir.mkdir(exist_ok=True)
        for item in tmp.iterdir():
            os.replace(item, out_dir / item.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
