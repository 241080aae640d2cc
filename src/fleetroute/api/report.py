"""The one-page HTML report of a plan folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from fleetroute.errors import InputError
from fleetroute.io.cells import restore_table
from fleetroute.maps.roadmap import RoadMap

if TYPE_CHECKING:
    pass

from fleetroute.api._common import (
    road_map_of,
)


def plan_report(
    plan_dir: str | Path, *, road_map: RoadMap | str | Path | None = None, tiles: bool = True
) -> str:
    """The one-page HTML report of a plan folder (routes.csv, plan.json, unassigned.csv):
    KPIs, the map, the vehicle table, each route's timeline and the unassigned orders.

    The map's legs follow the roads of ``road_map`` when it is given; otherwise those of
    the folder's routes.geojson (``route plan --format geojson``) when there is one; else
    they are straight lines between stops.
    """
    import json

    from fleetroute.views import plan_report as render
    from fleetroute.views import routes_geojson

    folder = Path(plan_dir)
    paths = {name: folder / name for name in ("routes.csv", "plan.json", "unassigned.csv")}
    for path in paths.values():
        if not path.is_file():
            raise InputError(str(path), "no such file (is this a folder `route plan` wrote?)")
    routes = restore_table(
        pd.read_csv(
            paths["routes.csv"], dtype={"order_id": str, "store_id": str}, keep_default_na=False
        )
    )
    unassigned = restore_table(
        pd.read_csv(paths["unassigned.csv"], dtype=str, keep_default_na=False)
    )
    try:
        summary = json.loads(paths["plan.json"].read_text())["summary"]
    except (ValueError, KeyError):
        raise InputError(str(paths["plan.json"]), "is not a plan.json (no summary)") from None
    if road_map is not None:
        road = road_map_of(road_map)
        geojson = routes_geojson(routes, road_map=road)
    elif (folder / "routes.geojson").is_file():
        geojson = json.loads((folder / "routes.geojson").read_text())
    else:
        geojson = routes_geojson(routes)
    return render(
        routes, summary, unassigned, geojson, title=f"Plan report: {folder.name}", tiles=tiles
    )
