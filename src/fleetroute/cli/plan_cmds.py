"""Plan a day and work with plans: ``route plan``, ``replan``, ``insert``, ``check``,
``report`` and ``batch``."""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pandas as pd

from fleetroute import api
from fleetroute.api import (
    PartitionedPlan,
    RoadMap,
    SolveOptions,
    read_orders,
    write_csv,
    write_plan,
)
from fleetroute.cli.params import OUT_FILE, VIEWS, WINDOWS
from fleetroute.errors import InputError

if TYPE_CHECKING:
    pass
from fleetroute.cli.group import (
    Day,
    _atomic_dir,
    _dask_options,
    _day_options,
    _driven_options,
    _out_dir,
    _search_options,
    cli,
)


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
    # Ctrl-C ends the search with the best plan so far (partitions run on Dask: not there)
    stoppable = api.stop_on_ctrl_c(_stopping) if partition is None else nullcontext()
    with stoppable, Status(enabled=not (quiet or as_json)) as status:
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
        result: api.PlanResult
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
    if isinstance(result, api.Plan) and result.inputs.get("search", {}).get("stopped_early"):
        click.echo("stopped early (Ctrl-C): wrote the best plan found so far", err=True)
    if quiet or as_json:  # failures still get their line, on stderr
        for name, error in getattr(result, "failed", {}).items():
            click.echo(f"partition {name}: FAILED: {error}", err=True)
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


def _stopping() -> None:
    click.echo(
        "\nstopping the search: the best plan so far will be written (Ctrl-C again to abort)",
        err=True,
    )


def _plan_json(result: api.PlanResult, out_dir: Path) -> dict[str, Any]:
    """What --json prints: summary, KPIs, one object per vehicle, unassigned orders."""
    from fleetroute.api import kpis, vehicle_table

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


def _views(result: api.PlanResult, road_map: RoadMap, names: tuple[str, ...]) -> dict[str, str]:
    """The view files asked for with --format, by file name."""
    if not names:
        return {}
    from fleetroute.api import map_html, plan_geojson

    geojson = plan_geojson(result, road_map)
    out = {}
    if "geojson" in names:
        out["routes.geojson"] = json.dumps(geojson, ensure_ascii=False)
    if "html" in names:
        out["map.html"] = map_html(geojson, title=f"fleetroute plan: {road_map.source}")
    return out


def _report(result: api.PlanResult, out_dir: Path) -> None:
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
    origin = current.problem.origin
    done, picked = (None, None) if done_path is None else api.read_done(done_path, origin=origin)
    where = None if positions is None else api.read_positions(positions, origin=origin)
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


@cli.command("slots")
@_driven_options
@click.option(
    "--new",
    "new_orders",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="New orders (orders.csv columns; their own windows are ignored).",
)
@click.option(
    "--windows",
    type=WINDOWS,
    help="Candidate windows [default: two-hour windows across the shifts].",
)
@_out_dir("slots", "slots.csv")
def slots_cmd(
    routes: Path,
    orders: Path,
    day: Day,
    new_orders: Path,
    windows: list[tuple[int, int]] | None,
    out_dir: Path,
) -> None:
    """Which windows can each NEW order still get in ROUTES (a routes.csv), at what cost?

    A window is offered only when inserting the order with it keeps every planned stop on
    time and every constraint (as `route insert` would book it).
    """
    current = _driven(routes, orders, day)
    table = api.slots(current, new_orders, road_map=day.road_map, eta=day.eta, windows=windows)
    _atomic_dir(out_dir, lambda folder: write_csv(table, folder / "slots.csv"),
                replaces=("slots.csv",))  # fmt: skip
    for order_id, rows in table.groupby("order_id", sort=False):
        offered = rows[rows["feasible"]]
        spans = ", ".join(
            f"{str(start)[11:16]}-{str(end)[11:16]} (+{float(cost):.2f}"
            + ("" if pd.isna(sure) else f", {float(sure):.0%} on time")
            + ")"
            for start, end, cost, sure in zip(
                offered["window_start"],
                offered["window_end"],
                offered["marginal_cost"],
                offered["p_on_time"],
                strict=True,
            )
        )
        click.echo(f"  {order_id}: {len(offered)} of {len(rows)} windows: {spans or 'none'}")
    click.echo(f"wrote {out_dir}/slots.csv")


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
    raw = api.restore_table(pd.read_csv(new_orders, dtype=str, keep_default_na=False))
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
    type=OUT_FILE,
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
        write_csv(audited.routes_table(), folder / "routes.csv")
        write_csv(found, folder / "violations.csv")
        if risk is not None:
            write_csv(risk, folder / "risk.csv")

    _atomic_dir(out_dir, write, replaces=("routes.csv", "violations.csv", "risk.csv"))
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
