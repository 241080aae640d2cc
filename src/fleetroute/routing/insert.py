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
as scheduling every one. When no position is feasible, the constraint closest to being
kept is named from the positions where the order's drop-off looks least late (at most
``_EXPLAIN_TRIES`` of them: on a 5,000-order day every position was 17,000 schedules, 7 s
an order; of its first 47 such orders, 45 got the same lateness from 400 as from all of
them, two 2 and 5 minutes more).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

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


def _chances(
    p: Problem, sched: RouteSchedule, order: int, base: _Check | None = None
) -> _Chances | None:
    """The :class:`_Chances` of ``order`` in the route of ``sched``, or None (all may) for
    a route that already breaks something (``base``: what it breaks, if known) or a
    problem with breaks.

    Earliest departures run forward from the shift start with the fastest band of every
    leg; latest starts run backward from the shift end within each stop's window (and a
    soft window's allowance). An added stop only pushes the stops after it and can only
    add store visits, so an insertion that misses these bounds misses the real schedule:
    except that a pickup just before another pickup at its store takes over that stop's
    visit, so the check from such a pickup to that stop is left out.
    """
    if p.has_breaks or (base if base is not None else _check(p, sched)) != _FINE:
        return None
    n = len(sched.route.orders)
    loc, fast = sched.loc, p.travel_s
    leg = fast[loc[:-1], loc[1:]]
    early = _earliest(p, sched)
    hi = sched.window_end_s + sched.late_allowed_s
    late = np.empty(n + 2, dtype=np.int64)  # latest start at each row
    t = int(hi[-1])
    late[-1] = t
    for j in range(n, -1, -1):
        t = min(int(hi[j]), t - int(leg[j]) - int(sched.service_s[j]))
        late[j] = t
    at, here, nxt = int(p.order_loc[order]), loc[:-1], loc[1:]
    due = int(p.window_end_s[order] + p.max_late_s[order])
    opens, drop_s = int(p.window_start_s[order]), int(p.dropoff_s[order])

    def dropped(start: np.ndarray) -> np.ndarray:
        """The drop-off, starting no earlier than ``start``, on time and leaving time to
        reach the next stop."""
        start = np.maximum(start, opens)
        return (start <= due) & (start + drop_s + fast[at, nxt] <= late[1:])

    drop = dropped(early[:-1] + fast[here, at])
    kinds = sched.route.kinds
    store = int(p.order_store[order])
    if store < 0:
        if PICKUP not in kinds and RELOAD not in kinds:  # all on board from the start
            drop &= int(sched.load.max()) + int(p.demand[order]) <= int(
                p.capacity[sched.route.vehicle]
            )
        return _Chances(drop, drop, drop)
    shop = int(p.shop_s[order])
    at_store = int(p.store_loc[store])
    begin = np.maximum(early[:-1] + fast[here, at_store], int(p.store_open_s[store]))
    open_in_time = begin <= int(p.store_close_s[store]) - shop
    onward = (begin + shop + fast[at_store, nxt] <= late[1:]) | (nxt == at_store)
    pair = open_in_time & dropped(begin + shop + fast[at_store, at])
    return _Chances(drop, open_in_time & onward, pair)


def _earliest(p: Problem, sched: RouteSchedule) -> np.ndarray:
    """The earliest departure from each row of ``sched``'s route: from the shift start,
    every leg in its fastest band, every stop as early as its window allows."""
    leg = p.travel_s[sched.loc[:-1], sched.loc[1:]]
    early = np.empty(len(sched.route.orders) + 2, dtype=np.int64)
    t = int(sched.window_start_s[0])
    early[0] = t
    for j in range(1, early.shape[0]):
        t = max(t + int(leg[j - 1]), int(sched.window_start_s[j])) + int(sched.service_s[j])
        early[j] = t
    return early


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


def _detours(p: Problem, sched: RouteSchedule, order: int) -> _Detours:
    """The :class:`_Detours` of ``order`` in the route of ``sched``."""
    loc, fast, metres = sched.loc, p.travel_s, p.distance_m
    here, nxt = loc[:-1], loc[1:]  # gap g: from row g to row g + 1
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
        np.argsort(pick_m, kind="stable")[:_PICKUP_POSITIONS].tolist(),
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

    d = _detours(p, sched, order)
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
    d = _detours(p, sched, order)
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
) -> tuple[Insertion | None, tuple[_Check, Route] | None]:
    """The cheapest feasible insertion, and the least-broken infeasible one (on
    ``vehicle`` only, if given): first where :func:`_chances` leaves a chance, then,
    if none is feasible, at the positions :func:`_explained` tries to find the
    least-broken one."""
    best, _ = _tried(p, routes, order, vehicle, known or {}, bounded=True)
    if best is not None:
        return best, None
    return _explained(p, routes, order, vehicle, known or {}, _EXPLAIN_TRIES)


def _tried(
    p: Problem,
    routes: Sequence[Route],
    order: int,
    vehicle: int,
    known: Mapping[Route, RouteSchedule],
    *,
    bounded: bool,
) -> tuple[Insertion | None, tuple[_Check, Route] | None]:
    """Every candidate (``bounded``: only where :func:`_chances` leaves a chance, and in
    the order of a lower bound of its added cost, stopping once the bound passes the
    cheapest found), scheduled and checked against its route as it was.

    The cheapest feasible one wins; among equal costs, the first in route and candidate
    order, so that both ways find the same insertion."""
    tried = _routes_to_try(p, routes)
    queue: list[_Queued] = []
    for r, current, before, base in _open_routes(p, tried, order, vehicle, known):
        used = bool(current.route.orders)
        chances = _chances(p, current, order, base) if bounded and used else None
        floor = _floor(p, current, order, used) if bounded else None
        for c, (pick, drop, extra_s, extra_m) in enumerate(_candidates(p, current, order, chances)):
            lower = -np.inf if floor is None else floor(extra_s, extra_m) - before
            queue.append((lower, r, c, pick, drop, before, base))
    if bounded:
        queue.sort(key=lambda q: (q[0], q[1], q[2]))
    return _scheduled(p, tried, order, queue, bounded=bounded)


def _explained(
    p: Problem,
    routes: Sequence[Route],
    order: int,
    vehicle: int,
    known: Mapping[Route, RouteSchedule],
    most: int,
) -> tuple[Insertion | None, tuple[_Check, Route] | None]:
    """:func:`_tried` of the ``most`` candidates whose drop-off looks least late, then
    whose new legs add the fewest seconds (:func:`_guesses`): to name what keeps an order
    out where no candidate could be feasible, without scheduling every one."""
    tried = _routes_to_try(p, routes)
    opened, keys, picks, drops = [], [], [], []
    for r, current, before, base in _open_routes(p, tried, order, vehicle, known):
        key, pick, drop = _guesses(p, current, order)
        opened += [(r, before, base)] * key.size
        keys.append(key)
        picks.append(pick)
        drops.append(drop)
    if not keys:
        return None, None
    key = np.concatenate(keys)
    first = np.lexsort((np.arange(key.size), key))[:most].tolist()
    pick, drop = np.concatenate(picks)[first].tolist(), np.concatenate(drops)[first].tolist()
    queue = [
        (-np.inf, opened[k][0], k, i, j, opened[k][1], opened[k][2])
        for k, i, j in zip(first, pick, drop, strict=True)
    ]
    return _scheduled(p, tried, order, queue)


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
) -> Iterator[tuple[int, RouteSchedule, float, _Check]]:
    """Each route of ``tried`` that may take ``order`` (its locked vehicle, or
    ``vehicle`` if given; one with its skills): its index, schedule, cost and what it
    breaks before."""
    only = vehicle if vehicle >= 0 else int(p.order_vehicle[order])
    skilled = p.skilled(np.array([order]))[0]
    for r, route in enumerate(tried):
        if (only >= 0 and route.vehicle != only) or not skilled[route.vehicle]:
            continue
        current = known.get(route) or schedule(p, route)
        used = bool(route.orders)
        before = _cost(p, current if used else None, route.vehicle)  # idle: no fixed cost
        yield r, current, before, _check(p, current) if used else _FINE


def _scheduled(
    p: Problem, tried: Sequence[Route], order: int, queue: list[_Queued], *, bounded: bool = False
) -> tuple[Insertion | None, tuple[_Check, Route] | None]:
    """The candidates of ``queue`` scheduled in turn (``bounded``: until the lower bound
    passes the cheapest found): the cheapest feasible one, and the least-broken other."""
    best: tuple[float, int, int, Route] | None = None  # (added, route, candidate, route)
    closest: tuple[_Check, Route] | None = None
    ranked = bool((p.order_rank >= 0).any())
    for lower, r, c, pick, drop, before, base in queue:
        if bounded and best is not None and lower > best[0] + _COST_TOL:
            break  # sorted: no candidate left can be cheaper
        cand = _with(tried[r], order, pick, drop)
        if ranked and not _keeps_locked_sequence(p, cand):
            continue
        sched = schedule(p, cand)
        check = _check(p, sched)
        if check.no_worse_than(base):
            key = (_cost(p, sched, cand.vehicle) - before, r, c, cand)
            if best is None or key[:3] < best[:3]:
                best = key
        elif closest is None or check.size < closest[0].size:
            closest = (check, cand)
    return (None if best is None else Insertion(best[3], best[0])), closest


#: Slack for rounding when a candidate's lower bound is compared with a found cost.
_COST_TOL = 1e-6
#: Most candidates scheduled to name what keeps an order out (when none fits): on the
#: 5,000-order learned store day every position of 347 routes was ~17,000 schedules,
#: 7 s per order left out.
_EXPLAIN_TRIES = 400


def _floor(
    p: Problem, sched: RouteSchedule, order: int, used: bool
) -> Callable[[int, int], float] | None:
    """A lower bound of the cost of the route of ``sched`` with ``order`` added, from the
    seconds (fastest band) and metres its new legs add: the route takes at least its legs
    in their fastest band and every stop's own service (store visits and waiting only add),
    and soft lateness only adds. ``None`` where no such bound holds (breaks move with the
    stops around them; a negative cost rate)."""
    v = sched.route.vehicle
    per_km, per_h = float(p.cost_per_km[v]), float(p.cost_per_hour[v])
    if p.has_breaks or per_km < 0 or per_h < 0:
        return None
    loc = sched.loc
    legs_s = int(p.travel_s[loc[:-1], loc[1:]].sum())
    legs_m = int(p.distance_m[loc[:-1], loc[1:]].sum())
    own = 0  # every stop's service without store visits: the order's, and the route's
    for kind, o in zip(sched.route.kinds, sched.route.orders, strict=True):
        if kind == PICKUP:
            own += int(p.shop_s[o])
        elif kind == DROPOFF:
            own += int(p.dropoff_s[o])
        elif kind == RELOAD:
            own += max(0, int(p.reload_s[v]))
    own += int(p.dropoff_s[order]) + (int(p.shop_s[order]) if p.order_store[order] >= 0 else 0)
    fixed = float(p.fixed_cost[v])

    def floor(extra_s: int, extra_m: int) -> float:
        return (
            fixed + per_km * (legs_m + extra_m) / 1000.0 + per_h * (legs_s + extra_s + own) / 3600.0
        )

    return floor


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
) -> tuple[Insertion | None, str]:
    """The cheapest feasible insertion of ``order`` into ``routes``, or ``None`` and the
    plain-words reason of :func:`why_left_out`; one search for both. ``known`` schedules
    of the routes (on a problem that differs only in ``order``) are not computed again."""
    best, closest = _search(p, routes, order, known=known)
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
