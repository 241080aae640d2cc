"""``solve(problem, options) -> Plan``: screen the orders, pick a backend, read back a Plan.

Two backends read the same Problem and matrices: PyVRP (:mod:`.pyvrp_solver`) and OR-Tools
(:mod:`.ortools_solver`). ``auto`` uses PyVRP wherever it can model the day, because it
plans cheaper in the same time (benchmarks/results/store_day.md, vrplib.md): store
pickups at any volume, hour-dependent travel (each place's slowest band), days the fleet
cannot fully serve (optional orders with prizes), orders locked to vehicles (routing
profiles). OR-Tools plans what only it models here: locked sequences of drop-offs,
drivers' breaks and stop limits on routes with store pickups.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from fleetroute.errors import InputError
from fleetroute.routing.insert import feasible_part, place_or_explain
from fleetroute.routing.options import (
    SolveOptions,
    default_workers,
    pyvrp_iterations,
    stop_requested,
)
from fleetroute.routing.ortools_solver import solve_ortools
from fleetroute.routing.plan import Plan
from fleetroute.routing.portfolio import STARTS, portfolio
from fleetroute.routing.problem import Problem
from fleetroute.routing.punctual import risk_margins
from fleetroute.routing.pyvrp_solver import solve_pyvrp, supports, zones_to_build, zones_why
from fleetroute.routing.schedule import PICKUP, Route, schedule
from fleetroute.routing.screen import screen
from fleetroute.routing.zones import n_zones, solve_in_zones

__all__ = ["SolveOptions", "solve", "STORE_HEAVY_ORDERS"]

#: Days with at least this many store orders get two guided PyVRP searches on the two
#: cores, neither minimising the fleet. Measured on the suite's 400-order store day
#: (133 shopped) at 60 s, learned (0.65 quantile), six seeds: PyVRP beside OR-Tools
#: (which this pairing replaced) 4,438 on average (+2.4% over the best-known), OR-Tools
#: 4,697 every time; two guided searches **4,408** (+1.7%), true cost 4,377 against
#: 4,407. Three seeds of a guided and a fleet-minimising search: 4,474 (the minimising
#: one 4,960-5,160, never kept: on exactly the smallest fleet the vans work longer hours).
#: Li & Lim's ~50 pairs stay with a fleet-minimising search (+0.00% to the best-known).
STORE_HEAVY_ORDERS = 100


def solve(problem: Problem, options: SolveOptions | None = None) -> Plan:
    """Assign and sequence the orders of ``problem``.

    Parameters
    ----------
    problem
        The problem; its ``excluded`` orders are reported, not planned.
    options
        Search limits, backend and workers.

    Returns
    -------
    Plan
        Routes of the used vehicles; every order not routed is in ``unassigned`` with a
        plain-words reason. ``inputs["backend"]`` names the backend that made it.

    Raises
    ------
    InputError
        When ``backend="pyvrp"`` is asked for a problem PyVRP cannot model.
    """
    opts = options or SolveOptions()
    limit = opts.time_limit_s
    p = problem
    t0 = time.perf_counter()
    unassigned: dict[int, str] = dict(p.excluded)
    unassigned.update(screen(p))
    orders = np.array([i for i in p.plannable.tolist() if i not in unassigned], dtype=np.int64)
    workers = opts.workers or default_workers()
    inputs: dict[str, Any] = {
        **opts.inputs,
        "time_limit_s": opts.time_limit_s,
        "seed": opts.seed,
        "workers": workers,
        **({"margin_s": p.margin_s} if p.margin_s else {}),
    }
    # the time limit is the whole solve's: screening counts toward it, and so does reading
    # the searches' routes back (scheduling each, comparing plans)
    after = min(_AFTER_S_PER_ORDER * orders.shape[0], _AFTER_SHARE * limit)
    opts = dataclasses.replace(
        opts, time_limit_s=max(0.1, opts.time_limit_s - (time.perf_counter() - t0) - after)
    )
    if orders.size == 0:
        return Plan(p, (), unassigned, time.perf_counter() - t0, {**inputs, "backend": "none"})

    # the searches plan on the windows less the margin; the plan keeps the promised ones
    q = p.for_search()
    why_not = supports(q, orders)
    if opts.backend == "pyvrp" and why_not:
        raise InputError("--backend", f"PyVRP cannot solve this problem: {why_not}")
    if p.late_chance > 0:
        p, routes, backend, timings, search = _with_risk_margins(p, orders, opts, workers)
        inputs["late_chance"] = p.late_chance
    else:
        routes, backend, timings, search = _searched(q, orders, opts, workers)
    if "zones" in search:
        inputs["zones"] = search["zones"]
    elapsed = time.perf_counter() - t0
    inputs["backend"] = backend
    inputs["search"] = {"backend": backend, **search}
    if stop_requested():  # Ctrl-C in route plan: the best plan each search had
        inputs["search"]["stopped_early"] = True
    if routes is None:
        reason = "the solver found no plan within the time limit; give it more time"
        unassigned.update(dict.fromkeys(orders.tolist(), reason))
        return Plan(p, (), unassigned, elapsed, inputs, timings=timings)
    searched_shops = p.shop_s
    past = _PLACE_PAST_SHARE * limit
    deadline = None if opts.solution_limit is not None else t0 + limit + past
    p, routes, reasons, taken_out = _settled(p, orders, routes, deadline)
    if p.shops_by_hour:
        inputs["search"]["shops_retimed"] = _retimed(searched_shops, p, routes)
    if taken_out:
        inputs["search"]["taken_out"] = taken_out
    unassigned.update(reasons)
    elapsed = time.perf_counter() - t0  # placing and explaining the left-out orders count
    return Plan(p, tuple(routes), unassigned, elapsed, inputs, timings=timings)


def _searched(
    q: Problem, orders: np.ndarray, opts: SolveOptions, workers: int
) -> tuple[list[Route] | None, str, dict[str, float], dict[str, Any]]:
    """The routes of ``orders`` in the problem a search plans on (``q``), whole or in
    zones; the backend, seconds per stage and what plan.json says about the search."""
    zones = _zones(q, orders, opts, workers)
    if zones <= 1:
        return _search_day(q, orders, opts, workers)
    pyvrp_zones = _picks_pyvrp(q, orders, opts)
    routes, backend, timings = solve_in_zones(
        q, orders, opts, workers, _search, zones, polish=pyvrp_zones
    )
    search: dict[str, Any] = {"why": _why(q, orders, opts), "zones": zones}
    if "polish" in timings:
        search["polished_s"] = round(timings["polish"], 1)
    if pyvrp_zones:
        search["why"] = "PyVRP models this day and plans cheaper in the same time"
        search["zones_why"] = zones_why(q, orders, opts.time_limit_s, zones)
    return routes, backend, timings, search


#: Share of the time limit the first search of a plan with a late chance takes (the
#: second, with each order's risk margin, takes the rest).
RISK_FIRST_SHARE = 0.5


def _with_risk_margins(
    p: Problem, orders: np.ndarray, opts: SolveOptions, workers: int
) -> tuple[Problem, list[Route] | None, str, dict[str, float], dict[str, Any]]:
    """Two searches (:mod:`fleetroute.routing.punctual`): the first on ``p``'s windows,
    the second with each order's risk margin from the first's routes. The problem the
    plan answers (with the margins, so that its schedule keeps them) and the second's
    routes (the first's when the second finds none). An order the second search leaves
    out loses its margin, so that it can still be placed."""
    t0 = time.perf_counter()
    first = dataclasses.replace(opts, time_limit_s=opts.time_limit_s * RISK_FIRST_SHARE)
    routes, backend, timings, search = _searched(p.for_search(), orders, first, workers)
    if routes is None:
        return p, routes, backend, timings, search
    if p.shops_by_hour:  # the margins, and the second search, on the shops' hours' times
        p = _shops_at_their_hours(p, routes)
    risk = risk_margins(p, routes, seed=opts.seed)
    wider = p.replace(order_margin_s=np.maximum(p.order_margin_s, np.maximum(0, risk - p.margin_s)))
    # the second search goes on from the first's plan (PyVRP; OR-Tools starts again)
    rest = dataclasses.replace(
        opts,
        time_limit_s=max(0.1, opts.time_limit_s - (time.perf_counter() - t0)),
        warm_start=tuple(routes),
    )
    again, backend_2, timings_2, search_2 = _searched(wider.for_search(), orders, rest, workers)
    how: dict[str, Any] = {
        "late_chance": p.late_chance,
        "orders_with_margin": int((wider.order_margin_s > 0).sum()),
        "mean_margin_s": round(float(wider.margins[orders].mean()), 1),
        "first_search": search,
    }
    timings = {k: timings.get(k, 0.0) + timings_2.get(k, 0.0) for k in timings | timings_2}
    if again is None:
        how["kept"] = "the first search's plan: the second found none"
        return p, routes, backend, timings, {**search, "risk_margins": how}
    # an order the second search left out but the first served is placed without its
    # margin (late now and then rather than not delivered)
    served = {o for r in routes for o in r.orders if o >= 0}
    left = np.array(sorted(served - {o for r in again for o in r.orders if o >= 0}), np.int64)
    if left.size:
        margin = wider.order_margin_s.copy()
        margin[left] = 0
        wider = wider.replace(order_margin_s=margin)
        how["placed_without_margin"] = int(left.size)
    how["kept"] = "the second search's plan, with the risk margins"
    return wider, again, backend_2, timings, {**search_2, "risk_margins": how}


#: Most times a plan's shops are re-timed to the hours its schedule begins them.
_RETIME_PASSES = 5


def _shops_at_their_hours(p: Problem, routes: list[Route]) -> Problem:
    """``p`` with no shop of ``routes`` planned faster than the band its schedule begins
    it in: each takes that band's time, then the slower of it and the band's it begins in
    then, until none changes (a longer shop can move its begin, and the schedule starts a
    route as late as it can: a noon shop made slower can begin before noon).

    The searches plan each shop on one time, predicted for before its order's window
    opens. Searching again on the times of the hours a first plan shops them cost more
    than it gained (the suite's 2,000-order learned store day at 60 s, seeds 0, 3 and 4,
    the sectors' routes re-timed before their polish: true cost +1.8%, on time +0.3
    points), so the plan is searched once and its schedule re-timed (:func:`_settled`)."""
    p = p.with_shops_at(*_shop_begins(p, routes))
    for _ in range(_RETIME_PASSES):
        at_hour = _at_their_hours(p, routes)
        if (at_hour <= p.shop_s).all():
            break
        p = p.replace(shop_s=np.maximum(p.shop_s, at_hour))
    return p


def _at_their_hours(p: Problem, routes: list[Route]) -> np.ndarray:
    """Each order's shop seconds at the hour ``routes``' schedules begin it (the others'
    as ``p`` plans them)."""
    return p.with_shops_at(*_shop_begins(p, routes)).shop_s


def _shops_timed(p: Problem, routes: list[Route]) -> bool:
    """Whether no shop of ``routes`` is planned faster than the hour it begins in."""
    return bool((_at_their_hours(p, routes) <= p.shop_s).all())


def _retimed(searched: np.ndarray, p: Problem, routes: list[Route]) -> dict[str, Any]:
    """What plan.json says about the shops of ``routes`` timed at their hours: how many,
    and how many take longer or shorter than the ``searched`` times."""
    shopped, _ = _shop_begins(p, routes)
    change = p.shop_s[shopped] - searched[shopped]
    return {
        "orders": int(shopped.size),
        "slower": int((change > 0).sum()),
        "faster": int((change < 0).sum()),
        "mean_change_s": round(float(change.mean()), 1) if change.size else 0.0,
    }


#: Most times the shops are timed again after orders were placed in the plan.
_SETTLE_PASSES = 3
_SHOP_HOURS = (
    "with every shop timed at the hour the plan makes it, no route kept room for it "
    "(a longer --time-limit may place it)"
)


def _settled(
    p: Problem, orders: np.ndarray, routes: list[Route], deadline: float | None
) -> tuple[Problem, list[Route], dict[int, str], int]:
    """The plan's last routes: every shop at the time of the hour its schedule begins it
    (:func:`_shops_at_their_hours`), every order whose stop then breaks a hard rule taken
    out, and the left-out orders placed where they fit or explained
    (:func:`_placed_or_explained`). An order placed, or one taken out, moves the shops
    after it, maybe into another hour: so the shops are timed again, and what that breaks
    placed again, at most :data:`_SETTLE_PASSES` times; after that, what the timing breaks
    stays out. The problem the routes are timed on, the routes, why each left-out order is
    out, and how many were taken out.

    A slower shop can push a drop-off into its margin: the rules kept, and the placing of
    what breaks them, are those of the windows less the margins (as searched)."""
    reasons: dict[int, str] = {}
    taken_out = 0
    for _ in range(_SETTLE_PASSES):
        if p.shops_by_hour:
            p = _shops_at_their_hours(p, routes)
        as_searched = p.for_search()
        routes, broken = _within_rules(as_searched, routes)
        taken_out += len(broken)
        routed = {i for route in routes for i in route.orders}
        # the orders explained before stay out
        out = [i for i in orders.tolist() if i not in routed and i not in reasons]
        routes, why = _placed_or_explained(as_searched, orders, routes, out, deadline)
        reasons.update(why)
        if not p.shops_by_hour or _shops_timed(p, routes):
            return p, routes, reasons, taken_out
    # placing still moves shops: time them, and leave out what that breaks, until no shop
    # moves (a round that takes nothing out leaves the shops at their hours, or they swing
    # between two hours: a round per order at most)
    for _ in range(orders.size + 1):
        p = _shops_at_their_hours(p, routes)
        routes, broken = _within_rules(p.for_search(), routes)
        taken_out += len(broken)
        reasons.update(dict.fromkeys(broken, _SHOP_HOURS))
        if _shops_timed(p, routes):
            break
    return p, routes, reasons, taken_out


def _shop_begins(p: Problem, routes: list[Route]) -> tuple[np.ndarray, np.ndarray]:
    """The orders the routes shop at a store, and when each shop begins (seconds from
    the origin)."""
    shopped, begin = [], []
    for route in routes:
        sched = schedule(p, route)
        starts = sched.arrival_s + sched.wait_s
        for row, (kind, order) in enumerate(zip(route.kinds, route.orders, strict=True), 1):
            if kind == PICKUP:
                shopped.append(order)
                begin.append(int(starts[row]))
    return np.array(shopped, dtype=np.int64), np.array(begin, dtype=np.int64)


def _zones(p: Problem, orders: np.ndarray, opts: SolveOptions, workers: int) -> int:
    """How many zones the day is searched in (1: as a whole). OR-Tools days beyond
    ``zone_orders``; PyVRP days only when the time limit is too short for the whole day's
    first plan (see :func:`zones_to_build`)."""
    if not _picks_pyvrp(p, orders, opts):
        return n_zones(p, orders, opts)
    if opts.zone_orders is None or opts.solution_limit is not None or opts.backend != "auto":
        return 1
    return zones_to_build(p, orders, opts.time_limit_s, workers)


def _picks_pyvrp(p: Problem, orders: np.ndarray, opts: SolveOptions) -> bool:
    """Whether PyVRP searches these orders (asked for, or ``auto`` and it models them)."""
    if opts.backend != "auto":
        return opts.backend == "pyvrp"
    return supports(p, orders) is None


def _store_heavy(p: Problem, orders: np.ndarray) -> bool:
    """Whether the day has enough store orders that no PyVRP search minimises the fleet."""
    return int(p.has_store[orders].sum()) >= STORE_HEAVY_ORDERS


def _why(p: Problem, orders: np.ndarray, opts: SolveOptions) -> str:
    """Why the backend that searches these orders was chosen, in plain words."""
    if opts.backend != "auto":
        return f"--backend {opts.backend} was asked for"
    why_not = supports(p, orders)
    if why_not:
        return f"OR-Tools models what PyVRP cannot here: {why_not}"
    if _store_heavy(p, orders) and (opts.workers or default_workers()) > 1:
        return (
            f"PyVRP models this day and plans cheaper in the same time (at least "
            f"{STORE_HEAVY_ORDERS} store orders: no search minimises the fleet)"
        )
    return "PyVRP models this day and plans cheaper in the same time"


def _search_day(
    p: Problem, orders: np.ndarray, opts: SolveOptions, workers: int
) -> tuple[list[Route] | None, str, dict[str, float], dict[str, Any]]:
    """:func:`_search` of a whole day, with what plan.json says about the search."""
    info: dict[str, Any] = {"why": _why(p, orders, opts)}
    routes, backend, timings = _search(p, orders, opts, workers, info)
    return routes, backend, timings, info


def _search(
    p: Problem,
    orders: np.ndarray,
    opts: SolveOptions,
    workers: int,
    info: dict[str, Any] | None = None,
) -> tuple[list[Route] | None, str, dict[str, float]]:
    """One search of ``orders`` by the backend the options ask for or ``auto`` picks:
    the routes (None: no plan), the backend that made them, and seconds per stage.
    ``info`` (if given) receives how the search went, for plan.json."""
    note = info if info is not None else {}
    timings: dict[str, float] = {}
    if opts.backend == "auto" and supports(p, orders) is not None:
        routes, backend, timings, how = portfolio(p, orders, opts, workers)
        note.update(how)
        return routes, backend, timings
    if _picks_pyvrp(p, orders, opts):
        routes, timings, how = solve_pyvrp(
            p,
            orders,
            seconds=opts.time_limit_s,
            iterations=pyvrp_iterations(opts),
            seed=opts.seed,
            workers=workers,
            guide=True,
            minimise=not _store_heavy(p, orders),
            start=opts.warm_start,
        )
        note.update(how)
        if routes is not None or opts.backend == "pyvrp":
            return routes, "pyvrp", timings
        note["fallback"] = "PyVRP found no feasible plan in time; OR-Tools searched again as long"
    if opts.backend == "ortools" and workers > 1:
        routes, _, timings, how = portfolio(p, orders, opts, workers, STARTS)
        note.update(how)
        return routes, "ortools", timings
    # a fallback's first plan is cut off at the limit too: the day has had its time
    routes, more = solve_ortools(p, orders, opts, bounded=bool(timings))
    # after a PyVRP search that found no plan, both searches count
    return routes, "ortools", {k: timings.get(k, 0.0) + more[k] for k in more}


def _within_rules(p: Problem, routes: list[Route]) -> tuple[list[Route], list[int]]:
    """The routes with any order taken out whose stop the schedule could not keep within
    every hard rule (see :func:`feasible_part`); those orders are placed again or explained
    like the ones the solver left out."""
    out, taken = [], []
    for route in routes:
        kept, removed = feasible_part(p, route)
        taken += removed
        if any(o >= 0 for o in kept.orders):
            out.append(kept)
    return out, taken


#: Seconds kept back per order (at most this share of the limit) for what follows the
#: searches: a 2,000-order store day at 5 s ended at 5.26 s without it.
_AFTER_S_PER_ORDER = 0.0001
_AFTER_SHARE = 0.05

#: Left-out orders are placed or explained until the time limit, and past it by this
#: share of it (the one under way then finishes, a search of every route, and the shops
#: are timed again). Searches run to the limit, and an order taken out after them (its
#: shop re-timed at its hour) was left out for want of time though it fitted: three on
#: the 400-order store day, q0.7, OR-Tools at 60 s (placed in 0.05 s all three; its two
#: searches ended 1.1 s past the limit in a run that allowed 0.5 s, and one order stayed
#: out). On the suite's 5,000-order learned day (120 s) the orders left out ended the solve
#: at 124.6-130.4 s whatever this allowed, while naming why an order fitted nowhere
#: scheduled every position of every route (7 s an order) and each re-timing of the shops
#: checked the travel matrices again (0.13 s a time); with neither, 123.3 s (37 orders not
#: reached), and with every route's bounds worked out at once (:mod:`.insert`) 122.4 s,
#: every left-out order placed or explained (4,907 served) in the 8.9 s after the searches.
_PLACE_PAST_SHARE = 0.02
_NO_TIME_TO_EXPLAIN = (
    "no route of the plan had room for it (not searched in detail: the time limit was "
    "reached; a longer --time-limit names the constraint)"
)

#: Beyond this many left-out orders, one shared reason instead of one search each.
_EXPLAIN_AT_MOST = 200


def _placed_or_explained(
    p: Problem,
    orders: np.ndarray,
    routes: list[Route],
    dropped: list[int],
    deadline: float | None = None,
) -> tuple[list[Route], dict[int, str]]:
    """The orders the solver left out, put in where they fit after all (most important
    first), and why each of the rest stayed out: the fleet's total capacity, or the
    constraint its best place in the final routes would break.

    An order can fit the real schedule where the solver saw no room: with hour bands the
    solver plans on each place's slowest band, the schedule drives each leg in its own
    (on a learned 2,000-order day, 5 of 11 left-out orders fitted this way). Each order
    costs a search of the routes (0.05 s to place one, 0.19 s to explain one on a
    5,000-order day, what it learns of each route kept for the next): past ``deadline``
    the rest get a shared reason, so that the time limit holds.
    """
    demand = int(p.demand[orders].sum())
    # a vehicle that reloads carries any total, one trip at a time
    per_vehicle = np.where(p.reload_s >= 0, demand + 1, np.minimum(p.capacity, demand + 1))
    capacity = int(per_vehicle.sum())
    if demand > capacity:
        shared = (
            f"the fleet cannot carry every order (total demand {demand}, total capacity "
            f"{capacity}); lower-priority or costlier orders were left out"
        )
        return routes, dict.fromkeys(dropped, shared)
    if len(dropped) > _EXPLAIN_AT_MOST:
        shared = (
            f"left out by the search with {len(dropped)} others, too many to explain one by "
            "one: either no vehicle had room (shifts, capacities, windows) or the search "
            "needed more time (--time-limit) to place them"
        )
        return routes, dict.fromkeys(dropped, shared)
    placed = list(routes)
    reasons = {}
    facts: dict[Route, Any] = {}  # what the searches learn of each route, once
    for i in sorted(dropped, key=lambda i: -float(p.priority[i])):
        if deadline is not None and time.perf_counter() > deadline:
            reasons[i] = _NO_TIME_TO_EXPLAIN
            continue
        found, reason = place_or_explain(p, placed, i, facts=facts)
        if found is None:
            reasons[i] = reason
        else:
            placed = [r for r in placed if r.vehicle != found.route.vehicle] + [found.route]
    return sorted(placed, key=lambda r: r.vehicle), reasons
