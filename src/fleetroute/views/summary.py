"""What a plan means in business terms, from its routes table: per-vehicle figures, the day's
KPIs and a timeline of each route (driving, waiting, service, breaks) as an SVG."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from fleetroute.views.geojson import vehicle_colours

__all__ = ["vehicle_table", "kpis", "timeline_svg"]


def _seconds(times: pd.Series, day: pd.Timestamp) -> np.ndarray:
    return np.asarray((pd.to_datetime(times) - day).dt.total_seconds(), dtype=np.float64)


def _day(routes: pd.DataFrame) -> pd.Timestamp:
    return pd.to_datetime(routes["arrival"]).min().normalize()


def vehicle_table(routes: pd.DataFrame) -> pd.DataFrame:
    """One row per used vehicle: stops, km, hours, busy share, most load, first/last stop.

    ``busy`` is the share of the route's time spent driving or serving (not waiting).
    """
    rows = []
    for vid, r in routes.groupby("vehicle_id", sort=False):
        stops = r[r["kind"].isin(["pickup", "dropoff"])]
        start = pd.to_datetime(r["departure"].iloc[0])
        end = pd.to_datetime(r["arrival"].iloc[-1])
        hours = (end - start).total_seconds() / 3600.0
        busy = (r["travel_s"].sum() + r["service_s"].sum()) / 3600.0
        rows.append(
            {
                "vehicle": vid,
                "stops": int((stops["kind"] == "dropoff").sum()),
                "pickups": int((stops["kind"] == "pickup").sum()),
                "km": round(float(r["distance_m"].sum()) / 1000.0, 1),
                "hours": round(hours, 2),
                "busy": f"{busy / hours:.0%}" if hours > 0 else "",
                "max load": int(r["load"].max()),
                "first stop": str(stops["arrival"].iloc[0])[11:16] if len(stops) else "",
                "last stop": str(stops["departure"].iloc[-1])[11:16] if len(stops) else "",
                "late": int((stops["late_s"] > 0).sum()),
            }
        )
    return pd.DataFrame(rows)


def kpis(routes: pd.DataFrame, summary: dict[str, Any]) -> dict[str, str]:
    """The day's KPIs: orders planned, on-time rate, cost and km per order, vehicles used,
    fleet utilisation (route hours over the fleet's shift hours) and the busy share of the
    route hours (driving or serving, not waiting)."""
    assigned = max(1, int(summary["assigned"]))
    busy = float(routes["travel_s"].sum() + routes["service_s"].sum())
    duration = float(summary.get("total_duration_s") or 0)
    utilisation = summary.get("fleet_utilisation")
    return {
        "orders planned": f"{summary['assigned']} of {summary['orders']}",
        "on time": f"{summary['on_time_rate']:.0%}",
        "cost per order": f"{summary['objective'] / assigned:.2f}",
        "km per order": f"{summary['total_distance_m'] / 1000 / assigned:.2f}",
        "vehicles used": str(summary["vehicles_used"]),
        "fleet utilisation": f"{utilisation:.0%}" if utilisation is not None else "n/a",
        "busy share": f"{busy / duration:.0%}" if duration > 0 else "n/a",
    }


def timeline_svg(routes: pd.DataFrame, *, width: int = 1000, row_h: int = 18) -> str:
    """A Gantt-style SVG: one row per vehicle, driving in its colour, waiting light grey,
    service dark grey, breaks hatched; hour ticks along the top."""
    if routes.empty:
        return "<p>No routes.</p>"
    day = _day(routes)
    arrive = _seconds(routes["arrival"], day)
    depart = _seconds(routes["departure"], day)
    t0 = np.floor(np.nanmin(arrive) / 3600) * 3600
    t1 = np.ceil(np.nanmax(depart) / 3600) * 3600
    label_w, top = 110, 22  # room for vehicle names on the left, hours on top
    span = max(t1 - t0, 3600.0)

    def x(t: float) -> float:
        return label_w + (t - t0) / span * (width - label_w - 30)

    vids = list(dict.fromkeys(routes["vehicle_id"].astype(str)))
    colours = vehicle_colours(vids)
    parts = [
        '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="3" height="6" fill="#555"/></pattern>'
    ]
    for h in range(int(t0 // 3600), int(t1 // 3600) + 1):
        xx = x(h * 3600.0)
        parts.append(f'<line x1="{xx:.1f}" y1="{top - 4}" x2="{xx:.1f}" '
                     f'y2="{top + len(vids) * row_h}" stroke="#ddd"/>')  # fmt: skip
        parts.append(f'<text x="{xx:.1f}" y="{top - 8}" font-size="10" '
                     f'text-anchor="middle">{h:02d}:00</text>')  # fmt: skip
    kinds = routes["kind"].to_numpy()
    wait = routes["wait_s"].to_numpy(dtype=np.float64)
    travel = routes["travel_s"].to_numpy(dtype=np.float64)
    vehicle = routes["vehicle_id"].astype(str).to_numpy()
    for row, vid in enumerate(vids):
        y = top + row * row_h
        parts.append(f'<text x="4" y="{y + row_h - 5}" font-size="11">{html.escape(vid)}</text>')
        for i in np.flatnonzero(vehicle == vid).tolist():
            if travel[i] > 0:
                parts.append(_bar(x(arrive[i] - travel[i]), x(arrive[i]), y, row_h,
                                  colours[vid], f"{vid}: driving"))  # fmt: skip
            if wait[i] > 0:
                parts.append(_bar(x(arrive[i]), x(arrive[i] + wait[i]), y, row_h, "#ddd",
                                  f"{vid}: waiting"))  # fmt: skip
            if depart[i] > arrive[i] + wait[i]:
                fill = "url(#hatch)" if kinds[i] == "break" else "#444"
                parts.append(_bar(x(arrive[i] + wait[i]), x(depart[i]), y, row_h, fill,
                                  f"{vid}: {kinds[i]}"))  # fmt: skip
    height = top + len(vids) * row_h + 4
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">' + "".join(parts) + "</svg>"
    )


def _bar(x0: float, x1: float, y: int, h: int, fill: str, title: str) -> str:
    return (
        f'<rect x="{x0:.1f}" y="{y + 2}" width="{max(x1 - x0, 0.5):.1f}" height="{h - 4}" '
        f'fill="{fill}"><title>{html.escape(title)}</title></rect>'
    )
