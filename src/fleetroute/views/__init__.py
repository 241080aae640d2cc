"""Views of a plan for people: GeoJSON, a self-contained HTML map, the plan report, KPIs."""

from __future__ import annotations

from typing import Any

import pandas as pd

from fleetroute.views.geojson import plan_geojson, routes_geojson, unassigned_places
from fleetroute.views.html import map_html, report_html
from fleetroute.views.summary import kpis, timeline_svg, vehicle_table

__all__ = [
    "kpis",
    "map_html",
    "plan_geojson",
    "plan_report",
    "report_html",
    "routes_geojson",
    "timeline_svg",
    "unassigned_places",
    "vehicle_table",
]


def plan_report(
    routes: pd.DataFrame,
    summary: dict[str, Any],
    unassigned: pd.DataFrame,
    geojson: dict[str, Any],
    *,
    title: str = "fleetroute plan report",
    tiles: bool = True,
) -> str:
    """The one-page HTML report of a plan from its routes table, plan.json summary,
    unassigned orders and GeoJSON."""
    return report_html(
        geojson,
        kpis=kpis(routes, summary),
        vehicles=vehicle_table(routes),
        timeline_svg=timeline_svg(routes),
        unassigned=unassigned[["order_id", "reason"]],
        title=title,
        tiles=tiles,
    )
