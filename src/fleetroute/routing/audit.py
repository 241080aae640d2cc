"""Audit a plan made elsewhere: recompute its times and list every violation with its cause."""

from __future__ import annotations

import pandas as pd

from fleetroute.routing.plan import Plan
from fleetroute.routing.problem import Problem
from fleetroute.routing.schedule import BREAK, PICKUP, RELOAD, RouteSchedule
from fleetroute.times import format_clock

__all__ = ["violations", "VIOLATION_COLUMNS"]

VIOLATION_COLUMNS = ("vehicle_id", "seq", "order_id", "kind", "violation", "amount", "detail")


def _needs_break(p: Problem, sched: RouteSchedule) -> bool:
    """Whether the driver's break falls inside the route: it fits neither before the
    start nor after the end."""
    k = sched.route.vehicle
    if p.break_s[k] == 0:
        return False
    before = p.break_start_s[k] + p.break_s[k] <= sched.departure_s[0]
    after = sched.arrival_s[-1] <= p.break_end_s[k]
    return not (before or after)


def violations(plan: Plan) -> pd.DataFrame:
    """Every violation in the plan's routes, recomputed with its problem's times.

    Kinds: ``late`` (service starts after the window, or after a soft window's
    ``max_late_s``; amount in seconds past what is allowed), ``break_late``
    and ``break_missing`` (a driver's break started after its window, or not taken),
    ``over_capacity`` (load above capacity, or above a ``capacity_<name>``; units),
    ``skill_missing`` (the vehicle lacks a skill the order needs), ``route_too_long`` and
    ``route_too_far`` (over ``max_route_s``, seconds, or ``max_distance_m``, metres),
    ``shift_exceeded`` (back after the shift ends; seconds), ``pickup_missing`` (a store
    order dropped off without being picked up before, on the same route) and
    ``reload_not_allowed`` (a reload on a vehicle without ``reload_s``) and ``not_routed``
    (an order in no route).
    """
    p = plan.problem
    rows: list[tuple[object, ...]] = []

    def add(
        vehicle: str, seq: int, order: str, kind: str, what: str, amount: int, detail: str
    ) -> None:
        rows.append((vehicle, seq, order, kind, what, amount, detail))

    for sched in plan.schedules:
        r = sched.route
        vid = p.vehicle_id[r.vehicle]
        picked: set[int] = set()
        if BREAK not in r.kinds and _needs_break(p, sched):
            add(
                vid,
                -1,
                "",
                BREAK,
                "break_missing",
                int(p.break_s[r.vehicle]),
                f"no break of {p.break_s[r.vehicle] // 60} min between "
                f"{format_clock(p.break_start_s[r.vehicle], p.origin)} and "
                f"{format_clock(p.break_end_s[r.vehicle], p.origin)}",
            )
        for k in range(1, len(sched.kind) - 1):
            order = r.orders[k - 1]
            kind = sched.kind[k]
            if kind == RELOAD:
                if p.reload_s[r.vehicle] < 0:
                    add(vid, k, "", kind, "reload_not_allowed", 1, "the vehicle has no reload_s")
                continue
            if kind == BREAK:
                if sched.late_s[k] > 0:
                    ends = format_clock(sched.window_end_s[k], p.origin)
                    add(
                        vid,
                        k,
                        "",
                        kind,
                        "break_late",
                        int(sched.late_s[k]),
                        f"break starts {sched.late_s[k] / 60:.0f} min after {ends}",
                    )
                continue
            oid = p.order_id[order]
            if kind == PICKUP:
                picked.add(order)
            elif p.order_store[order] >= 0 and order not in picked:
                add(
                    vid,
                    k,
                    oid,
                    kind,
                    "pickup_missing",
                    1,
                    "dropped off before it was picked up at its store",
                )
            over = int(sched.over_late_s[k])
            if over > 0:
                ends = format_clock(sched.window_end_s[k], p.origin)
                soft = int(sched.late_allowed_s[k])
                add(
                    vid,
                    k,
                    oid,
                    kind,
                    "late",
                    over,
                    f"late by {sched.late_s[k] / 60:.0f} min (window ends {ends}"
                    + (f"; its soft window allows {soft / 60:.0f} min)" if soft else ")"),
                )
            for d, name in enumerate(p.dim_names):
                above = int(sched.dim_load[k, d] - p.dim_capacity[r.vehicle, d])
                if above > 0:
                    add(
                        vid,
                        k,
                        oid,
                        kind,
                        "over_capacity",
                        above,
                        f"load_{name} {sched.dim_load[k, d]} over capacity_{name} "
                        f"{p.dim_capacity[r.vehicle, d]}",
                    )
            missing = int(p.order_skills[order]) & ~int(p.vehicle_skills[r.vehicle])
            if kind != PICKUP and missing:
                said = ", ".join(f"'{m}'" for m in p.skill_labels(missing))
                add(vid, k, oid, kind, "skill_missing", 1, f"the vehicle lacks skill {said}")
            over = int(sched.load[k] - p.capacity[r.vehicle])
            if over > 0:
                add(
                    vid,
                    k,
                    oid,
                    kind,
                    "over_capacity",
                    over,
                    f"load {sched.load[k]} over capacity {p.capacity[r.vehicle]}",
                )
        end = len(sched.kind) - 1
        too_long = sched.duration_s - int(p.max_route_s[r.vehicle])
        if too_long > 0:
            add(
                vid,
                end,
                "",
                "end",
                "route_too_long",
                too_long,
                f"the route takes {sched.duration_s / 3600:.2f} h, max_route_s allows "
                f"{p.max_route_s[r.vehicle] / 3600:.2f} h",
            )
        too_far = sched.total_distance_m - int(p.max_distance_m[r.vehicle])
        if too_far > 0:
            add(
                vid,
                end,
                "",
                "end",
                "route_too_far",
                too_far,
                f"the route drives {sched.total_distance_m / 1000:.1f} km, max_distance_m "
                f"allows {p.max_distance_m[r.vehicle] / 1000:.1f} km",
            )
        back = int(sched.arrival_s[-1] - p.shift_end_s[r.vehicle])
        if back > 0:
            add(
                vid,
                len(sched.kind) - 1,
                "",
                "end",
                "shift_exceeded",
                back,
                f"back at {format_clock(sched.arrival_s[-1], p.origin)}, shift ends "
                f"{format_clock(p.shift_end_s[r.vehicle], p.origin)}",
            )
    for order in sorted(plan.unassigned):
        add("", -1, p.order_id[order], "", "not_routed", 1, plan.unassigned[order])
    return pd.DataFrame(rows, columns=list(VIOLATION_COLUMNS))
