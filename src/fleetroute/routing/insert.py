"""Put one order into existing routes without touching the rest, and say what blocks it.

Cheapest feasible insertion: every route (and one empty vehicle of each kind) is tried
with the order's drop-off at every position and, for a store order, its pickup at the few
cheapest positions before it. Each candidate is scheduled with the same :func:`schedule`
the plan uses, so a candidate is feasible exactly when the plan would show it on time,
within capacity, shift and stop limit. The same search, run on an order the solver left
out, names the constraint that kept it out.

A drop-off position is scheduled only if simple bounds leave it a chance: the earliest the
vehicle can get there (every earlier stop as early as its window allows, every leg in its
fastest band) must reach the order within its window and the next stop within the latest
start the rest of the route allows. The positions left are scheduled in the order of a lower
bound of what they add (the new legs in their fastest band, the order's own service time,
and the extra metres), and the search stops when that bound passes the cheapest insertion
found. Neither bound rules out the cheapest feasible position, so the insertion is the same
as scheduling every one. Both are worked out for every route at once first (numpy over the
routes' gaps end to end), so that a route none of whose positions has a chance, or whose
cheapest bound is above the cheapest insertion found, is never opened; what each route
contributes to them is kept (``facts``) for the next order placed in the same routes.
Placing the 90 orders a 5,000-order day's searches left out (350 routes): 12.3 s ->
9.7-11.0 s, the same places and reasons; most of what is left names why 47 of them fit
nowhere.

When no position is feasible, the constraint closest to being kept is named from the
positions where the order's drop-off looks least late (at most ``_EXPLAIN_TRIES`` of them:
on that day every position was 17,000 schedules, 7 s an order; of its first 47 such
orders, 45 got the same lateness from 400 as from all of them, two 2 and 5 minutes more).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fleetroute.routing.problem import Problem
from fleetroute.routing.schedule import (
    DROPOFF,
    PICKUP,
    RELOAD,
    Route,
    RouteSchedule,
    route_cost,
    schedule,
)
from fleetroute.times import format_clock

__all__ = [
    "Insertion",
    "cheapest_insertion",
    "place_or_explain",
    "why_left_out",
    "feasible_part",
]

#: Pickup positions tried per route for a store order (the cheapest detours).
_PICKUP_POSITIONS = 4


@dataclass(frozen=True)
class Insertion:
    """Where an order went: the vehicle's new route and what it adds to the plan's cost."""

    route: Route
    added_cost: float


@dataclass(frozen=True)
class _Check:
    """What a candidate route breaks, in the plan's units (zero: kept)."""

    late_s: int  # lateness of the worst stop
    late_order: int  # which order's stop (-1: none)
    shift_s: int  # past the shift end
    over_capacity: int
    over_stops: int
    over_dim: int = 0  # units over the most exceeded extra capacity dimension
    dim: int = -1  # which dimension (-1: none)
    over_route_s: int = 0  # seconds over max_route_s
    over_distance_m: int = 0  # metres over max_distance_m

    def _amounts(self) -> tuple[int, ...]:
        return (
            self.late_s,
            self.shift_s,
            self.over_capacity,
            self.over_stops,
            self.over_dim,
            self.over_route_s,
            self.over_distance_m,
        )

    @property
    def size(self) -> tuple[int, int, int]:
        """How badly: constraints broken, then seconds late or over, then units over."""
        broken = sum(bool(x) for x in self._amounts())
        return (
            broken,
            self.late_s + self.shift_s + self.over_route_s,
            self.over_capacity + self.over_stops + self.over_dim + self.over_distance_m,
        )

    def no_worse_than(self, other: _Check) -> bool:
        """Breaks nothing that ``other`` keeps (a route already late may stay as late)."""
        return all(a <= b for a, b in zip(self._amounts(), other._amounts(), strict=True))


_FINE = _Check(0, -1, 0, 0, 0)


def _check(p: Problem, sched: RouteSchedule) -> _Check:
    late = sched.over_late_s[1:-1]  # a soft window's allowed lateness is kept
    worst = int(np.argmax(late)) if late.size else 0
    late_order = int(sched.route.orders[worst]) if late.size and late[worst] > 0 else -1
    drops = sum(1 for k in sched.route.kinds if k == DROPOFF)
    k = sched.route.vehicle
    over_dims = sched.dim_load.max(axis=0, initial=0) - p.dim_capacity[k] if p.dim_names else None
    dim = int(np.argmax(over_dims)) if over_dims is not None else -1
    return _Check(
        late_s=int(late[worst]) if late.size else 0,
        late_order=late_order,
        shift_s=int(sched.late_s[-1]),
        over_capacity=max(0, int(sched.load.max()) - int(p.capacity[k])),
        over_stops=max(0, drops - int(p.max_stops[k])),
        over_dim=max(0, int(over_dims[dim])) if over_dims is not None else 0,
        dim=dim if over_dims is not None and over_dims[dim] > 0 else -1,
        over_route_s=max(0, sched.duration_s - int(p.max_route_s[k])),
        over_distance_m=max(0, sched.total_distance_m - int(p.max_distance_m[k])),
    )


def _cost(p: Problem, sched: RouteSchedule | None, vehicle: int) -> float:
    return 0.0 if sched is None else route_cost(p, sched)


@dataclass(frozen=True)
class _Chances:
    """Which insertions of an order into one route may keep it feasible (False: cannot),
    by gap ``g`` (before the route's ``g``-th stop, 0 to n): ``drop[g]`` a drop-off there
    after its pickup (or with none); for a store order, ``pickup[g]`` its pickup there
    with the drop-off in a later gap, ``pair[g]`` pickup and drop-off together there."""

    drop: np.ndarray
    pickup: np.ndarray
    pair: np.ndarray


def _chances(p: Problem, f: _Facts, order: int) -> _Chances | None:
    """The :class:`_Chances` of ``order`` in the route of ``f``, or None (all may) for a
    route that already breaks something or a problem with breaks (no bounds,
    :attr:`_Facts.early`)."""
    if f.early is None or f.late is None:
        return None
    sched = f.sched
    drop, pickup, pair = _gap_chances(p, order, sched.loc[:-1], sched.loc[1:], f.early, f.late)
    kinds = sched.route.kinds
    if p.order_store[order] < 0 and PICKUP not in kinds and RELOAD not in kinds:
        # all on board from the start
        drop &= int(sched.load.max()) + int(p.demand[order]) <= int(p.capacity[sched.route.vehicle])
        return _Chances(drop, drop, drop)
    return _Chances(drop, pickup, pair)


def _gap_chances(
    p: Problem,
    order: int,
    here: np.ndarray,
    nxt: np.ndarray,
    early: np.ndarray,
    late: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:class:`_Chances`' ``drop``, ``pickup`` and ``pair`` of ``order`` in gaps from
    places ``here`` to ``nxt`` (one route's, or many routes' one after another), left
    the earliest at ``early`` and reached by the latest at ``late`` (a route's
    :attr:`_Facts.early` and :attr:`_Facts.late`); an order not shopped: ``drop`` thrice.

    Earliest departures run forward from the shift start with the fastest band of every
    leg; latest starts run backward from the shift end within each stop's window (and a
    soft window's allowance). An added stop only pushes the stops after it and can only
    add store visits, so an insertion that misses these bounds misses the real schedule:
    except that a pickup just before another pickup at its store takes over that stop's
    visit, so the check from such a pickup to that stop is left out.
    """
    fast = p.travel_s
    at = int(p.order_loc[order])
    due = int(p.window_end_s[order] + p.max_late_s[order])
    opens, drop_s = int(p.window_start_s[order]), int(p.dropoff_s[order])

    def dropped(start: np.ndarray) -> np.ndarray:
        """The drop-off, starting no earlier than ``start``, on time and leaving time to
        reach the next stop."""
        start = np.maximum(start, opens)
        return (start <= due) & (start + drop_s + fast[at, nxt] <= late)

    drop = dropped(early + fast[here, at])
    store = int(p.order_store[order])
    if store < 0:
        return drop, drop, drop
    shop = int(p.shop_s[order])
    at_store = int(p.store_loc[store])
    begin = np.maximum(early + fast[here, at_store], int(p.store_open_s[store]))
    open_in_time = begin <= int(p.store_close_s[store]) - shop
    onward = (begin + shop + fast[at_store, nxt] <= late) | (nxt == at_store)
    pair = open_in_time & dropped(begin + shop + fast[at_store, at])
    return drop, open_in_time & onward, pair


def _time_bounds(p: Problem, sched: RouteSchedule) -> tuple[np.ndarray, np.ndarray]:
    """By gap of the route of ``sched``: the earliest departure from the stop before it
    (from the shift start, every leg in its fastest band, every stop as early as its
    window allows) and the latest start at the stop after it (backward from the shift end
    within each stop's window and a soft window's allowance)."""
    n = len(sched.route.orders)
    leg = p.travel_s[sched.loc[:-1], sched.loc[1:]]
    early = np.empty(n + 2, dtype=np.int64)  # earliest departure from each row
    t = int(sched.window_start_s[0])
    early[0] = t
    for j in range(1, n + 2):
        t = max(t + int(leg[j - 1]), int(sched.window_start_s[j])) + int(sched.service_s[j])
        early[j] = t
    hi = sched.window_end_s + sched.late_allowed_s
    late = np.empty(n + 2, dtype=np.int64)  # latest start at each row
    t = int(hi[-1])
    late[-1] = t
    for j in range(n, -1, -1):
        t = min(int(hi[j]), t - int(leg[j]) - int(sched.service_s[j]))
        late[j] = t
    return early[:-1], late[1:]


@dataclass(frozen=True)
class _Detours:
    """What ``order``'s new legs add to a route, by gap (as :class:`_Chances`): seconds
    (fastest band) and metres of its drop-off alone there, of its store pickup alone there
    and of the two together there; the pickup's positions tried (the cheapest detours,
    empty for an order not shopped)."""

    drop_s: np.ndarray
    drop_m: np.ndarray
    pick_s: np.ndarray
    pick_m: np.ndarray
    pair_s: np.ndarray
    pair_m: np.ndarray
    pickups: list[int]


def _detours(
    p: Problem, here: np.ndarray, nxt: np.ndarray, order: int, *, pickups: bool = True
) -> _Detours:
    """The :class:`_Detours` of ``order`` in the gaps from places ``here`` to ``nxt``
    (a route's: its schedule's places but the last, and but the first); ``pickups``:
    with the pickup's positions to try."""
    fast, metres = p.travel_s, p.distance_m
    at = int(p.order_loc[order])
    drop_s = fast[here, at] + fast[at, nxt] - fast[here, nxt]
    drop_m = metres[here, at] + metres[at, nxt] - metres[here, nxt]
    if p.order_store[order] < 0:
        return _Detours(drop_s, drop_m, drop_s, drop_m, drop_s, drop_m, [])
    store = int(p.store_loc[p.order_store[order]])
    pick_m = metres[here, store] + metres[store, nxt] - metres[here, nxt]
    return _Detours(
        drop_s,
        drop_m,
        fast[here, store] + fast[store, nxt] - fast[here, nxt],
        pick_m,
        fast[here, store] + fast[store, at] + fast[at, nxt] - fast[here, nxt],
        metres[here, store] + metres[store, at] + metres[at, nxt] - metres[here, nxt],
        np.argsort(pick_m, kind="stable")[:_PICKUP_POSITIONS].tolist() if pickups else [],
    )


def _guesses(
    p: Problem, sched: RouteSchedule, order: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every place :func:`_candidates` has for ``order`` in the route of ``sched`` (no
    chances left out), as arrays ``(key, pickup, drop-off)``: the positions, and a key
    that orders them by about how late the order's drop-off would start (seconds past its
    window and any soft allowance, the stops before kept as scheduled and the new legs in
    their fastest band: a guess, not a bound), then by the seconds the new legs add."""
    n = len(sched.route.orders)
    fast, here, leave = p.travel_s, sched.loc[:-1], sched.departure_s[:-1]
    at = int(p.order_loc[order])
    due = int(p.window_end_s[order] + p.max_late_s[order])
    opens = int(p.window_start_s[order])

    def late(start: np.ndarray) -> np.ndarray:
        return np.maximum(0, np.maximum(start, opens) - due).astype(np.float64) * 1e6

    d = _detours(p, sched.loc[:-1], sched.loc[1:], order)
    reach = leave + fast[here, at]
    gaps = np.arange(n + 1)
    store = int(p.order_store[order])
    if store < 0:
        return late(reach) + d.drop_s, np.full(n + 1, -1), gaps
    shop, at_store = int(p.shop_s[order]), int(p.store_loc[store])
    at_shop = np.maximum(leave + fast[here, at_store], int(p.store_open_s[store]))
    keys, picks, drops = [], [], []
    for i in d.pickups:
        later = gaps[i + 1 :]  # the drop-off's gap after the pickup's
        keys += [
            late(at_shop[i : i + 1] + shop + fast[at_store, at]) + d.pair_s[i],
            late(reach[later] + d.pick_s[i] + shop) + d.pick_s[i] + d.drop_s[later],
        ]
        picks.append(np.full(later.size + 1, i))
        drops += [np.array([i + 1]), later + 1]
    return np.concatenate(keys), np.concatenate(picks), np.concatenate(drops)


def _candidates(
    p: Problem, sched: RouteSchedule, order: int, chances: _Chances | None = None
) -> Iterator[tuple[int, int, int, int]]:
    """Where ``order`` can go in the route of ``sched``: drop-off anywhere, a store pickup
    at its cheapest spots (by detour from the scheduled route); only where ``chances`` (if
    given) leave it a chance. Each is ``(pickup, drop-off, seconds, metres)``: the
    positions :func:`_with` puts them at (pickup -1: none), and the seconds (in the
    fastest band) and metres its new legs add to the route's."""
    n = len(sched.route.orders)
    yes = np.ones(n + 1, dtype=bool)
    c = chances or _Chances(yes, yes, yes)
    d = _detours(p, sched.loc[:-1], sched.loc[1:], order)
    drop_s, drop_m = d.drop_s.tolist(), d.drop_m.tolist()
    if p.order_store[order] < 0:
        for j in np.flatnonzero(c.drop).tolist():
            yield -1, j, drop_s[j], drop_m[j]
        return
    pick_s, pick_m = d.pick_s.tolist(), d.pick_m.tolist()
    pair_s, pair_m = d.pair_s.tolist(), d.pair_m.tolist()
    for i in d.pickups:
        if c.pair[i]:  # the drop-off right after the pickup
            yield i, i + 1, pair_s[i], pair_m[i]
        if c.pickup[i]:  # or later: after stop j - 2 (gap j - 1)
            for j in range(i + 2, n + 2):
                if c.drop[j - 1]:
                    yield i, j, pick_s[i] + drop_s[j - 1], pick_m[i] + drop_m[j - 1]


def _with(route: Route, order: int, pickup: int, drop: int) -> Route:
    """``route`` with ``order``'s pickup before its stop ``pickup`` (-1: none) and then
    its drop-off before stop ``drop`` of the route with the pickup."""
    kinds, orders = list(route.kinds), list(route.orders)
    if pickup >= 0:
        kinds.insert(pickup, PICKUP)
        orders.insert(pickup, order)
    kinds.insert(drop, DROPOFF)
    orders.insert(drop, order)
    return Route(route.vehicle, tuple(kinds), tuple(orders))


def _routes_to_try(p: Problem, routes: Sequence[Route]) -> list[Route]:
    """The used routes, and one empty route for each distinct kind of idle vehicle."""
    used = {r.vehicle for r in routes}
    kinds = p.vehicle_kinds()
    seen: set[int] = set()
    empty = []
    for k in range(p.n_vehicles):
        if k not in used and kinds[k] not in seen:
            seen.add(int(kinds[k]))
            empty.append(Route(k, (), ()))
    return [*routes, *empty]


def _keeps_locked_sequence(p: Problem, route: Route) -> bool:
    """Whether the route's drop-offs with a locked rank come in the order of their ranks."""
    ranks = [
        int(p.order_rank[o])
        for kind, o in zip(route.kinds, route.orders, strict=True)
        if kind == DROPOFF and p.order_rank[o] >= 0
    ]
    return all(a < b for a, b in zip(ranks[:-1], ranks[1:], strict=False))


def _search(
    p: Problem,
    routes: Sequence[Route],
    order: int,
    vehicle: int = -1,
    known: Mapping[Route, RouteSchedule] | None = None,
    facts: dict[Route, _Facts] | None = None,
) -> tuple[Insertion | None, tuple[_Check, Route] | None]:
    """The cheapest feasible insertion, and the least-broken infeasible one (on
    ``vehicle`` only, if given): first where :func:`_chances` leaves a chance, then,
    if none is feasible, at the positions :func:`_explained` tries to find the
    least-broken one."""
    seen = facts if facts is not None else {}
    best, _ = _tried(p, routes, order, vehicle, known or {}, bounded=True, facts=seen)
    if best is not None:
        return best, None
    return _explained(p, routes, order, vehicle, known or {}, _EXPLAIN_TRIES, facts=seen)


@dataclass(frozen=True)
class _Facts:
    """What the insertion searches need of one route, whatever the order: its schedule,
    its cost and what it breaks (an idle vehicle's empty route: nothing, and no fixed
    cost yet), and the parts of a lower bound of its cost with an order added
    (:func:`_floor`): its legs' seconds in their fastest band and metres, and its stops'
    own service seconds (no store visits)."""

    sched: RouteSchedule
    before: float
    base: _Check
    legs_s: int
    legs_m: int
    own_s: int
    #: by gap, the earliest departure before it and the latest start after it
    #: (:func:`_time_bounds`); None for a route that breaks something already or a
    #: problem with breaks (no such bounds)
    early: np.ndarray | None = None
    late: np.ndarray | None = None

    @property
    def used(self) -> bool:
        return bool(self.sched.route.orders)


def _facts(p: Problem, route: Route, known: Mapping[Route, RouteSchedule]) -> _Facts:
    """The :class:`_Facts` of ``route`` (its schedule from ``known`` if there)."""
    sched = known.get(route) or schedule(p, route)
    used = bool(route.orders)
    loc, v = sched.loc, route.vehicle
    own = 0
    for kind, o in zip(route.kinds, route.orders, strict=True):
        if kind == PICKUP:
            own += int(p.shop_s[o])
        elif kind == DROPOFF:
            own += int(p.dropoff_s[o])
        elif kind == RELOAD:
            own += max(0, int(p.reload_s[v]))
    base = _check(p, sched) if used else _FINE
    early, late = (None, None) if p.has_breaks or base != _FINE else _time_bounds(p, sched)
    return _Facts(
        sched,
        route_cost(p, sched) if used else 0.0,
        base,
        int(p.travel_s[loc[:-1], loc[1:]].sum()),
        int(p.distance_m[loc[:-1], loc[1:]].sum()),
        own,
        early,
        late,
    )


def _tried(
    p: Problem,
    routes: Sequence[Route],
    order: int,
    vehicle: int,
    known: Mapping[Route, RouteSchedule],
    *,
    bounded: bool,
    facts: dict[Route, _Facts] | None = None,
) -> tuple[Insertion | None, tuple[_Check, Route] | None]:
    """Every candidate (``bounded``: only where :func:`_chances` leaves a chance, and in
    the order of a lower bound of its added cost, stopping once the bound passes the
    cheapest found), scheduled and checked against its route as it was. ``facts``: what
    is known of the routes (filled in with what is learnt).

    The cheapest feasible one wins; among equal costs, the first in route and candidate
    order, so that both ways find the same insertion.

    Bounded, the routes are opened in the order of a lower bound of what the order adds
    to each (:func:`_bounds`, every route at once), and a route's candidates are
    scheduled only while no route left can be cheaper: on a 5,000-order day most of its
    350 routes are never opened."""
    tried = _routes_to_try(p, routes)
    opened = _open_routes(p, tried, order, vehicle, known, facts)
    found = _Found(p, tried, order)
    if not bounded:
        for r, f in opened:
            for c, (pick, drop, _, _) in enumerate(_candidates(p, f.sched, order)):
                found.consider((-np.inf, r, c, pick, drop, f.before, f.base))
        return found.result()
    least, possible = _bounds(p, opened, order)
    heap: list[_Queued] = []
    for k in np.lexsort((np.arange(len(opened)), least)).tolist():
        if not possible[k]:
            continue
        while heap and heap[0][0] < least[k]:  # no route left has a candidate below these
            found.consider(heapq.heappop(heap))
        if least[k] > found.cost + _COST_TOL:
            break  # sorted: no route left can be cheaper
        r, f = opened[k]
        chances = _chances(p, f, order) if f.used else None
        floor = _floor(p, f, order)
        for c, (pick, drop, extra_s, extra_m) in enumerate(_candidates(p, f.sched, order, chances)):
            lower = -np.inf if floor is None else floor(extra_s, extra_m) - f.before
            if lower <= found.cost + _COST_TOL:
                heapq.heappush(heap, (lower, r, c, pick, drop, f.before, f.base))
    while heap and heap[0][0] <= found.cost + _COST_TOL:
        found.consider(heapq.heappop(heap))
    return found.result()


def _explained(
    p: Problem,
    routes: Sequence[Route],
    order: int,
    vehicle: int,
    known: Mapping[Route, RouteSchedule],
    most: int,
    facts: dict[Route, _Facts] | None = None,
) -> tuple[Insertion | None, tuple[_Check, Route] | None]:
    """:func:`_tried` of the ``most`` candidates whose drop-off looks least late, then
    whose new legs add the fewest seconds (:func:`_guesses`): to name what keeps an order
    out where no candidate could be feasible, without scheduling every one."""
    tried = _routes_to_try(p, routes)
    rows, keys, picks, drops = [], [], [], []
    for r, f in _open_routes(p, tried, order, vehicle, known, facts):
        key, pick, drop = _guesses(p, f.sched, order)
        rows += [(r, f)] * key.size
        keys.append(key)
        picks.append(pick)
        drops.append(drop)
    found = _Found(p, tried, order)
    if keys:
        key = np.concatenate(keys)
        first = np.lexsort((np.arange(key.size), key))[:most].tolist()
        pick, drop = np.concatenate(picks)[first].tolist(), np.concatenate(drops)[first].tolist()
        for k, i, j in zip(first, pick, drop, strict=True):
            r, f = rows[k]
            found.consider((-np.inf, r, k, i, j, f.before, f.base))
    return found.result()


#: A candidate waiting to be scheduled: (lower bound of its cost, route index, candidate
#: index, pickup and drop-off positions for :func:`_with`, route's cost before, what the
#: route broke before).
_Queued = tuple[float, int, int, int, int, float, _Check]


def _open_routes(
    p: Problem,
    tried: Sequence[Route],
    order: int,
    vehicle: int,
    known: Mapping[Route, RouteSchedule],
    facts: dict[Route, _Facts] | None,
) -> list[tuple[int, _Facts]]:
    """Each route of ``tried`` that may take ``order`` (its locked vehicle, or
    ``vehicle`` if given; one with its skills): its index and :class:`_Facts` (from
    ``facts``, or learnt and put there; ``None``: learnt for this call only)."""
    if facts is None:
        facts = {}
    only = vehicle if vehicle >= 0 else int(p.order_vehicle[order])
    skilled = p.skilled(np.array([order]))[0]
    out = []
    for r, route in enumerate(tried):
        if (only >= 0 and route.vehicle != only) or not skilled[route.vehicle]:
            continue
        f = facts.get(route)
        if f is None:
            f = facts[route] = _facts(p, route, known)
        out.append((r, f))
    return out


class _Found:
    """The candidates considered so far for ``order``: the cheapest feasible one (among
    equal costs the first by route and candidate index), and the least-broken other."""

    def __init__(self, p: Problem, tried: Sequence[Route], order: int) -> None:
        self.p, self.tried, self.order = p, tried, order
        self.ranked = bool((p.order_rank >= 0).any())
        self.best: tuple[float, int, int, Route] | None = None  # (added, route, cand., route)
        self.closest: tuple[_Check, Route] | None = None

    @property
    def cost(self) -> float:
        """What the cheapest feasible candidate adds (infinite: none yet)."""
        return np.inf if self.best is None else self.best[0]

    def consider(self, item: _Queued) -> None:
        """Schedule a candidate and keep it if it is the cheapest or the least broken."""
        _, r, c, pick, drop, before, base = item
        cand = _with(self.tried[r], self.order, pick, drop)
        if self.ranked and not _keeps_locked_sequence(self.p, cand):
            return
        sched = schedule(self.p, cand)
        check = _check(self.p, sched)
        if check.no_worse_than(base):
            key = (_cost(self.p, sched, cand.vehicle) - before, r, c, cand)
            if self.best is None or key[:3] < self.best[:3]:
                self.best = key
        elif self.closest is None or check.size < self.closest[0].size:
            self.closest = (check, cand)

    def result(self) -> tuple[Insertion | None, tuple[_Check, Route] | None]:
        best = None if self.best is None else Insertion(self.best[3], self.best[0])
        return best, self.closest


#: Slack for rounding when a candidate's lower bound is compared with a found cost.
_COST_TOL = 1e-6
#: Most candidates scheduled to name what keeps an order out (when none fits): on the
#: 5,000-order learned store day every position of 347 routes was ~17,000 schedules,
#: 7 s per order left out.
_EXPLAIN_TRIES = 400


def _floor(p: Problem, f: _Facts, order: int) -> Callable[[int, int], float] | None:
    """A lower bound of the cost of the route of ``f`` with ``order`` added, from the
    seconds (fastest band) and metres its new legs add: the route takes at least its legs
    in their fastest band and every stop's own service (store visits and waiting only add),
    and soft lateness only adds. ``None`` where no such bound holds (breaks move with the
    stops around them; a negative cost rate)."""
    v = f.sched.route.vehicle
    per_km, per_h = float(p.cost_per_km[v]), float(p.cost_per_hour[v])
    if p.has_breaks or per_km < 0 or per_h < 0:
        return None
    own = f.own_s + _own_s(p, order)
    fixed, legs_s, legs_m = float(p.fixed_cost[v]), f.legs_s, f.legs_m

    def floor(extra_s: int, extra_m: int) -> float:
        return (
            fixed + per_km * (legs_m + extra_m) / 1000.0 + per_h * (legs_s + extra_s + own) / 3600.0
        )

    return floor


def _own_s(p: Problem, order: int) -> int:
    """``order``'s own service seconds: its drop-off, and its shop if it is shopped."""
    return int(p.dropoff_s[order]) + (int(p.shop_s[order]) if p.order_store[order] >= 0 else 0)


def _bounds(
    p: Problem, opened: list[tuple[int, _Facts]], order: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each opened route, every route at once: a lower bound of what adding
    ``order`` costs (the :func:`_floor` of the fewest seconds and metres any of its
    candidates adds; minus infinity where :func:`_floor` has none), and whether
    :func:`_chances` can leave any candidate a chance (False: none can be feasible)."""
    k = len(opened)
    if k == 0:
        return np.zeros(0), np.zeros(0, dtype=bool)
    loc = [f.sched.loc for _, f in opened]
    starts = np.cumsum([0] + [x.shape[0] - 1 for x in loc[:-1]])
    here = np.concatenate([x[:-1] for x in loc])
    nxt = np.concatenate([x[1:] for x in loc])
    free = np.array([not f.used or f.early is None for _, f in opened])
    if free.all():
        possible = free
    else:
        wide = np.iinfo(np.int64).max // 4  # a route without bounds: any time
        early = np.concatenate([np.full(x.shape[0] - 1, -wide) for x in loc])
        late = np.concatenate([np.full(x.shape[0] - 1, wide) for x in loc])
        for j, (_, f) in enumerate(opened):
            if not free[j] and f.early is not None and f.late is not None:
                early[starts[j] : starts[j] + f.early.shape[0]] = f.early
                late[starts[j] : starts[j] + f.late.shape[0]] = f.late
        drop, pickup, pair = _gap_chances(p, order, here, nxt, early, late)
        anywhere = np.logical_or.reduceat
        apart = anywhere(pickup, starts) & anywhere(drop, starts)
        possible = free | anywhere(pair, starts) | apart
    v = np.array([f.sched.route.vehicle for _, f in opened])
    per_km, per_h = p.cost_per_km[v], p.cost_per_hour[v]
    if p.has_breaks:
        return np.full(k, -np.inf), possible
    d = _detours(p, here, nxt, order, pickups=False)
    least = np.minimum.reduceat
    extra_s, extra_m = least(d.drop_s, starts), least(d.drop_m, starts)
    if p.order_store[order] >= 0:  # the pair at one gap, or the pickup and drop-off apart
        extra_s = np.minimum(least(d.pair_s, starts), least(d.pick_s, starts) + extra_s)
        extra_m = np.minimum(least(d.pair_m, starts), least(d.pick_m, starts) + extra_m)
    legs_s = np.array([f.legs_s for _, f in opened]) + extra_s
    legs_m = np.array([f.legs_m for _, f in opened]) + extra_m
    own = np.array([f.own_s for _, f in opened]) + _own_s(p, order)
    before = np.array([f.before for _, f in opened])
    bound = p.fixed_cost[v] + per_km * legs_m / 1000.0 + per_h * (legs_s + own) / 3600.0 - before
    return np.where((per_km < 0) | (per_h < 0), -np.inf, bound), possible


def cheapest_insertion(
    p: Problem, routes: Sequence[Route], order: int, *, vehicle: int = -1
) -> Insertion | None:
    """The cheapest way to add ``order`` to ``routes`` (on ``vehicle`` only, if given)
    keeping every route feasible.

    Other routes and the relative order of every other stop stay as they are. ``None``
    when no route can take it (see :func:`why_left_out` for why).
    """
    return _search(p, routes, order, vehicle)[0]


def why_left_out(p: Problem, routes: Sequence[Route], order: int) -> str:
    """A plain-words reason why ``order`` fits in none of ``routes``: the constraint its
    best placement (of those tried, see the module's notes) would break, and by how much."""
    best, closest = _search(p, routes, order)
    if best is not None:
        return "it fits, but only at a cost above the penalty for leaving it out"
    return _reason(p, order, closest)


def place_or_explain(
    p: Problem,
    routes: Sequence[Route],
    order: int,
    known: Mapping[Route, RouteSchedule] | None = None,
    *,
    facts: dict[Route, Any] | None = None,
) -> tuple[Insertion | None, str]:
    """The cheapest feasible insertion of ``order`` into ``routes``, or ``None`` and the
    plain-words reason of :func:`why_left_out`; one search for both. ``known`` schedules
    of the routes (on a problem that differs only in ``order``) are not computed again.
    ``facts``: a dict in which the search keeps what it learns of each route (schedule,
    cost, what it breaks), to pass again with the next order placed on the same problem
    (the routes it did not change are not looked at again)."""
    best, closest = _search(p, routes, order, known=known, facts=facts)
    return (best, "") if best is not None else (None, _reason(p, order, closest))


def _reason(p: Problem, order: int, closest: tuple[_Check, Route] | None) -> str:
    """The constraint the least-broken placement of ``order`` would break, in words."""
    if closest is None:
        if not p.skilled(np.array([order]))[0].any():
            said = ", ".join(f"'{m}'" for m in p.skill_labels(int(p.order_skills[order])))
            return f"no vehicle has all of its skills ({said})"
        return "no vehicle could take it"
    check, route = closest
    vehicle = p.vehicle_id[route.vehicle]
    parts = []
    if check.late_s:
        if check.late_order == order:
            who = "it"
        elif check.late_order >= 0:
            who = f"order {p.order_id[check.late_order]}"
        else:
            who = "the driver's break"
        parts.append(f"make {who} {_minutes(check.late_s)} late")
    if check.shift_s:
        parts.append(
            f"end the shift {_minutes(check.shift_s)} after "
            f"{format_clock(int(p.shift_end_s[route.vehicle]), p.origin)}"
        )
    if check.over_capacity:
        parts.append(f"load {check.over_capacity} units above its capacity")
    if check.over_stops:
        parts.append(f"exceed its limit of {int(p.max_stops[route.vehicle])} drop-offs")
    if check.over_dim:
        name = p.dim_names[check.dim]
        parts.append(f"load {check.over_dim} {name} above its capacity_{name}")
    if check.over_route_s:
        parts.append(f"make the route {_minutes(check.over_route_s)} longer than its max_route_s")
    if check.over_distance_m:
        parts.append(
            f"make the route {check.over_distance_m / 1000:.1f} km longer than its max_distance_m"
        )
    return (
        "no route can take it: its best place, on vehicle "
        + vehicle
        + ", would "
        + (" and ".join(parts))
    )


def _minutes(seconds: int) -> str:
    return f"{max(1, round(seconds / 60))} min"


def feasible_part(p: Problem, route: Route) -> tuple[Route, list[int]]:
    """``route`` with the fewest orders taken out (one at a time, each time the one whose
    removal leaves the least broken) until its schedule breaks no rule, and the orders
    taken out. A route that breaks nothing comes back as it is.

    The solvers' own timing of a route can differ from :func:`schedule`'s (which window
    of several a stop takes, how a soft window's lateness is traded against a route
    limit); this is the safety net that keeps every plan within every hard rule.
    """
    removed: list[int] = []
    check = _check(p, schedule(p, route))
    while check.size[0] and any(o >= 0 for o in route.orders):
        best: tuple[tuple[int, int, int], Route, int] | None = None
        for o in dict.fromkeys(o for o in route.orders if o >= 0):
            keep = [(k, x) for k, x in zip(route.kinds, route.orders, strict=True) if x != o]
            cand = Route(route.vehicle, tuple(k for k, _ in keep), tuple(x for _, x in keep))
            size = _check(p, schedule(p, cand)).size
            if best is None or size < best[0]:
                best = (size, cand, o)
        assert best is not None
        _, route, order = best
        removed.append(order)
        check = _check(p, schedule(p, route))
    return route, removed
