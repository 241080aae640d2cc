"""Solve a Problem with PyVRP's iterated local search. All PyVRP code lives here.

PyVRP reads the same integer matrices as OR-Tools. Orders without a store are clients
delivered from the vehicle's depot; orders shopped at a store are shipments (pickup at the
store, drop-off at the customer, same vehicle). Identical vehicles form one vehicle type.
Every order is optional with a prize far above any route cost, so a plan always exists and
orders are only left out when they cannot be fitted, as with OR-Tools.

What PyVRP cannot express (time-dependent travel, orders locked to vehicles, breaks, a stop limit
on routes with store pickups) is decided by :func:`supports`;
:func:`fleetroute.routing.solve.solve` then uses OR-Tools.
"""

from __future__ import annotations

import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning, ScalingWarning
from pyvrp.stop import MaxIterations, MaxRuntime

from fleetroute.routing.options import pool_context
from fleetroute.routing.problem import Problem
from fleetroute.routing.schedule import DROPOFF, PICKUP, Route

__all__ = ["supports", "solve_pyvrp"]

#: The smallest non-zero cost per metre or per second becomes this many integer units.
#: PyVRP's penalty manager works best with small integer costs: measured on Solomon, a
#: scale of 360,000 units per cost unit (the OR-Tools model's) found no feasible plan on
#: R101 in 3 s, 10 units per metre found the best-known fleet.
_UNIT = 10


def supports(problem: Problem, orders: np.ndarray) -> str | None:
    """``None`` when PyVRP can solve ``problem`` exactly as posed, else why it cannot."""
    p = problem
    if p.band_travel_s is not None:
        return "travel times depend on the hour"
    if p.has_locks:
        return "orders are locked to vehicles"
    if p.has_breaks:
        return "drivers take breaks"
    stops_bind = bool((p.max_stops < orders.shape[0]).any())
    if stops_bind and bool(p.has_store[orders].any()):
        return "a stop limit applies to routes with store pickups"
    return None


@dataclass(frozen=True)
class _Model:
    """PyVRP data and how to read its routes back."""

    data: pyvrp.ProblemData
    client_order: np.ndarray  # client index -> order index
    shipment_order: np.ndarray  # shipment index -> order index
    type_vehicles: tuple[tuple[int, ...], ...]  # vehicle type -> vehicle indices


def _scale(p: Problem) -> float:
    """Integer cost units per cost unit, so that the cheapest non-zero rate is ``_UNIT``."""
    rates = np.concatenate([p.cost_per_km / 1000.0, p.cost_per_hour / 3600.0])
    rates = rates[rates > 0]
    return _UNIT / float(rates.min()) if rates.size else 1.0


def _same_place(p: Problem, locs: np.ndarray) -> np.ndarray:
    """Each location replaced by the first location at the same coordinates: vehicles
    whose depots are separate rows at one place share one PyVRP depot (and vehicle type)."""
    _, first, inverse = np.unique(
        np.column_stack([p.loc_lat[locs], p.loc_lon[locs]]),
        axis=0,
        return_index=True,
        return_inverse=True,
    )
    return np.asarray(locs[first[inverse.ravel()]], dtype=np.int64)


def _model(p: Problem, orders: np.ndarray) -> _Model:
    plain = orders[~p.has_store[orders]]
    shopped = orders[p.has_store[orders]]
    stores = p.order_store[shopped]
    v = p.n_vehicles
    ends = _same_place(p, np.concatenate([p.start_loc, p.end_loc]))
    start_loc, end_loc = ends[:v], ends[v:]
    used = np.unique(
        np.concatenate([ends, p.order_loc[orders], p.store_loc[stores]]).astype(np.int64)
    )
    where = {int(loc): i for i, loc in enumerate(used.tolist())}
    locations = [
        pyvrp.Location(float(p.loc_lon[loc]), float(p.loc_lat[loc])) for loc in used.tolist()
    ]
    depot_locs = sorted(set(ends.tolist()))
    depot_of = {loc: i for i, loc in enumerate(depot_locs)}
    depots = [pyvrp.Depot(where[loc]) for loc in depot_locs]

    stops_bind = bool((p.max_stops < orders.shape[0]).any())
    extra = [1] if stops_bind else []
    clients = [
        pyvrp.Client(
            where[int(p.order_loc[i])],
            delivery=[int(p.demand[i]), *extra],
            service_duration=int(p.dropoff_s[i]),
            tw_early=int(p.window_start_s[i]),
            tw_late=int(p.window_end_s[i]),
        )
        for i in plain.tolist()
    ]
    shipments = [
        pyvrp.Shipment(
            where[int(p.store_loc[s])],
            where[int(p.order_loc[i])],
            pickup_tw_early=int(p.store_open_s[s]),
            pickup_tw_late=int(p.store_close_s[s] - p.shop_s[i]),
            pickup_service_duration=int(p.shop_s[i]),
            delivery_tw_early=int(p.window_start_s[i]),
            delivery_tw_late=int(p.window_end_s[i]),
            delivery_service_duration=int(p.dropoff_s[i]),
            amount=[int(p.demand[i]), *([0] if stops_bind else [])],
        )
        for i, s in zip(shopped.tolist(), stores.tolist(), strict=True)
    ]

    total = int(p.demand[orders].sum()) + 1
    capacity = np.minimum(p.capacity, total)
    stops = np.minimum(p.max_stops, orders.shape[0] + 1)
    scale = _scale(p)
    per_m = p.cost_per_km * scale / 1000.0
    per_s = p.cost_per_hour * scale / 3600.0
    if not (per_m > 0).any() and not (per_s > 0).any():
        per_m = np.ones_like(per_m)  # no costs at all: shortest routes
    keys: dict[tuple[int, ...], list[int]] = {}
    for k in range(p.n_vehicles):
        key = (
            int(start_loc[k]),
            int(end_loc[k]),
            int(capacity[k]),
            int(stops[k]) if stops_bind else 0,
            int(p.shift_start_s[k]),
            int(p.shift_end_s[k]),
            int(round(p.fixed_cost[k] * scale)),
            int(round(per_m[k])),
            int(round(per_s[k])),
        )
        keys.setdefault(key, []).append(k)
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=len(members),
            capacity=[cap, *([n_stops] if stops_bind else [])],
            start_depot=depot_of[start],
            end_depot=depot_of[end],
            fixed_cost=fixed,
            tw_early=early,
            tw_late=late,
            unit_distance_cost=dist_cost,
            unit_duration_cost=dur_cost,
        )
        for (start, end, cap, n_stops, early, late, fixed, dist_cost, dur_cost), members in (
            keys.items()
        )
    ]
    grid = np.ix_(used, used)
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=[cast(Any, np.ascontiguousarray(p.distance_m[grid]))],
        duration_matrices=[cast(Any, np.ascontiguousarray(p.travel_s[grid]))],
        shipments=shipments,
    )
    return _Model(data, plain, shopped, tuple(tuple(m) for m in keys.values()))


#: Share of the search spent on fleet minimisation when vehicles carry a fixed cost.
_FLEET_SHARE = 0.3


def _search(
    data: pyvrp.ProblemData, seconds: float, iterations: int | None, seed: int, minimise: bool
) -> tuple[bool, float, list[tuple[int, list[tuple[str, int]]]]]:
    """One PyVRP search: (feasible, cost, routes as (vehicle type, [(activity, index)])).

    With ``minimise`` and one vehicle type that has a fixed cost, the fleet is minimised
    first (PyVRP's ``minimise_fleet``) and the rest of the time goes to the running costs on
    exactly that fleet: measured on Solomon at 10 s, this found the best-known fleet on
    R207 and RC201 where a search on the full fleet kept an extra vehicle (and with a
    tenth spare, R109 and R111 kept one too). On the smallest fleet the search may find no
    plan in time (a 300-order delivery day did not), so it runs beside a search on the
    full fleet and the cheaper plan, fixed costs counted, is kept.
    """

    def stop(share: float) -> pyvrp.stop.StoppingCriterion:
        if iterations is not None:
            return MaxIterations(max(1, int(iterations * share)))
        return MaxRuntime(max(0.01, seconds * share))

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # PyVRP warns when its penalties saturate; an infeasible result is handled below
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        warnings.simplefilter("ignore", ScalingWarning)
        types = data.vehicle_types()
        dropped_fixed = 0
        if minimise and len(types) == 1 and types[0].fixed_cost > 0:
            fleet = pyvrp.minimise_fleet(data, stop(_FLEET_SHARE), seed=seed)
            # on exactly the smallest fleet the fixed cost decides nothing and only blurs
            # PyVRP's penalties: search on the running costs, add it back to compare
            data = data.replace(vehicle_types=[fleet.replace(fixed_cost=0)])
            dropped_fixed = types[0].fixed_cost
            # the rest of the budget: the remaining time, or the remaining iterations
            seconds = max(0.01, seconds - (time.perf_counter() - t0))
            share = 1.0 if iterations is None else 1.0 - _FLEET_SHARE
        else:
            share = 1.0
        result = pyvrp.solve(data, stop=stop(share), seed=seed, collect_stats=False)
    routes = [
        (
            int(route.vehicle_type()),
            [
                (a.type.name, int(a.idx))
                for a in route.schedule()
                if a.type != pyvrp.ActivityType.DEPOT
            ],
        )
        for route in result.best.routes()
    ]
    cost = float(result.cost()) + dropped_fixed * len(routes)
    return bool(result.is_feasible()), cost, routes


def solve_pyvrp(
    problem: Problem,
    orders: np.ndarray,
    *,
    seconds: float,
    iterations: int | None = None,
    seed: int = 0,
    workers: int = 1,
) -> tuple[list[Route] | None, dict[str, float]]:
    """Routes for ``orders``, or ``None`` when PyVRP found no plan serving every order; and
    the seconds spent per stage.

    With ``workers`` > 1, that many independent searches (seeds ``seed``, ``seed + 1``, ...;
    every other one minimising the fleet first) run in parallel processes and the cheapest
    feasible plan is kept.
    """
    t0 = time.perf_counter()
    model = _model(problem, orders)
    t_search = time.perf_counter()
    if workers <= 1:
        results = [_search(model.data, seconds, iterations, seed, False)]
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context()) as pool:
            futures = [  # every other worker minimises the fleet first
                pool.submit(_search, model.data, seconds, iterations, seed + w, w % 2 == 1)
                for w in range(workers)
            ]
            results = [f.result() for f in futures]
    timings = {"model": t_search - t0, "search": time.perf_counter() - t_search}
    feasible = [r for r in results if r[0]]
    if not feasible:
        return None, timings
    _, _, best = min(feasible, key=lambda r: r[1])
    free = [list(vehicles) for vehicles in model.type_vehicles]
    routes = []
    for vehicle_type, activities in best:
        kinds, seq = [], []
        for activity, idx in activities:
            if activity == "CLIENT":
                kinds.append(DROPOFF)
                seq.append(int(model.client_order[idx]))
            else:
                kinds.append(PICKUP if activity == "PICKUP" else DROPOFF)
                seq.append(int(model.shipment_order[idx]))
        routes.append(Route(free[vehicle_type].pop(0), tuple(kinds), tuple(seq)))
    return sorted(routes, key=lambda r: r.vehicle), timings
