"""VROOM's JSON problem in, VROOM's solution format out, planned on our road map and ETAs,
so that a VROOM user can switch by changing a URL (README "The HTTP service" lists what is
and is not supported).

Times are VROOM's integers: relative seconds (a window ``[0, 14400]`` starts at the
horizon's start, taken as midnight) or, when any is above 10^8, UNIX timestamps (UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["VroomError", "vroom_tables", "vroom_solution"]

#: Times above this are UNIX timestamps, below it seconds from the horizon's start.
_ABSOLUTE = 10**8
#: The date relative times are planned on (any date: the map's ETAs do not depend on it
#: without a model; with one, a Monday).
_RELATIVE_DATE = date(2026, 1, 5)

_UNSUPPORTED = {
    "shipments": "shipments (pickup and delivery pairs) are not supported yet: send jobs",
    "matrices": "custom matrices are not used: fleetroute plans on its own road map",
    "matrix": "custom matrices are not used: fleetroute plans on its own road map",
}


class VroomError(ValueError):
    """A VROOM problem this endpoint cannot plan; its text is VROOM's ``error``."""


class _Clock:
    """VROOM integer times <-> the plan's date-times."""

    def __init__(self, times: list[int]) -> None:
        self.absolute = any(t > _ABSOLUTE for t in times)
        if self.absolute:
            first = datetime.fromtimestamp(min(t for t in times if t > _ABSOLUTE), UTC)
            self.day = first.date()
            self.zero = int(datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)
                            .timestamp())  # fmt: skip
        else:
            self.day, self.zero = _RELATIVE_DATE, 0

    def iso(self, t: int) -> str:
        start = datetime(self.day.year, self.day.month, self.day.day)
        return (start + timedelta(seconds=int(t) - self.zero)).isoformat(timespec="seconds")

    def back(self, text: str) -> int:
        start = datetime(self.day.year, self.day.month, self.day.day)
        return self.zero + int((datetime.fromisoformat(text) - start).total_seconds())


def _location(item: dict[str, Any], key: str, what: str) -> tuple[float, float]:
    where = item.get(key)
    if not (isinstance(where, list) and len(where) == 2):
        raise VroomError(f"{what} needs '{key}' as [lon, lat] (location indices need matrices)")
    lon, lat = (float(x) for x in where)
    return lat, lon


def _amounts(item: dict[str, Any], *keys: str) -> list[int]:
    for key in keys:
        if key in item:
            return [int(x) for x in item[key]]
    return []


def vroom_tables(problem: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, date, _Clock]:
    """orders and vehicles tables (SPEC columns) of a VROOM problem, the plan date and the
    clock that turns the plan's times back into VROOM's.

    Raises
    ------
    VroomError
        What is not supported, or malformed, in one line.
    """
    for key, why in _UNSUPPORTED.items():
        if problem.get(key):
            raise VroomError(why)
    jobs, vehicles = problem.get("jobs") or [], problem.get("vehicles") or []
    if not jobs:
        raise VroomError("no jobs")
    if not vehicles:
        raise VroomError("no vehicles")
    times = [int(t) for j in jobs for w in j.get("time_windows", []) for t in w]
    times += [int(t) for v in vehicles for t in v.get("time_window", [])]
    clock = _Clock(times)
    dims = max([len(_amounts(j, "delivery", "amount")) for j in jobs]
               + [len(v.get("capacity", [])) for v in vehicles] + [1])  # fmt: skip
    orders = []
    for j in jobs:
        if "id" not in j:
            raise VroomError("every job needs an id")
        if any(_amounts(j, "pickup")):
            raise VroomError(f"job {j['id']}: pickups at the customer are not supported yet")
        lat, lon = _location(j, "location", f"job {j['id']}")
        delivery = _amounts(j, "delivery", "amount") + [0] * dims
        row = {"order_id": str(j["id"]), "lat": lat, "lon": lon, "demand": delivery[0],
               "service_s": int(j.get("service", 0)) + int(j.get("setup", 0)),
               "priority": min(1000, 10 * int(j.get("priority", 0))),
               "skills": ";".join(f"s{s}" for s in j.get("skills", []))}  # fmt: skip
        row.update({f"demand_d{k}": delivery[k] for k in range(1, dims)})
        windows = j.get("time_windows") or []
        row["windows"] = ";".join(f"{clock.iso(a)}/{clock.iso(b)}" for a, b in windows)
        orders.append(row)
    fleet = []
    for v in vehicles:
        if "id" not in v:
            raise VroomError("every vehicle needs an id")
        if v.get("breaks"):
            raise VroomError(f"vehicle {v['id']}: breaks are not supported yet")
        if v.get("steps"):
            raise VroomError(f"vehicle {v['id']}: plan mode (steps) is not supported yet")
        lat, lon = _location(v, "start", f"vehicle {v['id']}")
        end = _location(v, "end", f"vehicle {v['id']}") if "end" in v else (lat, lon)
        costs = v.get("costs", {})
        row = {"vehicle_id": str(v["id"]), "depot_lat": lat, "depot_lon": lon,
               "end_lat": end[0], "end_lon": end[1],
               "fixed_cost": float(costs.get("fixed", 0)),
               "cost_per_hour": float(costs.get("per_hour", 3600)),
               "cost_per_km": float(costs.get("per_km", 0)),
               "skills": ";".join(f"s{s}" for s in v.get("skills", []))}  # fmt: skip
        capacity = [int(c) for c in v.get("capacity", [])]
        if capacity:
            capacity += [0] * (dims - len(capacity))
            row["capacity"] = capacity[0]
            row.update({f"capacity_d{k}": capacity[k] for k in range(1, dims)})
        if v.get("time_window"):
            row["shift_start"], row["shift_end"] = (clock.iso(t) for t in v["time_window"])
        for ours, theirs in (("max_stops", "max_tasks"), ("max_route_s", "max_travel_time"),
                             ("max_distance_m", "max_distance")):  # fmt: skip
            if theirs in v:
                row[ours] = int(v[theirs])
        fleet.append(row)
    as_text = {"orders": pd.DataFrame(orders), "vehicles": pd.DataFrame(fleet)}
    for name, table in as_text.items():
        table = table.astype(object).where(table.notna(), "").astype(str)
        table.attrs["source"] = f"vroom {name}"
        as_text[name] = table
    return as_text["orders"], as_text["vehicles"], clock.day, clock


def vroom_solution(
    routes: pd.DataFrame,
    unassigned: pd.DataFrame,
    vehicles: pd.DataFrame,
    orders: pd.DataFrame,
    clock: _Clock,
    seconds: dict[str, float],
) -> dict[str, Any]:
    """VROOM's solution object for a plan's routes.csv and unassigned tables."""
    load_cols = ["load", *sorted(c for c in routes.columns if c.startswith("load_d"))]
    extra = sorted(c for c in orders.columns if c.startswith("demand_d"))
    demand = {
        r["order_id"]: [int(r["demand"]), *(int(r[c] or 0) for c in extra)]
        for _, r in orders.iterrows()
    }
    rates = {
        str(r["vehicle_id"]): (float(r["fixed_cost"]), float(r["cost_per_hour"]),
                               float(r["cost_per_km"]))
        for _, r in vehicles.iterrows()
    }  # fmt: skip
    out_routes, totals = [], {"cost": 0, "service": 0, "duration": 0, "waiting_time": 0,
                              "distance": 0, "priority": 0}  # fmt: skip
    dims = len(next(iter(demand.values()), [0]))
    delivered_all = np.zeros(dims, dtype=np.int64)
    for vehicle, stops in routes.groupby("vehicle_id", sort=False):
        steps, travel, distance, service, waiting = [], 0, 0, 0, 0
        delivered = np.zeros(dims, dtype=np.int64)
        for _, s in stops.iterrows():
            travel += int(s["travel_s"])
            distance += int(s["distance_m"])
            kind = {"start": "start", "end": "end", "dropoff": "job", "break": "break"}.get(
                str(s["kind"])
            )
            if kind is None:
                continue
            step: dict[str, Any] = {
                "type": kind, "location": [float(s["lon"]), float(s["lat"])], "setup": 0,
                "service": int(s["service_s"]), "waiting_time": int(s["wait_s"]),
                "load": [int(s[c]) if str(s[c]) != "" else 0 for c in load_cols],
                "arrival": clock.back(str(s["arrival"])), "duration": travel,
                "distance": distance, "violations": [],
            }  # fmt: skip
            if kind == "job":
                step["id"] = step["job"] = _vroom_id(str(s["order_id"]))
                delivered += np.array(demand[str(s["order_id"])], dtype=np.int64)
            service += int(s["service_s"])
            waiting += int(s["wait_s"])
            steps.append(step)
        fixed, per_hour, per_km = rates[str(vehicle)]
        cost = round(fixed + per_hour * travel / 3600 + per_km * distance / 1000)
        out_routes.append({
            "vehicle": _vroom_id(str(vehicle)), "cost": cost, "delivery": delivered.tolist(),
            "amount": delivered.tolist(), "pickup": [0] * dims, "setup": 0, "service": service,
            "duration": travel, "waiting_time": waiting, "priority": 0, "distance": distance,
            "steps": steps, "violations": [],
        })  # fmt: skip
        delivered_all += delivered
        for key, value in (("cost", cost), ("service", service), ("duration", travel),
                           ("waiting_time", waiting), ("distance", distance)):  # fmt: skip
            totals[key] += value
    where = {str(r["order_id"]): [float(r["lon"]), float(r["lat"])] for _, r in orders.iterrows()}
    left = [{"id": _vroom_id(str(u["order_id"])), "type": "job",
             "location": where[str(u["order_id"])], "reason": str(u["reason"])}
            for _, u in unassigned.iterrows()]  # fmt: skip
    return {
        "code": 0,
        "summary": {**totals, "routes": len(out_routes), "unassigned": len(left),
                    "delivery": delivered_all.tolist(), "amount": delivered_all.tolist(),
                    "pickup": [0] * dims, "setup": 0, "violations": [],
                    "computing_times": {k: int(v * 1000) for k, v in seconds.items()}},
        "unassigned": left,
        "routes": out_routes,
    }  # fmt: skip


def _vroom_id(text: str) -> int | str:
    """VROOM ids are integers; ours are text that came from them."""
    try:
        return int(text)
    except ValueError:
        return text
