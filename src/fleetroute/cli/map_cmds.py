"""``route map``: synthetic cities, downloads from OpenStreetMap, prepared maps."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from fleetroute import api
from fleetroute.api import write_synthetic_city
from fleetroute.cli.params import LAT_LON, OUT_FILE

if TYPE_CHECKING:
    pass
from fleetroute.cli.group import (
    cli,
)


@cli.group("map")
def map_group() -> None:
    """Make or fetch road maps."""


@map_group.command("synth")
@click.argument("out", type=OUT_FILE)
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
@click.argument("out", type=OUT_FILE)
def fetch_cmd(place: str, out: Path) -> None:
    """Download the drivable roads of PLACE with OSMnx and save them to OUT (.graphml).

    Needs network access (OpenStreetMap's Overpass API); planning itself never does.
    """
    nodes = api.fetch_map(place, out)
    click.echo(f"wrote {out}: {nodes} nodes")


@map_group.command("prepare")
@click.argument("map_file", type=click.Path(dir_okay=False, path_type=Path))
def prepare_cmd(map_file: Path) -> None:
    """Load MAP_FILE into the map cache and build its contraction hierarchy.

    Done once per map (about 25 s for a 200k-node city); every later plan on the map
    computes its matrices over the hierarchy. `route plan` builds it by itself for days
    with 1,000 places or more.
    """
    from fleetroute.api import load_map as load

    road_map = load(map_file)
    t0 = time.perf_counter()
    hierarchy = road_map.hierarchy()
    click.echo(
        f"{map_file}: {road_map.n_nodes:,} nodes, {road_map.n_edges:,} edges; hierarchy of "
        f"{hierarchy.n_edges:,} edges ready in {time.perf_counter() - t0:.1f} s "
        f"(cached in {road_map.hierarchy_path.parent})"
    )
