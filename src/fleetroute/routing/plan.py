"""The one result type: a Plan, and its views (routes table, summary, plan.json dict).

A Plan stores sequences and reasons only. Times come from :func:`schedule`, and the
summary is derived from the routes table, never stored beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from fleetroute.routing.problem import Problem, per_store, reduce_frozen
from fleetroute.routing.punctual import forecast_on_time
from fleetroute.routing.schedule import PICKUP, Route, RouteSchedule, route_cost, schedule
from fleetroute.times import format_time

__all__ = ["Plan", "ROUTE_COLUMNS", "routes_json"]

#: The columns of routes.csv, in SPEC.md order.
ROUTE_COLUMNS = (
    "vehicle_id",
    "seq",
    "kind",
    "order_id",
    "store_id",
    "lat",
    "lon",
    "arrival",
    "departure",
    "wait_s",
    "service_s",
    "travel_s",
    "distance_m",
    "load",
    "window_start",
    "window_end",
    "late_s",
)


@dataclass(frozen=True, eq=False)
class Plan:
    """Routes for the used vehicles, the orders left out and why, and how it was made.

    Attributes
    ----------
    problem
        The problem this plan answers.
    routes
        One :class:`Route` per used vehicle.
    unassigned
        Order index -> plain-words reason.
    solve_time_s
        Wall time of the solver.
    inputs
        What was planned with (map, model, options), for plan.json.
    order_extra
        Extra order columns to pass through to routes.csv, one row per order index.
    timings
        Seconds per stage of making the plan (read, snap, matrix, model, search).
    """

    problem: Problem
    routes: tuple[Route, ...]
    unassigned: Mapping[int, str]
    solve_time_s: float = 0.0
    inputs: Mapping[str, Any] = field(default_factory=dict)
    order_extra: pd.DataFrame | None = None
    timings: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "unassigned", MappingProxyType(dict(self.unassigned)))
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))
        object.__setattr__(self, "timings", MappingProxyType(dict(self.timings)))
        seen: set[int] = set()
        for route in self.routes:
            dropped = {o for o in route.orders if o >= 0} - {
                o for k, o in zip(route.kinds, route.orders, strict=True) if k == PICKUP
            }
            if seen & dropped:
                raise ValueError("an order is delivered by two routes")
            seen |= dropped
        if seen & set(self.unassigned):
            raise ValueError("an order is both routed and unassigned")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return reduce_frozen(self)

    @cached_property
    def schedules(self) -> tuple[RouteSchedule, ...]:
        """The schedule of every route (computed once)."""
        return tuple(schedule(self.problem, r) for r in self.routes)

    @cached_property
    def _table(self) -> pd.DataFrame:
        p = self.problem
        frames = []
        for sched in self.schedules:
            r = sched.route
            n = len(sched.kind)
            orders = np.array([-1, *r.orders, -1], dtype=np.int64)
            stores = np.where(orders >= 0, p.order_store[np.maximum(orders, 0)], -1)
            is_pickup = np.array([k == PICKUP for k in sched.kind])
            win_end = np.where(is_pickup, per_store(p.store_close_s, stores, 0), sched.window_end_s)
            win_start = np.where(
                is_pickup, per_store(p.store_open_s, stores, 0), sched.window_start_s
            )
            frames.append(
                pd.DataFrame(
                    {
                        "vehicle_id": p.vehicle_id[r.vehicle],
                        "seq": np.arange(n),
                        "kind": sched.kind,
                        "order_id": [p.order_id[o] if o >= 0 else "" for o in orders],
                        "store_id": [p.store_id[s] if s >= 0 else "" for s in stores],
                        "lat": p.loc_lat[sched.loc],
                        "lon": p.loc_lon[sched.loc],
                        "arrival_s": sched.arrival_s,
                        "departure_s": sched.departure_s,
                        "wait_s": sched.wait_s,
                        "service_s": sched.service_s,
                        "travel_s": sched.travel_s,
                        "distance_m": sched.distance_m,
                        "load": sched.load,
                        "window_start_s": win_start,
                        "window_end_s": win_end,
                        "late_s": sched.late_s,
                        **{
                            f"load_{name}": sched.dim_load[:, d]
                            for d, name in enumerate(p.dim_names)
                        },
                        "_order": orders,
                    }
                )
            )
        if not frames:
            times = ("arrival", "departure", "window_start", "window_end")
            cols = [c for c in self.columns if c not in times]
            return pd.DataFrame(columns=[*cols, *(f"{t}_s" for t in times), "_order"])
        return pd.concat(frames, ignore_index=True)

    @property
    def columns(self) -> tuple[str, ...]:
        """routes.csv's SPEC columns: :data:`ROUTE_COLUMNS`, then ``load_<name>`` for each
        extra capacity dimension."""
        return (*ROUTE_COLUMNS, *(f"load_{name}" for name in self.problem.dim_names))

    def routes_table(self) -> pd.DataFrame:
        """routes.csv as a DataFrame: one row per stop of every used vehicle, in order.

        Times are ISO 8601 local date-times (seconds resolution); extra order columns
        follow the SPEC columns.
        """
        t = self._table
        origin = self.problem.origin
        out = t.copy()
        for col in ("arrival", "departure", "window_start", "window_end"):
            out[col] = [format_time(s, origin) for s in t[f"{col}_s"]]
        out = out[[*self.columns, "_order"]]
        if self.order_extra is not None and len(self.order_extra.columns):
            extra = self.order_extra.rename(
                columns={c: f"order_{c}" for c in self.order_extra.columns if c in out.columns}
            )
            idx = out["_order"].to_numpy(dtype=np.int64)  # int even with no stop at all
            for col in extra.columns:
                values = extra[col].to_numpy()
                out[col] = np.where(idx >= 0, values[np.maximum(idx, 0)], "")
        return out.drop(columns="_order").reset_index(drop=True)

    def unassigned_table(self) -> pd.DataFrame:
        """The orders left out, with a plain-words reason each."""
        ids = self.problem.order_id
        items = sorted(self.unassigned.items())
        return pd.DataFrame(
            {"order_id": [ids[i] for i, _ in items], "reason": [r for _, r in items]},
            columns=["order_id", "reason"],
        )

    def unassigned_places(self) -> pd.DataFrame:
        """``order_id, reason, lat, lon`` of the orders left out."""
        p = self.problem
        idx = np.array(sorted(self.unassigned), dtype=np.int64)
        loc = p.order_loc[idx] if idx.size else np.zeros(0, dtype=np.int64)
        return self.unassigned_table().assign(lat=p.loc_lat[loc], lon=p.loc_lon[loc])

    @property
    def shift_time_s(self) -> int:
        """The whole fleet's shift time, used or not."""
        return int((self.problem.shift_end_s - self.problem.shift_start_s).sum())

    @property
    def objective(self) -> float:
        """Cost of the plan in cost units: fixed costs + per-km + per-hour of route time +
        soft windows' lateness."""
        return round(sum(route_cost(self.problem, sched) for sched in self.schedules), 4)

    @cached_property
    def on_time_forecast(self) -> float | None:
        """The share of drop-offs the plan can expect to start within their windows when
        its times vary as the problem's spreads say (a learned plan;
        :func:`fleetroute.routing.punctual.forecast_on_time`), or ``None``."""
        forecast = forecast_on_time(self.problem, self.routes)
        return None if forecast is None else round(forecast, 4)

    def summary(self) -> dict[str, Any]:
        """The plan's totals, derived from the routes (with ``on_time_forecast`` when the
        problem says how uncertain its times are)."""
        t = self._table
        drops = t[t["kind"] == "dropoff"]
        n_assigned = len(drops)
        on_time = float((drops["late_s"] == 0).mean()) if n_assigned else 1.0
        return {
            "orders": self.problem.n_orders,
            "assigned": n_assigned,
            "unassigned": len(self.unassigned),
            "vehicles_used": len(self.routes),
            "total_distance_m": int(t["distance_m"].sum()),
            "total_travel_s": int(t["travel_s"].sum()),
            "total_duration_s": int(sum(s.duration_s for s in self.schedules)),
            "on_time_rate": round(on_time, 4),
            "total_late_s": int(drops["late_s"].sum()),
            "late_cost": round(sum(s.late_cost for s in self.schedules), 4),
            "fleet_utilisation": round(self._utilisation(), 4),
            "objective": self.objective,
            "solve_time_s": round(self.solve_time_s, 3),
            **(
                {"on_time_forecast": self.on_time_forecast}
                if self.on_time_forecast is not None
                else {}
            ),
        }

    def _utilisation(self) -> float:
        """The used vehicles' route time over the whole fleet's shift time."""
        shift = self.shift_time_s
        return sum(s.duration_s for s in self.schedules) / shift if shift > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """plan.json as a dict: summary, routes, unassigned and inputs."""
        return {
            "summary": self.summary(),
            "routes": routes_json(self.routes_table()),
            "unassigned": self.unassigned_table().to_dict(orient="records"),
            "inputs": _plain(dict(self.inputs)),
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }


def routes_json(table: pd.DataFrame) -> list[dict[str, Any]]:
    """plan.json's ``routes`` from a routes table: per vehicle, its stops in order."""
    routes = []
    for vehicle_id, rows in table.groupby("vehicle_id", sort=False):
        stops = rows.drop(columns="vehicle_id").to_dict(orient="records")
        routes.append({"vehicle_id": vehicle_id, "stops": _plain(stops)})
    return routes


def _plain(value: Any) -> Any:
    """Turn numpy scalars inside lists and dicts into plain Python for JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
