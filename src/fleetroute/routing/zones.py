"""Big days in zones: split the orders into sectors around the depots, give each sector
its share of the fleet, and search the sectors side by side.

OR-Tools' first complete plan grows faster than linearly with the stops (2,000 orders took
~45 s; 5,000 orders with 2,500 store pickups had none after 15 minutes), so a day with more
than ``SolveOptions.zone_orders`` orders is cut into sectors of about that many. Sectors
are slices of the compass around the depots' centre, each holding the same number of
orders (the cut starts at the widest empty angle); each gets vehicles in proportion to its
demand, nearest depots first. The sectors' searches run in forked worker processes (they
inherit the matrices rather than receive a copy), each with its share of the time limit;
orders a sector could not serve get one more search on the vehicles left idle.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from fleetroute.routing.options import SolveOptions, pool_context, worker_pool_kwargs
from fleetroute.routing.problem import Problem
from fleetroute.routing.schedule import Route, plan_cost

__all__ = [
    "POLISHED_SECTOR_SHARE",
    "SECTOR_SHARE",
    "n_zones",
    "polish_in_zones",
    "sectors",
    "share_fleet",
    "solve_in_zones",
]

#: A search of one problem: ``(problem, orders, options, workers) -> (routes, backend,
#: timings)``, ``routes`` None when it found no plan.
Search = Callable[
    [Problem, np.ndarray, SolveOptions, int],
    tuple[list[Route] | None, str, dict[str, float]],
]

#: Share of the time limit for the sectors; the rest is for the orders they left out.
SECTOR_SHARE = 0.85
#: Share of the time limit for the sectors of a search that goes on from a warm start
#: (PyVRP); the rest polishes their joined routes (:func:`polish_in_zones`), in two passes
#: (:data:`POLISH_SHIFTS`). On the 2,000-order learned store day (6 zones, 60 s) seeds 1
#: and 2 planned 29,378-29,630 without a polish, 29,378-29,484 after one pass in the last
#: 15%, 29,105-29,209 after one pass in the last 40-55%, 29,037-29,182 after two passes in
#: the last half; seeds 0, 3 and 4, 29,431-29,656 without, 28,868-29,037 with two.
POLISHED_SECTOR_SHARE = 0.5
#: Seconds a polish's pass must have to be worth starting its searches; below it the
#: sectors take :data:`SECTOR_SHARE` (at 5 s, 2,000- and 5,000-order store days ended at
#: 2.3 and 3.1 s without it: half the time unused).
POLISH_AT_LEAST_S = 2.0
#: Share of the time the polish leaves, at most, for placing or explaining the orders still
#: left out (one search of every route each): on the 5,000-order learned store day, 122 of
#: them, a polish to the end of the time limit had the solve end at 126 s of 120.
POLISH_LEAVES = 0.05
#: ... at least (what follows the search whatever is left out).
POLISH_LEAVES_AT_LEAST = 0.01
#: Seconds an order left out takes to place or explain, per route it may go in: about
#: 0.11 s an order among the 5,000-order learned store day's 340 routes (0.05 s placed,
#: 0.19 s explained). With it a day that leaves few out searches to nearer its limit: the
#: 2,000-order store day's polish ended at 56 s of 60 and placed its few in 0.03 s.
PLACING_S_PER_ROUTE = 3.3e-4
#: The polish's passes: each cuts the routes into groups this share of a group from
#: the sectors' cut.
POLISH_SHIFTS = (0.5, 0.0)


def n_zones(p: Problem, orders: np.ndarray, opts: SolveOptions) -> int:
    """How many zones ``solve`` cuts these orders into (1: none)."""
    if opts.zone_orders is None or p.has_locks:
        return 1
    return max(1, min(int(np.ceil(orders.shape[0] / opts.zone_orders)), p.n_vehicles))


def _bearings(p: Problem, loc: np.ndarray) -> np.ndarray:
    """Each place's bearing (radians) from the depots' centre."""
    depots = np.unique(p.start_loc)
    lat0, lon0 = float(p.loc_lat[depots].mean()), float(p.loc_lon[depots].mean())
    east = (p.loc_lon[loc] - lon0) * np.cos(np.radians(lat0))
    return np.asarray(np.arctan2(p.loc_lat[loc] - lat0, east))


def _around(angle: np.ndarray) -> np.ndarray:
    """Indices of ``angle`` in order around the compass, from the widest empty angle."""
    by_angle = np.argsort(angle, kind="stable")
    sorted_angle = angle[by_angle]
    gaps = np.diff(np.append(sorted_angle, sorted_angle[0] + 2 * np.pi))
    return np.roll(by_angle, -((int(np.argmax(gaps)) + 1) % angle.shape[0]))


def sectors(p: Problem, orders: np.ndarray, k: int) -> list[np.ndarray]:
    """``orders`` in ``k`` compass sectors around the depots' centre, equal in count."""
    around = _around(_bearings(p, p.order_loc[orders]))
    return [orders[part] for part in np.array_split(around, k)]


def share_fleet(p: Problem, zones: list[np.ndarray]) -> list[np.ndarray]:
    """Vehicle indices for each zone: a share of the fleet in proportion to the zone's
    demand (at least one each; largest remainders round up), nearest depots first."""
    k, n = len(zones), p.n_vehicles
    weight = np.array([float(p.demand[z].sum()) + 1e-6 * z.shape[0] for z in zones])
    exact = (n - k) * weight / weight.sum()
    quota = 1 + np.floor(exact).astype(np.int64)
    short = n - int(quota.sum())
    quota[np.argsort(-(exact - np.floor(exact)), kind="stable")[:short]] += 1
    free = np.ones(n, dtype=bool)
    out = []
    for zone, q in zip(zones, quota.tolist(), strict=True):
        loc = p.order_loc[zone]
        lat, lon = p.loc_lat[loc].mean(), p.loc_lon[loc].mean()
        far = np.hypot(p.loc_lat[p.start_loc] - lat, p.loc_lon[p.start_loc] - lon)
        far[~free] = np.inf
        chosen = np.sort(np.argsort(far, kind="stable")[:q])
        free[chosen] = False
        out.append(chosen)
    return out


# The zone problems of the running solve, inherited by the forked workers.
_ZONES: list[Problem] = []


def _search_zone(i: int, opts: SolveOptions, search: Search) -> Any:
    zone = _ZONES[i]
    return search(zone, np.arange(zone.n_orders), opts, 1)


def _lift(routes: list[Route], vehicles: np.ndarray, orders: np.ndarray) -> list[Route]:
    """Routes of a zone problem in the indices of the whole problem."""
    return [
        Route(
            int(vehicles[r.vehicle]),
            r.kinds,
            tuple(int(orders[o]) if o >= 0 else o for o in r.orders),
        )
        for r in routes
    ]


def _lower(
    routes: tuple[Route, ...], vehicles: np.ndarray, orders: np.ndarray
) -> tuple[Route, ...]:
    """The parts of ``routes`` (whole-problem indices) on ``vehicles`` and ``orders``, in
    the indices of their zone problem (the inverse of :func:`_lift`)."""
    vehicle = {v: i for i, v in enumerate(vehicles.tolist())}
    order = {o: i for i, o in enumerate(orders.tolist())}
    out = []
    for r in routes:
        if r.vehicle not in vehicle:
            continue
        kept = [
            (k, order.get(o, o) if o >= 0 else o)
            for k, o in zip(r.kinds, r.orders, strict=True)
            if o < 0 or o in order
        ]
        if any(o >= 0 for _, o in kept):
            out.append(
                Route(vehicle[r.vehicle], tuple(k for k, _ in kept), tuple(o for _, o in kept))
            )
    return tuple(out)


def _zone_options(opts: SolveOptions, seconds: float, start: tuple[Route, ...]) -> SolveOptions:
    """The options of one zone's search: ``seconds``, one worker, starting from ``start``
    (progress callbacks stay in this process)."""
    return dataclasses.replace(
        opts, time_limit_s=seconds, workers=1, on_solution=None, warm_start=start
    )


def _searched_zones(
    problems: list[Problem], each: list[SolveOptions], search: Search, workers: int
) -> list[Any]:
    """``search`` of each zone problem with its options, ``workers`` at a time (forked
    processes that inherit the problems)."""
    global _ZONES
    _ZONES = problems
    try:
        if workers > 1:
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=pool_context(), **worker_pool_kwargs()
            ) as pool:
                k = len(problems)
                return list(pool.map(_search_zone, range(k), each, [search] * k))
        return [_search_zone(i, opts, search) for i, opts in enumerate(each)]
    finally:
        _ZONES = []


def solve_in_zones(
    p: Problem,
    orders: np.ndarray,
    opts: SolveOptions,
    workers: int,
    search: Search,
    k: int | None = None,
    *,
    polish: bool = False,
) -> tuple[list[Route] | None, str, dict[str, float]]:
    """Search ``orders`` zone by zone (``workers`` zones at a time) and join the routes;
    ``k`` zones, or :func:`n_zones` of them. Orders the sectors left get one more search
    on the idle vehicles; with ``polish`` (a search that goes on from a warm start) they
    go instead, with the rest of the time, to :func:`polish_in_zones`."""
    started = time.perf_counter()
    k = k or n_zones(p, orders, opts)
    zones = sectors(p, orders, k)
    fleets = share_fleet(p, zones)
    t0 = time.perf_counter()
    problems = [p.with_vehicles(f).with_orders(z) for z, f in zip(zones, fleets, strict=True)]
    rounds = int(np.ceil(k / workers))
    # a polish whose passes would be too short to search is not worth the sectors' time
    polish_s = opts.time_limit_s * (1.0 - POLISHED_SECTOR_SHARE - POLISH_LEAVES)
    polish = polish and polish_s / len(POLISH_SHIFTS) >= POLISH_AT_LEAST_S
    share = POLISHED_SECTOR_SHARE if polish else SECTOR_SHARE
    each = [
        _zone_options(opts, opts.time_limit_s * share / rounds, _lower(opts.warm_start, f, z))
        for z, f in zip(zones, fleets, strict=True)
    ]
    timings: dict[str, float] = {"zones": time.perf_counter() - t0}
    results = _searched_zones(problems, each, search, workers)
    routes: list[Route] = []
    backends = set()
    for (zone_routes, backend, zone_timings), z, f in zip(results, zones, fleets, strict=True):
        backends.add(backend)
        for key, value in zone_timings.items():
            timings[key] = timings.get(key, 0.0) + value
        routes += _lift(zone_routes or [], f, z)

    left = _left_out(orders, routes)
    idle = np.setdiff1d(np.arange(p.n_vehicles), [r.vehicle for r in routes])
    if left.size and idle.size and not polish:  # (a polish places them)
        rest = _zone_options(
            opts,
            max(1.0, opts.time_limit_s * (1 - SECTOR_SHARE)),
            _lower(opts.warm_start, idle, left),
        )
        more, backend, _ = search(
            p.with_vehicles(idle).with_orders(left), np.arange(left.size), rest, 1
        )
        backends.add(backend)
        routes += _lift(more or [], idle, left)
    if not routes and all(r[0] is None for r in results):
        return None, "+".join(sorted(backends)), timings
    t1 = time.perf_counter()
    for n, shift in enumerate(POLISH_SHIFTS if polish and routes else ()):
        end = started + opts.time_limit_s - _leaves_s(orders, routes, opts.time_limit_s)
        seconds = (end - time.perf_counter()) / (len(POLISH_SHIFTS) - n)
        if seconds < POLISH_AT_LEAST_S:
            break
        routes = polish_in_zones(p, orders, routes, opts, workers, search, k, seconds, shift)
        timings["polish"] = time.perf_counter() - t1
    return sorted(routes, key=lambda r: r.vehicle), "+".join(sorted(backends)), timings


def _left_out(orders: np.ndarray, routes: list[Route]) -> np.ndarray:
    """The orders of ``orders`` that no route of ``routes`` serves."""
    routed = {o for r in routes for o in r.orders}
    return np.array([o for o in orders.tolist() if o not in routed], dtype=np.int64)


def _leaves_s(orders: np.ndarray, routes: list[Route], time_limit_s: float) -> float:
    """Seconds a polish leaves at the end of the time limit: for each order of ``orders``
    not in ``routes``, :data:`PLACING_S_PER_ROUTE` per route; from
    :data:`POLISH_LEAVES_AT_LEAST` to :data:`POLISH_LEAVES` of the limit."""
    need = PLACING_S_PER_ROUTE * _left_out(orders, routes).size * len(routes)
    return time_limit_s * min(POLISH_LEAVES, max(POLISH_LEAVES_AT_LEAST, need / time_limit_s))


def polish_in_zones(
    p: Problem,
    orders: np.ndarray,
    routes: list[Route],
    opts: SolveOptions,
    workers: int,
    search: Search,
    k: int,
    seconds: float,
    shift: float = 0.5,
) -> list[Route]:
    """The joined routes searched again for ``seconds`` in ``k`` zones cut across the
    sectors' borders: the routes, in the order of their orders' mean bearing from the
    depots' centre, in ``k`` groups of equal orders shifted half a group from the
    sectors' cut. Each group's search starts from its routes, with the orders nobody
    serves nearest its routes and a share of the idle vehicles; a group keeps its routes
    unless the search's serve more orders, or as many for less cost."""
    served = [np.unique([o for o in r.orders if o >= 0]).astype(np.int64) for r in routes]
    # a route's bearing: the circular mean of its orders' bearings
    angles = [_bearings(p, p.order_loc[o]) for o in served]
    mean = np.array([np.arctan2(np.sin(a).mean(), np.cos(a).mean()) for a in angles])
    around = _around(mean)  # as the sectors are cut
    sizes = np.array([o.shape[0] for o in served])[around]
    middle = np.cumsum(sizes) - sizes / 2.0
    group_of = np.empty(len(routes), dtype=np.int64)
    group_of[around] = np.floor(middle / sizes.sum() * k + shift).astype(np.int64) % k
    left = np.setdiff1d(orders, np.concatenate(served))
    # each to the group whose route's bearing is nearest
    turn = _bearings(p, p.order_loc[left])[:, None] - mean[None, :]
    left_group = group_of[np.argmin(np.abs(np.angle(np.exp(1j * turn))), axis=1)]
    idle = np.setdiff1d(np.arange(p.n_vehicles), [r.vehicle for r in routes])
    groups = [g for g in range(k) if (group_of == g).any()]
    problems, each, parts, before = [], [], [], []
    rounds = int(np.ceil(len(groups) / workers))
    for j, g in enumerate(groups):
        mine = np.flatnonzero(group_of == g)
        vehicles = np.sort(
            np.concatenate([[routes[i].vehicle for i in mine], idle[j :: len(groups)]])
        ).astype(np.int64)
        zone_orders = np.sort(np.concatenate([*(served[i] for i in mine), left[left_group == g]]))
        start = _lower(tuple(routes[i] for i in mine), vehicles, zone_orders)
        zone = p.with_vehicles(vehicles).with_orders(zone_orders)
        problems.append(zone)
        parts.append((vehicles, zone_orders))
        before.append(plan_cost(zone, start, np.arange(zone_orders.shape[0])))
        each.append(_zone_options(opts, seconds / rounds, start))
    results = _searched_zones(problems, each, search, workers)
    out: list[Route] = []
    for j, (found, _, _) in enumerate(results):
        vehicles, zone_orders = parts[j]
        everyone = np.arange(zone_orders.shape[0])
        if found is not None and plan_cost(problems[j], found, everyone) < before[j]:
            out += _lift(found, vehicles, zone_orders)
        else:
            out += [routes[i] for i in np.flatnonzero(group_of == groups[j])]
    return out
