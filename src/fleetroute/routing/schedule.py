"""The one schedule function: times, loads and lateness of a route, from the Problem.

The solver only decides sequences. Every time, wait, load and lateness that a Plan shows
is recomputed here, so the SPEC identities hold by construction:
``arrival = previous departure + travel_s`` and
``departure = arrival + wait_s + service_s``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from fleetroute.routing.problem import Problem, per_store

__all__ = [
    "Route",
    "RouteSchedule",
    "schedule",
    "route_cost",
    "plan_cost",
    "PICKUP",
    "DROPOFF",
    "BREAK",
    "RELOAD",
    "HERE",
    "NEXT",
    "AT_DEPOT",
]

PICKUP = "pickup"
DROPOFF = "dropoff"
BREAK = "break"
#: A break's entry in ``Route.orders``: taken where the vehicle is (before driving on),
#: or at the next stop's place (after driving there, before its service).
HERE = -1
NEXT = -2
RELOAD = "reload"
#: A reload's entry in ``Route.orders``: at the vehicle's start depot.
AT_DEPOT = -3

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Route:
    """A vehicle's sequence of stops: ``kinds[i]`` (pickup/dropoff) of order ``orders[i]``.

    A driver's break is kind ``break`` with order :data:`HERE` or :data:`NEXT` (where the
    break is taken); a reload between trips is kind ``reload`` with order :data:`AT_DEPOT`.
    """

    vehicle: int
    kinds: tuple[str, ...]
    orders: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.kinds) != len(self.orders):
            raise ValueError("kinds and orders must have the same length")
        bad = set(self.kinds) - {PICKUP, DROPOFF, BREAK, RELOAD}
        if bad:
            raise ValueError(f"unknown stop kinds: {sorted(bad)}")
        for kind, order in zip(self.kinds, self.orders, strict=True):
            ok = (
                order in (HERE, NEXT)
                if kind == BREAK
                else order == AT_DEPOT
                if kind == RELOAD
                else order >= 0
            )
            if not ok:
                raise ValueError(
                    "a break has order HERE or NEXT, a reload AT_DEPOT; a stop an order index"
                )


@dataclass(frozen=True)
class RouteSchedule:
    """Per row of a route (start, stops, end): where, when and how loaded.

    All arrays have ``len(route.orders) + 2`` entries; row 0 is the start and the last row
    the end. ``load`` is the load on board after the row's stop.
    """

    route: Route
    kind: tuple[str, ...]
    loc: IntArray
    arrival_s: IntArray
    wait_s: IntArray
    service_s: IntArray
    departure_s: IntArray
    travel_s: IntArray
    distance_m: IntArray
    load: IntArray
    window_start_s: IntArray
    window_end_s: IntArray
    late_s: IntArray
    #: ``(rows, d)``: the load of each extra capacity dimension after the row's stop
    dim_load: IntArray
    #: how late each row may start (a soft window's ``max_late_s``; 0: on time)
    late_allowed_s: IntArray
    #: what the route's lateness under soft windows costs (cost units)
    late_cost: float

    @property
    def over_late_s(self) -> IntArray:
        """How much later than allowed each row starts (soft windows' allowance deducted)."""
        return np.maximum(0, self.late_s - self.late_allowed_s)

    @property
    def duration_s(self) -> int:
        """Time from leaving the start to arriving at the end."""
        return int(self.arrival_s[-1] - self.departure_s[0])

    @property
    def total_distance_m(self) -> int:
        """Metres driven from the start to the end."""
        return int(self.distance_m.sum())


def _loads(
    demand: IntArray,
    is_pickup: npt.NDArray[np.bool_],
    from_depot: npt.NDArray[np.bool_],
    trip: IntArray,
) -> IntArray:
    """The load on board after each row (start, stops, end) for per-stop ``demand``
    (``(stops,)`` or ``(stops, d)``): each trip's depot deliveries, loaded when it starts
    (at the start, or at the reload that begins it), plus what was picked up at stores
    and not yet delivered, minus what was delivered."""
    picked = _col(is_pickup, demand)
    from_store = _col(~is_pickup & ~from_depot, demand)
    carried = np.cumsum(np.where(picked, demand, 0) - np.where(from_store, demand, 0), axis=0)
    depot = np.where(_col(from_depot, demand), demand, 0)
    trips = int(trip.max(initial=0)) + 1
    per_trip = np.zeros((trips, *demand.shape[1:]), dtype=np.int64)
    np.add.at(per_trip, trip, depot)
    delivered = np.cumsum(depot, axis=0)
    # depot deliveries of each trip made before it started: subtracted from the running sum
    before = np.zeros_like(per_trip)
    before[1:] = np.cumsum(per_trip, axis=0)[:-1]
    load = np.empty((demand.shape[0] + 2, *demand.shape[1:]), dtype=np.int64)
    load[0] = per_trip[0]
    load[1:-1] = carried + per_trip[trip] - (delivered - before[trip])
    load[-1] = load[-2]
    return load


def _col(mask: npt.NDArray[np.bool_], like: IntArray) -> npt.NDArray[np.bool_]:
    """``mask`` shaped to broadcast against ``like`` row by row."""
    return mask.reshape(mask.shape + (1,) * (like.ndim - 1))


class _Times(NamedTuple):
    """One forward pass: per row (start, stops, end) travel, arrival, wait, departure,
    lateness, and the window it used."""

    travel: IntArray
    arrival: IntArray
    wait: IntArray
    departure: IntArray
    late: IntArray
    lo: IntArray
    hi: IntArray

    @property
    def duration(self) -> int:
        """Time from leaving the start to arriving at the end."""
        return int(self.arrival[-1] - self.departure[0])

    @property
    def begin(self) -> IntArray:
        """When each row's service begins."""
        return self.arrival + self.wait


class _Rows:
    """One route's rows as the forward pass reads them, built once per schedule: each
    leg's seconds in every band, each row's service and windows, as Python numbers (a
    loop over rows is faster on them than on numpy scalars)."""

    __slots__ = ("win", "legs", "band_starts", "svc", "opens", "closes", "last", "rows", "slack")

    def __init__(
        self,
        problem: Problem,
        loc: IntArray,
        win: IntArray,
        service: IntArray,
        slack: IntArray | None = None,
    ):
        bands = problem.band_travel_s
        self.win = win
        # the slack a later start must leave before each row's window end (the margin)
        self.slack = np.zeros(win.shape[0], dtype=np.int64) if slack is None else slack
        self.rows = win.shape[0]
        here, there = loc[:-1], loc[1:]
        if bands is None:
            self.legs: list[list[int]] = [[0, *problem.travel_s[here, there].tolist()]]
        else:  # the leg into row i in band b: legs[b][i]
            self.legs = [[0, *band] for band in bands[:, here, there].tolist()]
        self.band_starts: list[int] = problem.band_start_s.tolist() if bands is not None else []
        self.svc: list[int] = service.tolist()
        self.opens: list[list[int]] = win[:, :, 0].tolist()
        self.closes: list[list[int]] = win[:, :, 1].tolist()
        self.last = win.shape[1] - 1


def _forward(rows: _Rows, start_s: int) -> _Times:
    """Earliest-start pass from a start time: travel, arrival, wait, departure, late, and
    the window each row used. Each row's windows are in time order; a row starts in the
    first one that has not closed when it arrives (late against the last one when all
    have)."""
    k, last, svc, opens, closes = rows.rows, rows.last, rows.svc, rows.opens, rows.closes
    legs, band_starts = rows.legs, rows.band_starts
    travel, arrival, wait, departure, used = [0] * k, [start_s] * k, [0] * k, [start_s] * k, [0] * k
    t = start_s
    for i in range(1, k):
        # in the band of the departure, as Problem.leg_s
        band = max(0, bisect_right(band_starts, t) - 1) if band_starts else 0
        leg = legs[band][i]
        a = t + leg
        j = min(bisect_left(closes[i], a), last) if last else 0
        begin = max(a, opens[i][j])
        travel[i], arrival[i], wait[i], used[i] = leg, a, begin - a, j
        t = begin + svc[i]
        departure[i] = t
    travel_a, arrival_a, wait_a = np.array(travel), np.array(arrival), np.array(wait)
    departure_a, used_a = np.array(departure), np.array(used)
    at = np.arange(k)
    lo = rows.win[at, used_a, 0]
    hi = rows.win[at, used_a, 1]
    late = np.maximum(0, arrival_a + wait_a - hi)
    late[0] = 0
    return _Times(travel_a, arrival_a, wait_a, departure_a, late, lo, hi)


#: Tries at a later start per route with hour-dependent travel (each halves the step).
_START_TRIES = 12


def _latest_start(rows: _Rows, start_s: int) -> _Times:
    """The forward pass from the start that leaves as late as possible without making any
    stop later or the route longer.

    With static travel one step does it: push the start later by the waiting it saves,
    never past any row's window end. With hour-dependent travel a later start can meet
    slower traffic, so a later start is kept only when no stop gets later and the route
    gets no longer, and the push is retried from there (halved when it fails). With several
    windows, a stop may also move into a later one of its windows (:func:`_later_window`),
    after which the start is pushed again.
    """
    best = _pushed(rows, _forward(rows, start_s))
    for _ in range(_WINDOW_ROUNDS if rows.last > 0 else 0):
        moved = _later_window(rows, best)
        if moved is None:
            break
        best = _pushed(rows, moved)
    return best


def _into_margin(rows: _Rows, times: _Times) -> IntArray:
    """How far each row's service begins into its margin or past its window's end."""
    out = np.maximum(0, times.begin - times.hi + rows.slack)
    out[0] = 0
    return out


def _no_later(rows: _Rows, new: _Times, old: _Times) -> bool:
    """Whether no row of ``new`` begins further into its margin than in ``old``."""
    return bool((_into_margin(rows, new) <= _into_margin(rows, old)).all())


def _pushed(rows: _Rows, best: _Times) -> _Times:
    """``best`` with its start pushed later by the waiting that saves (see above)."""
    step = 0
    for _ in range(_START_TRIES if rows.band_starts else 1):
        if step <= 0:
            cum_wait = np.cumsum(best.wait)
            room = cum_wait[1:] + np.maximum(0, best.hi[1:] - rows.slack[1:] - best.begin[1:])
            step = int(min(cum_wait[-1], room.min())) if room.size else 0
            if step <= 0:
                break
        later = _forward(rows, int(best.departure[0]) + step)
        if _no_later(rows, later, best) and later.duration <= best.duration:
            best, step = later, 0  # accepted: look for more waiting to save from here
        else:
            step //= 2
    return best


def _within_route_limit(rows: _Rows, best: _Times, allowed: IntArray, limit: int) -> _Times:
    """A route longer than ``limit`` (``max_route_s``) started later, trading soft windows'
    allowed lateness for less waiting, until it fits (or no later start helps): the route
    limit is hard, a soft window's lateness only costs."""
    for _ in range(_START_TRIES):
        excess = best.duration - limit
        cum_wait = np.cumsum(best.wait)
        room = cum_wait[1:] + np.maximum(0, best.hi[1:] + allowed[1:] - best.begin[1:])
        step = min(excess, int(cum_wait[-1]), int(room.min()) if room.size else 0)
        if excess <= 0 or step <= 0:
            break
        later = _forward(rows, int(best.departure[0]) + step)
        over = np.maximum(0, later.late - allowed) <= np.maximum(0, best.late - allowed)
        if not (later.duration < best.duration and over.all()):
            break
        best = later
    return best


#: Rounds of moving a drop-off into a later one of its windows.
_WINDOW_ROUNDS = 6


def _later_window(rows: _Rows, best: _Times) -> _Times | None:
    """The shortest schedule, no later anywhere than ``best``, whose later start brings one
    stop to the opening of one of its later windows or to the end of its own (``None``: no
    such start is shorter)."""
    win = rows.win
    at, slots = np.nonzero(win[:, :, 0] > best.hi[:, None])  # windows after the one used
    # the starts that bring a stop to a later window's opening, or to its own window's end
    # (the stops after it then arrive after their windows close and take later ones)
    shifts = np.unique(
        np.concatenate(
            [win[at, slots, 0] - best.arrival[at], best.hi[1:] - rows.slack[1:] - best.begin[1:]]
        )
    )
    found, duration = None, best.duration
    for shift in shifts[shifts > 0].tolist():
        cand = _forward(rows, int(best.departure[0]) + shift)
        if _no_later(rows, cand, best) and cand.duration < duration:
            found, duration = cand, cand.duration
    return found


def _break_places(stop_loc: IntArray, raw: IntArray, start: int, end: int) -> IntArray:
    """Each break's place: the row before it (HERE) or the row after it (NEXT)."""
    out = stop_loc.copy()
    n = raw.shape[0]
    for i in np.flatnonzero(raw == HERE).tolist():
        out[i] = out[i - 1] if i > 0 else start
    for i in np.flatnonzero(raw == NEXT)[::-1].tolist():
        out[i] = out[i + 1] if i + 1 < n else end
    return out


def schedule(problem: Problem, route: Route) -> RouteSchedule:
    """Compute the times, loads and lateness of one route.

    The vehicle leaves its start as late as it can without making any stop later than the
    earliest schedule would: it starts at its shift start, then shifts the departure later
    by the waiting it would otherwise do, as far as every window allows (less the
    problem's :attr:`~Problem.margins` before each drop-off's window end).

    Parameters
    ----------
    problem
        The problem the route belongs to.
    route
        The vehicle and its stops in driving order.

    Returns
    -------
    RouteSchedule
    """
    p = problem
    v = route.vehicle
    raw = np.asarray(route.orders, dtype=np.int64)
    marker = raw < 0  # a break or a reload: no order
    is_break = np.array([k == BREAK for k in route.kinds], dtype=bool)
    is_reload = np.array([k == RELOAD for k in route.kinds], dtype=bool)
    orders = np.maximum(raw, 0)
    is_pickup = np.array([k == PICKUP for k in route.kinds], dtype=bool)
    stores = np.where(marker, -1, p.order_store[orders])
    stop_loc = np.where(is_pickup, per_store(p.store_loc, stores, 0), p.order_loc[orders])
    stop_service = np.where(is_pickup, p.shop_s[orders], p.dropoff_s[orders])
    stop_lo = np.where(is_pickup, per_store(p.store_open_s, stores, 0), p.window_start_s[orders])
    stop_hi = np.where(
        is_pickup, per_store(p.store_close_s, stores, 0) - p.shop_s[orders], p.window_end_s[orders]
    )
    shift = (int(p.shift_start_s[v]), int(p.shift_end_s[v]))
    if is_reload.any():  # back at the start depot, loading for the next trip
        stop_service = np.where(is_reload, max(0, int(p.reload_s[v])), stop_service)
        stop_lo = np.where(is_reload, shift[0], stop_lo)
        stop_hi = np.where(is_reload, shift[1], stop_hi)
        stop_loc = np.where(is_reload, p.start_loc[v], stop_loc)
    if is_break.any():
        stop_service = np.where(is_break, p.break_s[v], stop_service)
        stop_lo = np.where(is_break, p.break_start_s[v], stop_lo)
        stop_hi = np.where(is_break, p.break_end_s[v], stop_hi)
        stop_loc = _break_places(stop_loc, raw, int(p.start_loc[v]), int(p.end_loc[v]))
    loc = np.concatenate([[p.start_loc[v]], stop_loc, [p.end_loc[v]]]).astype(np.int64)
    # a store visit's fixed part is paid on arriving at the store from elsewhere, once the
    # store is open, before the order's shopping (which must still end by closing time)
    visit = np.where(is_pickup & (loc[1:-1] != loc[:-2]), per_store(p.store_visit_s, stores, 0), 0)
    stop_service = stop_service + visit
    stop_hi = stop_hi - visit
    service = np.concatenate([[0], stop_service, [0]]).astype(np.int64)
    lo = np.concatenate([[shift[0]], stop_lo, [shift[0]]]).astype(np.int64)
    hi = np.concatenate([[shift[1]], stop_hi, [shift[1]]]).astype(np.int64)
    # each row's windows: a drop-off's own (one or several), every other row its [lo, hi]
    win = np.repeat(np.stack([lo, hi], axis=1)[:, None, :], p.order_windows.shape[1], axis=1)
    is_drop = np.concatenate([[False], ~is_pickup & ~marker, [False]])
    win[is_drop] = p.order_windows[orders[~is_pickup & ~marker]]
    distance = np.zeros(loc.shape[0], dtype=np.int64)
    distance[1:] = p.distance_m[loc[:-1], loc[1:]]

    # soft windows: how late each drop-off may be, and what each second late costs
    drop_orders = np.where(is_drop, np.concatenate([[0], orders, [0]]), 0)
    late_allowed = np.where(is_drop, p.max_late_s[drop_orders], 0)
    late_rate = np.where(is_drop, p.late_cost_per_h[drop_orders] / 3600.0, 0.0)

    rows = _Rows(p, loc, win, service, np.where(is_drop, p.margins[drop_orders], 0))
    times = _latest_start(rows, shift[0])
    if times.duration > p.max_route_s[v]:
        times = _within_route_limit(rows, times, late_allowed, int(p.max_route_s[v]))
    travel, arrival, wait, departure, late, lo, hi = times

    from_depot = (~is_pickup) & (stores < 0) & ~marker
    trip = np.cumsum(is_reload)  # a reload starts the next trip
    load = _loads(np.where(marker, 0, p.demand[orders]), is_pickup, from_depot, trip)
    dim_load = (
        _loads(np.where(marker[:, None], 0, p.dim_demand[orders]), is_pickup, from_depot, trip)
        if p.dim_names
        else np.zeros((loc.shape[0], 0), dtype=np.int64)
    )

    kinds = ("start", *route.kinds, "end")
    return RouteSchedule(
        route=route,
        kind=kinds,
        loc=loc,
        arrival_s=arrival,
        wait_s=wait,
        service_s=service,
        departure_s=departure,
        travel_s=travel,
        distance_m=distance,
        load=load,
        window_start_s=lo,
        window_end_s=hi,
        late_s=late,
        dim_load=dim_load,
        late_allowed_s=late_allowed,
        late_cost=float((late * late_rate).sum()),
    )


def route_cost(problem: Problem, sched: RouteSchedule, *, duration_s: float | None = None) -> float:
    """What one route costs: its vehicle's fixed cost, per km and per route hour (the
    schedule's duration, or ``duration_s`` when the route took another time, as driven),
    and the cost of its soft windows' lateness."""
    v = sched.route.vehicle
    hours = (sched.duration_s if duration_s is None else duration_s) / 3600.0
    return (
        float(problem.fixed_cost[v])
        + float(problem.cost_per_km[v]) * sched.total_distance_m / 1000.0
        + float(problem.cost_per_hour[v]) * hours
        + sched.late_cost
    )


def plan_cost(
    p: Problem, routes: Sequence[Route] | None, orders: npt.NDArray[np.int64]
) -> tuple[float, float]:
    """How good a search's routes are: the weight of the orders they leave out (each
    ``1 + priority``), then their cost (fixed, per km, per route hour) as scheduled."""
    if routes is None:
        return float("inf"), float("inf")
    routed = {o for r in routes for o in r.orders if o >= 0}
    left = [o for o in orders.tolist() if o not in routed]
    cost = sum(route_cost(p, schedule(p, route)) for route in routes)
    return float((1.0 + p.priority[left]).sum()), cost
