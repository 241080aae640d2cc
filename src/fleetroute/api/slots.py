"""Which delivery windows can a new order still get? (SPEC ``route slots``)

Each candidate window is tried by inserting the order with that window into the current
plan, exactly as booking it would (:func:`fleetroute.insert_order`): the window is offered
only when that insertion succeeds, so no planned stop becomes late and no constraint
breaks, and booking an offered window reproduces the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fleetroute.api._common import road_map_of
from fleetroute.api.dispatch import insert_order
from fleetroute.errors import InputError
from fleetroute.eta_model.baseline import EtaProvider
from fleetroute.io.readers import read_orders
from fleetroute.io.tables import TableSource, read_raw
from fleetroute.maps.roadmap import RoadMap
from fleetroute.routing.plan import Plan
from fleetroute.times import format_time

__all__ = ["slots", "default_windows", "SLOT_COLUMNS"]

#: slots.csv's columns (SPEC).
SLOT_COLUMNS = ("order_id", "window_start", "window_end", "feasible", "marginal_cost",
                "vehicle_id", "p_on_time", "reason")  # fmt: skip

#: The length of the default candidate windows.
WINDOW_S = 2 * 3600


def default_windows(plan: Plan) -> list[tuple[int, int]]:
    """Two-hour windows across the shifts: from the first shift's start (on the hour) to
    the last shift's end, the last one cut at that end."""
    p = plan.problem
    first = int(p.shift_start_s.min()) // 3600 * 3600
    last = int(p.shift_end_s.max())
    return [(s, min(s + WINDOW_S, last)) for s in range(first, last, WINDOW_S)]


def slots(
    plan: Plan,
    new_orders: TableSource,
    *,
    road_map: RoadMap | str | Path,
    eta: EtaProvider | None = None,
    windows: Sequence[tuple[int, int]] | None = None,
) -> pd.DataFrame:
    """For each new order and each candidate window (seconds from the plan's origin;
    default :func:`default_windows`), whether the plan can take it, at what extra cost and
    on which vehicle, or why not (SPEC's slots.csv columns; ``p_on_time`` stays empty).

    The new orders' own windows are ignored: the candidates replace them.

    Raises
    ------
    InputError
        A bad cell of ``new_orders``, or a window that ends before it starts.
    """
    p = plan.problem
    rmap = road_map_of(road_map)
    candidates = list(windows) if windows is not None else default_windows(plan)
    for start, end in candidates:
        if end <= start:
            span = f"{format_time(start, p.origin)[11:16]}-{format_time(end, p.origin)[11:16]}"
            raise InputError("--windows", f"{span} ends before it starts")
    raw = read_raw(new_orders, "new")
    read_orders(raw, origin=p.origin, name=str(raw.attrs["source"]))  # every cell checked once
    base = plan.objective
    rows = []
    for k in range(len(raw)):
        order = raw.iloc[[k]].copy()
        order_id = str(order["order_id"].iloc[0])
        for start, end in candidates:
            order["window_start"] = format_time(start, p.origin)
            order["window_end"] = format_time(end, p.origin)
            if "windows" in order.columns:
                order["windows"] = ""
            booked = insert_order(plan, order, road_map=rmap, eta=eta)
            i = booked.problem.n_orders - 1
            on = [r.vehicle for r in booked.routes if i in r.orders]
            rows.append({
                "order_id": order_id,
                "window_start": format_time(start, p.origin),
                "window_end": format_time(end, p.origin),
                "feasible": bool(on),
                "marginal_cost": round(booked.objective - base, 2) if on else np.nan,
                "vehicle_id": p.vehicle_id[on[0]] if on else "",
                "p_on_time": np.nan,
                "reason": "" if on else booked.unassigned.get(i, ""),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=list(SLOT_COLUMNS))
