"""One plan made of partitions: each depot or zone planned as its own problem.

A :class:`PartitionedPlan` answers to what a :class:`Plan` answers to when it is written,
shown or summed up (``routes_table``, ``unassigned_table``, ``summary``, ``to_dict``,
``objective``), so :func:`fleetroute.write_plan` and the views take either. It keeps each
partition's own :class:`Plan` in ``parts``: one problem over every partition's places
would need a travel matrix over all of them, quadratic in the whole day, where the
partitions' matrices together grow with the sum of their squares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import pandas as pd

from fleetroute.routing.plan import Plan, _plain, routes_json

__all__ = ["PartitionedPlan", "PlanTables", "PARTITION_COLUMN"]

#: The column of routes.csv and unassigned.csv naming each row's partition.
PARTITION_COLUMN = "partition"


@dataclass(frozen=True, eq=False)
class PlanTables:
    """What a :class:`Plan` shows, computed where it was made: its tables and totals,
    without the problem and its matrices (a hundred KB where a 500-order Plan is 5 MB), so
    a partition's result travels back from its worker cheaply.

    It answers to ``routes_table``, ``unassigned_table``, ``unassigned_places``,
    ``summary``, ``objective`` and ``to_dict`` as the Plan did.
    """

    routes: pd.DataFrame
    unassigned: pd.DataFrame
    totals: dict[str, Any]
    shift_time_s: int
    order_ids: tuple[str, ...]
    vehicle_ids: tuple[str, ...]
    inputs: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: Plan | PlanTables) -> PlanTables:
        """The tables of ``plan`` (itself if it is one already)."""
        if isinstance(plan, PlanTables):
            return plan
        return cls(
            routes=plan.routes_table(),
            unassigned=plan.unassigned_places(),
            totals=plan.summary(),
            shift_time_s=plan.shift_time_s,
            order_ids=plan.problem.order_id,
            vehicle_ids=plan.problem.vehicle_id,
            inputs=dict(plan.inputs),
            timings=dict(plan.timings),
        )

    def routes_table(self) -> pd.DataFrame:
        return self.routes.copy()

    def unassigned_places(self) -> pd.DataFrame:
        return self.unassigned.copy()

    def unassigned_table(self) -> pd.DataFrame:
        return self.unassigned.drop(columns=["lat", "lon"])

    def summary(self) -> dict[str, Any]:
        return dict(self.totals)

    @property
    def objective(self) -> float:
        return float(self.totals["objective"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "routes": routes_json(self.routes),
            "unassigned": self.unassigned_table().to_dict(orient="records"),
            "inputs": _plain(dict(self.inputs)),
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }


@dataclass(frozen=True, eq=False)
class PartitionedPlan:
    """The plans of several partitions of one day, as one plan.

    Attributes
    ----------
    parts
        Partition name -> the plan of that partition (in the order partitions were found):
        a :class:`Plan`, or its :class:`PlanTables` when only the tables came back.
    left_out
        ``order_id, reason, lat, lon, partition`` of orders no partition planned: those of
        a partition that failed, or that has no vehicle.
    failed
        Partition name -> the one line saying why it could not be planned.
    solve_time_s
        Wall time of planning all partitions.
    inputs
        What was planned with, for plan.json (with ``partitions``).
    timings
        Seconds per stage, summed over partitions, plus ``partitions`` (the wall time).
    """

    parts: Mapping[str, Plan | PlanTables]
    left_out: pd.DataFrame
    failed: Mapping[str, str] = field(default_factory=dict)
    solve_time_s: float = 0.0
    inputs: Mapping[str, Any] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", MappingProxyType(dict(self.parts)))
        object.__setattr__(self, "failed", MappingProxyType(dict(self.failed)))
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))
        object.__setattr__(self, "timings", MappingProxyType(dict(self.timings)))
        vehicles = [v for part in self.tables.values() for v in part.vehicle_ids]
        if len(set(vehicles)) != len(vehicles):
            raise ValueError("a vehicle is in two partitions")
        orders = [o for part in self.tables.values() for o in part.order_ids]
        orders += self.left_out["order_id"].tolist()
        if len(set(orders)) != len(orders):
            raise ValueError("an order is in two partitions")

    @cached_property
    def tables(self) -> dict[str, PlanTables]:
        """Each partition's :class:`PlanTables`."""
        return {name: PlanTables.of(part) for name, part in self.parts.items()}

    def _stack(self, frames: dict[str, pd.DataFrame], extra: pd.DataFrame | None) -> pd.DataFrame:
        tagged = [f.assign(**{PARTITION_COLUMN: name}) for name, f in frames.items() if len(f)]
        if extra is not None and len(extra):
            tagged.append(extra)
        if not tagged:
            first = next(iter(frames.values()), pd.DataFrame())
            return first.assign(**{PARTITION_COLUMN: ""}).iloc[:0]
        return pd.concat(tagged, ignore_index=True).fillna({PARTITION_COLUMN: ""})

    def routes_table(self) -> pd.DataFrame:
        """routes.csv as a DataFrame: every partition's routes, with a ``partition``
        column."""
        return self._stack({n: p.routes_table() for n, p in self.tables.items()}, None)

    def unassigned_places(self) -> pd.DataFrame:
        """``order_id, reason, lat, lon, partition`` of every order left out."""
        frames = {n: p.unassigned_places() for n, p in self.tables.items()}
        return self._stack(frames, self.left_out)

    def unassigned_table(self) -> pd.DataFrame:
        """The orders left out, with a plain-words reason and their partition."""
        return self.unassigned_places().drop(columns=["lat", "lon"])

    @property
    def objective(self) -> float:
        """The sum of the partitions' costs."""
        return round(sum(p.objective for p in self.tables.values()), 4)

    def summary(self) -> dict[str, Any]:
        """The day's totals over all partitions (plan.json's summary), with
        ``partitions`` and ``failed_partitions``."""
        sums = [p.summary() for p in self.tables.values()]
        assigned = sum(s["assigned"] for s in sums)
        on_time = sum(s["on_time_rate"] * s["assigned"] for s in sums) / assigned if assigned else 1
        shifts = [p.shift_time_s for p in self.tables.values()]
        shift = sum(shifts)
        busy = sum(s["fleet_utilisation"] * t for s, t in zip(sums, shifts, strict=True))
        left = len(self.left_out)
        # the parts' forecasts weighed by their drop-offs, when every part with any has one
        served = [s for s in sums if s["assigned"]]
        forecast = (
            {"on_time_forecast": round(
                sum(s["on_time_forecast"] * s["assigned"] for s in served) / assigned, 4)}
            if served and all("on_time_forecast" in s for s in served)
            else {}
        )  # fmt: skip
        return {
            "orders": sum(s["orders"] for s in sums) + left,
            "assigned": assigned,
            "unassigned": sum(s["unassigned"] for s in sums) + left,
            "vehicles_used": sum(s["vehicles_used"] for s in sums),
            "total_distance_m": sum(s["total_distance_m"] for s in sums),
            "total_travel_s": sum(s["total_travel_s"] for s in sums),
            "total_duration_s": sum(s["total_duration_s"] for s in sums),
            "on_time_rate": round(on_time, 4),
            "fleet_utilisation": round(busy / shift, 4) if shift > 0 else 0.0,
            "objective": self.objective,
            "solve_time_s": round(self.solve_time_s, 3),
            "partitions": len(self.parts) + len(self.failed),
            "failed_partitions": sorted(self.failed),
            **forecast,
        }

    def to_dict(self) -> dict[str, Any]:
        """plan.json as a dict: summary, routes (each with its partition), unassigned,
        inputs (with each partition's own summary) and timings."""
        routes = []
        for name, part in self.tables.items():
            for route in routes_json(part.routes):
                routes.append({"vehicle_id": route["vehicle_id"], PARTITION_COLUMN: name,
                               "stops": route["stops"]})  # fmt: skip
        inputs = dict(self.inputs)
        parts: dict[str, Any] = {
            n: {"status": "failed", "error": e} for n, e in self.failed.items()
        }
        for name, part in self.tables.items():
            parts[name] = {"status": "planned", "summary": part.summary()}
        inputs["partitions"] = parts
        return {
            "summary": self.summary(),
            "routes": routes,
            "unassigned": self.unassigned_table().to_dict(orient="records"),
            "inputs": _plain(inputs),
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }
