"""Audit a plan made elsewhere: recompute its times and list every violation with its cause."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from fleetroute.routing.plan import Plan
from fleetroute.routing.schedule import PICKUP

__all__ = ["violations", "VIOLATION_COLUMNS"]

VIOLATION_COLUMNS = ("vehicle_id", "seq", "order_id", "kind", "violation", "amount", "detail")


def _hhmm(seconds: int, origin: datetime) -> str:
    return (origin + timedelta(seconds=int(seconds))).strftime("%H:%M")


def violations(plan: Plan) -> pd.DataFrame:
    """Every violation in the plan's routes, recomputed with its problem's times.

    Kinds: ``late`` (service starts after the window; amount in seconds), ``over_capacity``
    (load above capacity; amount in units), ``shift_exceeded`` (back after the shift ends;
    seconds), ``pickup_missing`` (a store order dropped off without being picked up before,
    on the same route) and ``not_routed`` (an order in no route).
    """
    p = plan.problem
    rows: list[dict[str, object]] = []
    for sched in plan.schedules:
        r = sched.route
        vid = p.vehicle_id[r.vehicle]
        picked: set[int] = set()
        for k in range(1, len(sched.kind) - 1):
            order = r.orders[k - 1]
            oid = p.order_id[order]
            kind = sched.kind[k]
            if kind == PICKUP:
                picked.add(order)
            elif p.order_store[order] >= 0 and order not in picked:
                rows.append(
                    dict(
                        vehicle_id=vid,
                        seq=k,
                        order_id=oid,
                        kind=kind,
                        violation="pickup_missing",
                        amount=1,
                        detail="dropped off before it was picked up at its store",
                    )
                )
            if sched.late_s[k] > 0:
                rows.append(
                    dict(
                        vehicle_id=vid,
                        seq=k,
                        order_id=oid,
                        kind=kind,
                        violation="late",
                        amount=int(sched.late_s[k]),
                        detail=f"late by {sched.late_s[k] / 60:.0f} min (window ends "
                        f"{_hhmm(sched.window_end_s[k], p.origin)})",
                    )
                )
            over = int(sched.load[k] - p.capacity[r.vehicle])
            if over > 0:
                rows.append(
                    dict(
                        vehicle_id=vid,
                        seq=k,
                        order_id=oid,
                        kind=kind,
                        violation="over_capacity",
                        amount=over,
                        detail=f"load {sched.load[k]} over capacity {p.capacity[r.vehicle]}",
                    )
                )
        back = int(sched.arrival_s[-1] - p.shift_end_s[r.vehicle])
        if back > 0:
            rows.append(
                dict(
                    vehicle_id=vid,
                    seq=len(sched.kind) - 1,
                    order_id="",
                    kind="end",
                    violation="shift_exceeded",
                    amount=back,
                    detail=f"back at {_hhmm(sched.arrival_s[-1], p.origin)}, shift ends "
                    f"{_hhmm(p.shift_end_s[r.vehicle], p.origin)}",
                )
            )
    for order in sorted(plan.unassigned):
        rows.append(
            dict(
                vehicle_id="",
                seq=-1,
                order_id=p.order_id[order],
                kind="",
                violation="not_routed",
                amount=1,
                detail=plan.unassigned[order],
            )
        )
    return pd.DataFrame(rows, columns=list(VIOLATION_COLUMNS))
