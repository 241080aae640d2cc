"""A plan as GeoJSON: road-following legs, stops with their times, depots, stores and the
orders left out.

Every feature has a ``feature`` property: ``leg`` (a LineString along the roads the
vehicle drives, through the map's edge shapes), ``stop`` (a Point per row of routes.csv
but start and end), ``depot``, ``store`` and ``unassigned`` (with its ``reason``). Legs and
stops carry their vehicle's ``colour``, the one the HTML views use.

Built from the routes table (routes.csv's columns), so a plan folder can be drawn again
later; with a map, legs follow the fastest roads, without one they are straight lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fleetroute.maps.roadmap import RoadMap
from fleetroute.routing.result import PlanResult

__all__ = ["plan_geojson", "routes_geojson", "vehicle_colours", "PALETTE", "UNASSIGNED_COLOUR"]

#: Route colours, in vehicle order (Tableau 10, then darker ones).
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#1f4e79",
    "#b35806", "#8c1c13", "#2a7f62", "#6b4c9a", "#8a6d00",
)  # fmt: skip
UNASSIGNED_COLOUR = "#8c8c8c"

_STOP_PROPS = (
    "vehicle_id", "seq", "kind", "order_id", "store_id", "arrival", "departure",
    "window_start", "window_end", "late_s", "load",
)  # fmt: skip


def vehicle_colours(vehicle_ids: list[str]) -> dict[str, str]:
    """Vehicle id -> colour, in the order given."""
    return {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(vehicle_ids)}


def _point(lat: float, lon: float, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
        "properties": {k: v.item() if isinstance(v, np.generic) else v for k, v in props.items()},
    }


def routes_geojson(
    routes: pd.DataFrame,
    *,
    road_map: RoadMap | None = None,
    unassigned: pd.DataFrame | None = None,
    skills: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A FeatureCollection (WGS84 lon/lat) of a routes table.

    Parameters
    ----------
    routes
        routes.csv's rows (``Plan.routes_table()`` or the file read back).
    road_map
        The map planned on: legs follow its fastest paths and edge shapes. Without it,
        legs are straight lines.
    unassigned
        ``order_id, reason, lat, lon`` of the orders left out (drawn grey).
    skills
        Order id -> the skills it needs (``;``-separated), shown on its stops.
    """
    table = routes.reset_index(drop=True)
    vids = list(dict.fromkeys(table["vehicle_id"].astype(str)))
    colours = vehicle_colours(vids)
    features: list[dict[str, Any]] = []
    lat = table["lat"].to_numpy(dtype=np.float64)
    lon = table["lon"].to_numpy(dtype=np.float64)
    vehicle = table["vehicle_id"].astype(str).to_numpy()
    same_vehicle = np.zeros(len(table), dtype=bool)
    same_vehicle[1:] = vehicle[1:] == vehicle[:-1]
    moved = np.zeros(len(table), dtype=bool)
    moved[1:] = (lat[1:] != lat[:-1]) | (lon[1:] != lon[:-1])
    ends = np.flatnonzero(same_vehicle & moved)  # each leg ends at one of these rows

    lines: list[tuple[np.ndarray, np.ndarray]]
    if road_map is not None and ends.size:
        node, _ = road_map.snap(lat, lon)
        paths = road_map.paths(node[ends - 1], node[ends])
        lines = [road_map.polyline(path) for path in paths]
    else:
        lines = [(np.zeros(0), np.zeros(0))] * ends.size
    seq = table["seq"].to_numpy(dtype=np.int64)
    travel = table["travel_s"].to_numpy(dtype=np.int64)
    distance = table["distance_m"].to_numpy(dtype=np.int64)
    for i, (path_lat, path_lon) in zip(ends.tolist(), lines, strict=True):
        # from the stop itself, along the roads, to the next stop itself
        coords = np.column_stack(
            [np.r_[lon[i - 1], path_lon, lon[i]], np.r_[lat[i - 1], path_lat, lat[i]]]
        )
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": np.round(coords, 7).tolist()},
                "properties": {
                    "feature": "leg",
                    "vehicle_id": vehicle[i],
                    "colour": colours[vehicle[i]],
                    "from_seq": int(seq[i - 1]),
                    "to_seq": int(seq[i]),
                    "departure": str(table["departure"].iat[i - 1]),
                    "arrival": str(table["arrival"].iat[i]),
                    "travel_s": int(travel[i]),
                    "distance_m": int(distance[i]),
                },
            }
        )

    depots: dict[tuple[float, float], list[str]] = {}
    for i in np.flatnonzero(table["kind"].to_numpy() == "start").tolist():
        depots.setdefault((float(lat[i]), float(lon[i])), []).append(str(vehicle[i]))
    for (dlat, dlon), ids in depots.items():
        features.append(_point(dlat, dlon, feature="depot", vehicle_ids=ids))
    for row in table.to_dict("records"):
        vid = str(row["vehicle_id"])
        if row["kind"] not in ("start", "end"):
            props = {k: row[k] for k in _STOP_PROPS}
            props = {k: "" if isinstance(v, float) and np.isnan(v) else v for k, v in props.items()}
            props["skills"] = (skills or {}).get(str(row["order_id"]), "")
            features.append(
                _point(row["lat"], row["lon"], feature="stop", colour=colours[vid], **props)
            )
    stores = table[table["kind"] == "pickup"].drop_duplicates("store_id")
    for row in stores.to_dict("records"):
        features.append(_point(row["lat"], row["lon"], feature="store", store_id=row["store_id"]))
    if unassigned is not None:
        for row in unassigned.dropna(subset=["lat", "lon"]).to_dict("records"):
            features.append(
                _point(row["lat"], row["lon"], feature="unassigned", order_id=row["order_id"],
                       reason=row["reason"], colour=UNASSIGNED_COLOUR)
            )  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def unassigned_places(plan: PlanResult) -> pd.DataFrame:
    """``order_id, reason, lat, lon`` of the plan's unassigned orders."""
    return plan.unassigned_places()


def plan_geojson(plan: PlanResult, road_map: RoadMap) -> dict[str, Any]:
    """The plan as GeoJSON, legs along the roads of ``road_map`` (the map it was planned on)."""
    table = plan.routes_table()
    p = getattr(plan, "problem", None)  # a partitioned plan has several: no skills shown
    skills = (
        {
            oid: ";".join(p.skill_labels(int(mask)))
            for oid, mask in zip(p.order_id, p.order_skills.tolist(), strict=True)
            if mask
        }
        if p is not None
        else {}
    )
    return routes_geojson(
        table, road_map=road_map, unassigned=unassigned_places(plan), skills=skills
    )
