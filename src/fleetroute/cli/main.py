"""The click commands of ``route``."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import click

from fleetroute import api
from fleetroute.cli.params import LAT_LON, SHIFT
from fleetroute.cli.runner import RouteGroup
from fleetroute.errors import InputError
from fleetroute.io.readers import DEFAULT_SHIFT_S, FleetSpec
from fleetroute.io.writers import write_plan
from fleetroute.maps import load as load_map
from fleetroute.maps import write_synthetic_city

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


@cli.command("plan")
@click.argument("orders", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--map",
    "map_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Road map: .osm, .osm.bz2, .osm.pbf or OSMnx .graphml.",
)
@click.option(
    "--vehicles",
    type=click.Path(dir_okay=False, path_type=Path),
    help="vehicles.csv; or use the --fleet-size shorthand.",
)
@click.option(
    "--fleet-size", type=click.IntRange(min=1), help="Shorthand: this many identical vehicles."
)
@click.option("--capacity", type=click.IntRange(min=0), help="Shorthand: capacity of each vehicle.")
@click.option(
    "--depot", type=LAT_LON, help="Shorthand: LAT,LON where every vehicle starts and ends."
)
@click.option(
    "--shift", type=SHIFT, help="Shorthand: working time HH:MM-HH:MM (default 00:00-23:59)."
)
@click.option(
    "--stores",
    type=click.Path(dir_okay=False, path_type=Path),
    help="stores.csv, needed when orders name a store_id.",
)
@click.option(
    "--date",
    "plan_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Plan date for HH:MM times (default: today).",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds the solver may search.",
)
@click.option(
    "--solution-limit",
    type=click.IntRange(min=1),
    help="Stop after this many improving solutions (repeatable results).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed, recorded in plan.json.")
@click.option(
    "--max-snap",
    "max_snap_m",
    type=click.FloatRange(min=1),
    default=api.MAX_SNAP_M,
    show_default=True,
    help="Metres from the nearest road beyond which an order is not planned.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Folder for routes.csv, plan.json and unassigned.csv.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
def plan_cmd(
    orders: Path,
    map_path: Path,
    vehicles: Path | None,
    fleet_size: int | None,
    capacity: int | None,
    depot: tuple[float, float] | None,
    shift: tuple[int, int] | None,
    stores: Path | None,
    plan_date: datetime | None,
    time_limit: float,
    solution_limit: int | None,
    seed: int,
    max_snap_m: float,
    out_dir: Path,
    quiet: bool,
) -> None:
    """Plan deliveries of ORDERS (orders.csv): which vehicle, what sequence, what times.

    Writes routes.csv (one row per stop), plan.json (summary, routes, unassigned orders
    with reasons, inputs) and unassigned.csv into --out.
    """
    fleet = None
    if fleet_size is not None or depot is not None:
        if fleet_size is None or depot is None:
            raise InputError(
                "--fleet-size", "the shorthand fleet needs both --fleet-size and --depot"
            )
        fleet = FleetSpec(
            size=fleet_size, depot=depot, capacity=capacity, shift=shift or DEFAULT_SHIFT_S
        )
    t0 = time.perf_counter()
    road_map = load_map(map_path)
    t_map = time.perf_counter() - t0
    result = api.plan(
        orders,
        vehicles,
        road_map=road_map,
        stores=stores,
        fleet=fleet,
        plan_date=plan_date.date() if plan_date else None,
        time_limit_s=time_limit,
        solution_limit=solution_limit,
        seed=seed,
        max_snap_m=max_snap_m,
    )
    write_plan(result, out_dir)
    if quiet:
        return
    s = result.summary()
    click.echo(
        f"map {map_path.name}: {road_map.n_nodes} nodes, {road_map.n_edges} edges ({t_map:.1f} s)"
    )
    click.echo(
        f"planned {s['assigned']} of {s['orders']} orders on {s['vehicles_used']} vehicles: "
        f"{s['total_distance_m'] / 1000:.1f} km, {s['total_duration_s'] / 3600:.1f} h, "
        f"on time {s['on_time_rate']:.0%}, cost {s['objective']:.2f} "
        f"(solver {s['solve_time_s']:.1f} s)"
    )
    for order_id, reason in result.unassigned_table().itertuples(index=False):
        click.echo(f"  unassigned {order_id}: {reason}")
    click.echo(f"wrote {out_dir}/routes.csv, plan.json, unassigned.csv")


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
