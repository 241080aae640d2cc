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
from fleetroute.routing.schedule import Route

__all__ = ["SECTOR_SHARE", "n_zones", "sectors", "share_fleet", "solve_in_zones"]

#: A search of one problem: ``(problem, orders, options, workers) -> (routes, backend,
#: timings)``, ``routes`` None when it found no plan.
Search = Callable[
    [Problem, np.ndarray, SolveOptions, int],
    tuple[list[Route] | None, str, dict[str, float]],
]

#: Share of the time limit for the sectors; the rest is for the orders they left out.
SECTOR_SHARE = 0.85


def n_zones(p: Problem, orders: np.ndarray, opts: SolveOptions) -> int:
    """How many zones ``solve`` cuts these orders into (1: none)."""
    if opts.zone_orders is None or p.has_locks:
        return 1
    return max(1, min(int(np.ceil(orders.shape[0] / opts.zone_orders)), p.n_vehicles))


def sectors(p: Problem, orders: np.ndarray, k: int) -> list[np.ndarray]:
    """``orders`` in ``k`` compass sectors around the depots' centre, equal in count."""
    depots = np.unique(p.start_loc)
    lat0, lon0 = float(p.loc_lat[depots].mean()), float(p.loc_lon[depots].mean())
    loc = p.order_loc[orders]
    east = (p.loc_lon[loc] - lon0) * np.cos(np.radians(lat0))
    angle = np.arctan2(p.loc_lat[loc] - lat0, east)
    by_angle = np.argsort(angle, kind="stable")
    sorted_angle = angle[by_angle]
    gaps = np.diff(np.append(sorted_angle, sorted_angle[0] + 2 * np.pi))
    start = (int(np.argmax(gaps)) + 1) % orders.shape[0]
    return [orders[part] for part in np.array_split(np.roll(by_angle, -start), k)]


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


def solve_in_zones(
    p: Problem,
    orders: np.ndarray,
    opts: SolveOptions,
    workers: int,
    search: Search,
    k: int | None = None,
) -> tuple[list[Route] | None, str, dict[str, float]]:
    """Search ``orders`` zone by zone (``workers`` zones at a time) and join the routes;
    ``k`` zones, or :func:`n_zones` of them."""
    global _ZONES
    k = k or n_zones(p, orders, opts)
    zones = sectors(p, orders, k)
    fleets = share_fleet(p, zones)
    t0 = time.perf_counter()
    problems = [p.with_vehicles(f).with_orders(z) for z, f in zip(zones, fleets, strict=True)]
    rounds = int(np.ceil(k / workers))
    each = dataclasses.replace(  # progress callbacks stay in this process
        opts, time_limit_s=opts.time_limit_s * SECTOR_SHARE / rounds, workers=1, on_solution=None
    )
    timings: dict[str, float] = {"zones": time.perf_counter() - t0}
    _ZONES = problems
    try:
        if workers > 1:
            with ProcessPoolExecutor(
                max_workers=workers, mp_context=pool_context(), **worker_pool_kwargs()
            ) as pool:
                results = list(pool.map(_search_zone, range(k), [each] * k, [search] * k))
        else:
            results = [_search_zone(i, each, search) for i in range(k)]
    finally:
        _ZONES = []
    routes: list[Route] = []
    backends = set()
    for (zone_routes, backend, zone_timings), z, f in zip(results, zones, fleets, strict=True):
        backends.add(backend)
        for key, value in zone_timings.items():
            timings[key] = timings.get(key, 0.0) + value
        routes += _lift(zone_routes or [], f, z)

    routed = {o for r in routes for o in r.orders}
    left = np.array([o for o in orders.tolist() if o not in routed], dtype=np.int64)
    idle = np.setdiff1d(np.arange(p.n_vehicles), [r.vehicle for r in routes])
    if left.size and idle.size:
        rest = dataclasses.replace(
            opts,
            time_limit_s=max(1.0, opts.time_limit_s * (1 - SECTOR_SHARE)),
            workers=1,
            on_solution=None,
        )
        more, backend, _ = search(
            p.with_vehicles(idle).with_orders(left), np.arange(left.size), rest, 1
        )
        backends.add(backend)
        routes += _lift(more or [], idle, left)
    if not routes and all(r[0] is None for r in results):
        return None, "+".join(sorted(backends)), timings
    return sorted(routes, key=lambda r: r.vehicle), "+".join(sorted(backends)), timings
