"""Solve a Problem with OR-Tools' routing library. All OR-Tools code lives here.

OR-Tools is the backend for what only it models here: time-dependent travel (each leg's
slowest band), dispatch locks (an order's vehicle, the order of locked drop-offs) and stop
limits on routes with store pickups; and the fallback whenever the
fleet cannot serve every order, since it drops the orders that fit least.

Model: one node per vehicle start and end, one drop-off node per order and, for orders
shopped at a store, one pickup node at the store (same vehicle, before the drop-off).
Matrices go to OR-Tools as matrices (``RegisterTransitMatrix``). Every order sits in a
disjunction with a large penalty (larger for higher ``priority``), so a plan always exists
and orders are only left out when they cannot be fitted.

Skills restrict each order's vehicle variable, extra capacity dimensions are more load
dimensions, ``max_route_s`` bounds the time dimension's span, ``max_distance_m`` a distance
dimension, and a store visit's fixed time is added to the transit into a pickup node from
another place. Reloading at the depot (``reload_s``) is not modelled: OR-Tools' routes
carry their whole load from the start, which every vehicle may do.

The objective is the plan's cost: per vehicle ``fixed_cost + cost_per_km * km +
cost_per_hour * route hours`` (route hours = driving + service + waiting, via arc costs
plus the time dimension's slack cost).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from fleetroute.routing.options import SolveOptions, stop_requested
from fleetroute.routing.problem import UNLIMITED, Problem
from fleetroute.routing.schedule import BREAK, DROPOFF, HERE, NEXT, PICKUP, Route

__all__ = ["solve_ortools", "COST_SCALE"]

#: Integer objective units per cost unit (1 cost unit per hour -> 100 per second).
COST_SCALE = 360_000
#: Penalty (objective units) for leaving out a priority-0 order: far above any route cost.
_DROP_PENALTY = 100_000_000_000

#: The first complete plan may take this long at most (a safety net, not a target).
_FIRST_SOLUTION_CAP_S = 3600

#: Waiting allowed at one stop while OR-Tools builds its first plan and searches from it
#: (see solve_ortools; at least a driver's break, which OR-Tools takes as waiting).
_GUIDE_WAIT_S = 300
#: Share of the time limit spent searching with that cap.
_GUIDE_SHARE = 0.9
_FIRST = routing_enums_pb2.FirstSolutionStrategy
_META = routing_enums_pb2.LocalSearchMetaheuristic


@dataclass(frozen=True)
class _Nodes:
    """The solver's node layout for the plannable orders."""

    loc: np.ndarray
    service: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    load: np.ndarray
    stop: np.ndarray
    order: np.ndarray  # order index, -1 for depots
    kind: tuple[str, ...]
    pairs: list[tuple[int, int]]


def _layout(p: Problem, orders: np.ndarray) -> _Nodes:
    v = p.n_vehicles
    loc = [*p.start_loc.tolist(), *p.end_loc.tolist()]
    lo = [*p.shift_start_s.tolist(), *p.shift_start_s.tolist()]
    hi = [*p.shift_end_s.tolist(), *p.shift_end_s.tolist()]
    service = [0] * (2 * v)
    load = [0] * (2 * v)
    stop = [0] * (2 * v)
    order = [-1] * (2 * v)
    kind = ["start"] * v + ["end"] * v
    pairs = []
    for i in orders.tolist():
        s = int(p.order_store[i])
        d = int(p.demand[i])
        if s >= 0:
            pairs.append((len(loc), len(loc) + 1))
            loc.append(int(p.store_loc[s]))
            service.append(int(p.shop_s[i]))
            lo.append(int(p.store_open_s[s] + p.store_visit_s[s]))  # shopping starts
            hi.append(int(p.store_close_s[s] - p.shop_s[i]))
            load.append(d)
            stop.append(0)
            order.append(i)
            kind.append(PICKUP)
        loc.append(int(p.order_loc[i]))
        service.append(int(p.dropoff_s[i]))
        lo.append(int(p.window_start_s[i]))
        hi.append(int(p.window_end_s[i] + p.max_late_s[i]))  # a soft window's hard limit
        load.append(-d)
        stop.append(1)
        order.append(i)
        kind.append(DROPOFF)
    as_int = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    return _Nodes(
        as_int(loc),
        as_int(service),
        as_int(lo),
        as_int(hi),
        as_int(load),
        as_int(stop),
        as_int(order),
        tuple(kind),
        pairs,
    )


def _penalties(p: Problem, nodes: _Nodes) -> np.ndarray:
    return np.round(_DROP_PENALTY * (1.0 + p.priority[np.maximum(nodes.order, 0)])).astype(np.int64)


def solve_ortools(
    problem: Problem,
    orders: np.ndarray,
    opts: SolveOptions,
    *,
    initial: list[Route] | None = None,
    seconds: float | None = None,
    bounded: bool = False,
) -> tuple[list[Route] | None, dict[str, float]]:
    """Routes for ``orders`` (some may be left out), or ``None`` when OR-Tools found no
    plan at all; and the seconds spent per stage. With ``bounded``, its first plan is
    also cut off at the time limit (``None`` when it has none by then: another search
    runs beside it); otherwise the first plan is always finished.

    ``initial`` routes (another search's, breaks left out) are the starting plan when
    OR-Tools accepts them as they are (its constraints all hold). Without them OR-Tools
    plans in two phases: 90% of the time with at most ``_GUIDE_WAIT_S`` of waiting at any
    stop, then the rest from that plan without the cap (orders the cap keeps out are
    inserted again there). Its insertion heuristics price arcs, not waiting, and left alone
    they made plans that waited 84 h in all on a 400-order store day (objective 5,656 at
    15 s); the cap steers them to plans that barely wait. It also makes the search fast:
    waiting priced over a whole shift has OR-Tools weigh each move's schedule at length
    (about 14,000 moves a second on the suite's 400-order store day, 190,000 with the cap).
    Measured there at 60 s, OR-Tools alone (benchmarks/results/store_day.md): a third of
    the time at 30 minutes, 4,664 free-flow and 5,209 learned; 90% at 5 minutes, 3,758
    and 4,684 (the day's best-known plans 3,612 and 4,348). ``seconds`` replaces
    ``opts.time_limit_s``.
    """
    limit = opts.time_limit_s if seconds is None else seconds
    if initial is not None:
        return _solve(problem, orders, opts, initial=initial, seconds=limit, bounded=bounded)
    t0 = time.perf_counter()
    guide, first = _solve(
        problem,
        orders,
        opts,
        seconds=limit * _GUIDE_SHARE,
        max_wait_s=max(_GUIDE_WAIT_S, int(problem.break_s.max(initial=0))),
        bounded=bounded,
    )
    rest = max(0.05, limit - (time.perf_counter() - t0))
    routes, more = _solve(problem, orders, opts, initial=guide, seconds=rest, bounded=bounded)
    timings = {
        "model": first["model"] + more["model"],
        "first_solution": first.get("first_solution", 0.0),
        "search": first["search"] + more.get("warm_start", 0.0) + more["search"],
    }
    if "warm_start" not in more:  # the guided plan was not taken: OR-Tools started over
        timings["first_solution"] += more.get("first_solution", 0.0)
    return routes, timings


def _solve(
    problem: Problem,
    orders: np.ndarray,
    opts: SolveOptions,
    *,
    seconds: float,
    initial: list[Route] | None = None,
    max_wait_s: int | None = None,
    bounded: bool = False,
) -> tuple[list[Route] | None, dict[str, float]]:
    """One OR-Tools search of ``seconds``, from ``initial`` routes when it accepts them,
    with waiting at a stop capped at ``max_wait_s`` (if given)."""
    p = problem
    limit = seconds
    t0 = time.perf_counter()
    nodes = _layout(p, orders)
    v = p.n_vehicles
    n_nodes = int(nodes.loc.shape[0])
    manager = pywrapcp.RoutingIndexManager(n_nodes, v, list(range(v)), list(range(v, 2 * v)))
    model = pywrapcp.RoutingModel(manager)

    # each node's departure lies between its window opening and its window end + service,
    # and before the next node's window end less the leg
    travel = p.worst_travel_s(nodes.loc, nodes.lo, nodes.hi + nodes.service, nodes.hi)
    transit = travel + nodes.service[:, None]
    # a store visit's fixed part is paid on arriving at the store from another place
    is_pickup = np.array([k == PICKUP for k in nodes.kind])
    stores = np.where(is_pickup, p.order_store[np.maximum(nodes.order, 0)], -1)
    visit = np.where(is_pickup, p.store_visit_s[np.maximum(stores, 0)] if p.n_stores else 0, 0)
    transit += np.where(nodes.loc[:, None] != nodes.loc[None, :], visit[None, :], 0)
    time_cb = model.RegisterTransitMatrix(transit.tolist())
    horizon = int(max(p.shift_end_s.max(), nodes.hi.max())) + 1
    model.AddDimension(time_cb, max_wait_s or horizon, horizon, False, "time")
    time_dim = model.GetDimensionOrDie("time")

    distance = p.distance_m[np.ix_(nodes.loc, nodes.loc)]
    classes: dict[tuple[float, float], int] = {}
    for k in range(v):
        key = (float(p.cost_per_km[k]), float(p.cost_per_hour[k]))
        if key not in classes:
            per_m = key[0] * COST_SCALE / 1000.0
            per_s = key[1] * COST_SCALE / 3600.0
            arc = np.round(per_m * distance + per_s * transit).astype(np.int64)
            classes[key] = model.RegisterTransitMatrix(arc.tolist())
        model.SetArcCostEvaluatorOfVehicle(classes[key], k)
        time_dim.SetSlackCostCoefficientForVehicle(int(round(key[1] * COST_SCALE / 3600.0)), k)
        model.SetFixedCostOfVehicle(int(round(p.fixed_cost[k] * COST_SCALE)), k)

    load_cb = model.RegisterUnaryTransitVector(nodes.load.tolist())
    cap = np.minimum(p.capacity, int(np.abs(nodes.load).sum()) + 1)
    model.AddDimensionWithVehicleCapacity(load_cb, 0, cap.tolist(), False, "load")
    load_dim = model.GetDimensionOrDie("load")
    stop_cb = model.RegisterUnaryTransitVector(nodes.stop.tolist())
    stops = np.minimum(p.max_stops, len(orders) + 1)
    model.AddDimensionWithVehicleCapacity(stop_cb, 0, stops.tolist(), True, "stops")

    for k in range(v):
        s, e = model.Start(k), model.End(k)
        time_dim.CumulVar(s).SetRange(int(p.shift_start_s[k]), int(p.shift_end_s[k]))
        time_dim.CumulVar(e).SetRange(int(p.shift_start_s[k]), int(p.shift_end_s[k]))
        load_dim.CumulVar(e).SetValue(0)
    penalty = _penalties(p, nodes)
    for node in range(2 * v, n_nodes):
        index = manager.NodeToIndex(node)
        time_dim.CumulVar(index).SetRange(int(nodes.lo[node]), int(nodes.hi[node]))
        model.AddDisjunction([index], int(penalty[node]))
    _add_windows(p, nodes, manager, time_dim)
    _add_limits(p, nodes, model, manager, time_dim, distance)
    _add_locks(p, nodes, model, manager, time_dim)
    _add_breaks(p, nodes, model, manager, time_dim)
    # Same vehicle, pickup first: the routing layer's own pickup-and-delivery filters
    # enforce both; extra CP constraints on VehicleVar/CumulVar only slow the search.
    for pick, drop in nodes.pairs:
        model.AddPickupAndDelivery(manager.NodeToIndex(pick), manager.NodeToIndex(drop))

    if opts.on_solution is not None:
        _report_costs(model, opts.on_solution)
    _end_on_stop(model)
    t_first = time.perf_counter()
    first = None
    if initial is not None:
        model.CloseModelWithParameters(_improve_params(opts, limit))
        first = model.ReadAssignmentFromRoutes(_initial_routes(nodes, manager, initial, v), True)
    warm = first is not None
    if first is None:
        first_cap = max(0.1, limit - (time.perf_counter() - t0)) if bounded else None
        first = model.SolveWithParameters(_first_solution_params(opts, n_nodes, first_cap))
    t_improve = time.perf_counter()
    solution = first
    remaining = limit - (t_improve - t0)  # building the model counts toward the limit
    if first is not None and remaining > 0.05:
        improved = model.SolveFromAssignmentWithParameters(first, _improve_params(opts, remaining))
        solution = improved if improved is not None else first
    timings = {
        "model": t_first - t0,
        # reading another search's routes, or building OR-Tools' own first plan
        ("warm_start" if warm else "first_solution"): t_improve - t_first,
        "search": time.perf_counter() - t_improve,
    }
    if solution is None:
        return None, timings
    breaks = _break_starts(solution)
    routes = []
    for k in range(v):
        index = model.Start(k)
        kinds: list[str] = []
        seq: list[int] = []
        b = breaks.get(k)
        while True:
            node = manager.IndexToNode(index)
            if node >= 2 * v:
                kinds.append(nodes.kind[node])
                seq.append(int(nodes.order[node]))
            if model.IsEnd(index):
                break
            nxt = solution.Value(model.NextVar(index))
            departure = solution.Min(time_dim.CumulVar(index)) + int(nodes.service[node])
            arrive = departure + int(travel[node, manager.IndexToNode(nxt)])
            if b is not None and b < solution.Min(time_dim.CumulVar(nxt)):
                # the break falls between this stop and the next: taken here, or after
                # driving on when the solver's break starts once the vehicle is there
                kinds.append(BREAK)
                seq.append(NEXT if b >= arrive else HERE)
                b = None
            index = nxt
        if any(o >= 0 for o in seq):
            routes.append(Route(k, tuple(kinds), tuple(seq)))
    return routes, timings


def _initial_routes(nodes: _Nodes, manager: Any, routes: list[Route], v: int) -> list[list[int]]:
    """Per vehicle, the solver indices of ``routes``' stops (breaks are OR-Tools' to place;
    reloads it does not plan: its routes carry their whole load from the start)."""
    node_of = {(nodes.kind[n], int(nodes.order[n])): n for n in range(2 * v, nodes.loc.shape[0])}
    out: list[list[int]] = [[] for _ in range(v)]
    for route in routes:
        out[route.vehicle] = [
            manager.NodeToIndex(node_of[(kind, order)])
            for kind, order in zip(route.kinds, route.orders, strict=True)
            if order >= 0 and (kind, order) in node_of
        ]
    return out


def _end_on_stop(model: Any) -> None:
    """End the search at its next solution once :data:`STOP` is set (the best plan so far
    is kept, as at a time limit)."""

    def at_solution() -> None:
        if stop_requested():
            model.solver().FinishCurrentSearch()

    model.AddAtSolutionCallback(at_solution)


def _report_costs(model: Any, report: Callable[[float], None]) -> None:
    """Call ``report`` with the cost of every plan better than the last one reported."""
    best = [float("inf")]

    def at_solution() -> None:
        cost = model.CostVar().Max() / COST_SCALE
        if cost < best[0]:
            best[0] = cost
            report(cost)

    model.AddAtSolutionCallback(at_solution)


def _add_windows(p: Problem, nodes: _Nodes, manager: Any, time_dim: Any) -> None:
    """Drop-offs with several windows may not start in the gaps between them; a soft
    window's lateness costs ``late_cost_per_h`` (its node's range already ends at the
    window end plus ``max_late_s``)."""
    if not (p.has_windows or p.has_soft_windows):
        return
    for node in range(2 * p.n_vehicles, nodes.loc.shape[0]):
        if nodes.kind[node] != DROPOFF:
            continue
        i = int(nodes.order[node])
        index = manager.NodeToIndex(node)
        own = p.windows_of(i)
        for (_, end), (start, _) in zip(own[:-1].tolist(), own[1:].tolist(), strict=True):
            time_dim.CumulVar(index).RemoveInterval(end + 1, start - 1)
        if p.max_late_s[i] > 0:
            per_s = int(round(p.late_cost_per_h[i] * COST_SCALE / 3600.0))
            time_dim.SetCumulVarSoftUpperBound(index, int(p.window_end_s[i]), per_s)


def _add_limits(
    p: Problem, nodes: _Nodes, model: Any, manager: Any, time_dim: Any, distance: np.ndarray
) -> None:
    """Skills (the vehicles an order may ride), extra capacity dimensions, and the route
    limits max_route_s (the time dimension's span) and max_distance_m (a distance
    dimension)."""
    v = p.n_vehicles
    order = np.maximum(nodes.order, 0)
    if p.has_skills:
        allowed = p.skilled(order)
        for node in range(2 * v, nodes.loc.shape[0]):
            if not allowed[node].all():
                # (SetAllowedVehiclesForIndex's Python binding refuses every list)
                model.VehicleVar(manager.NodeToIndex(node)).SetValues(
                    [-1, *np.flatnonzero(allowed[node]).tolist()]
                )
    sign = np.where(nodes.order < 0, 0, np.where(np.array(nodes.kind) == PICKUP, 1, -1))
    for d, name in enumerate(p.dim_names):
        load = sign * p.dim_demand[order, d]
        cb = model.RegisterUnaryTransitVector(load.tolist())
        cap = np.minimum(p.dim_capacity[:, d], int(np.abs(load).sum()) + 1)
        model.AddDimensionWithVehicleCapacity(cb, 0, cap.tolist(), False, f"load_{name}")
        dim = model.GetDimensionOrDie(f"load_{name}")
        for k in range(v):
            dim.CumulVar(model.End(k)).SetValue(0)
    for k in np.flatnonzero(p.max_route_s < UNLIMITED).tolist():
        time_dim.SetSpanUpperBoundForVehicle(int(p.max_route_s[k]), k)
    if (p.max_distance_m < UNLIMITED).any():
        cb = model.RegisterTransitMatrix(distance.tolist())
        most = int(distance.max()) * (nodes.loc.shape[0] + 1)
        model.AddDimensionWithVehicleCapacity(
            cb, 0, np.minimum(p.max_distance_m, most).tolist(), True, "distance"
        )


def _add_locks(p: Problem, nodes: _Nodes, model: Any, manager: Any, time_dim: Any) -> None:
    """Locked orders ride only their vehicle; locked ranks keep their drop-offs in order."""
    if not p.has_locks:
        return
    ranked: dict[int, list[tuple[int, int]]] = {}
    for node in range(2 * p.n_vehicles, nodes.loc.shape[0]):
        order = int(nodes.order[node])
        k = int(p.order_vehicle[order])
        if k < 0:
            continue
        index = manager.NodeToIndex(node)
        model.VehicleVar(index).SetValues([-1, k])
        if nodes.kind[node] == DROPOFF and p.order_rank[order] >= 0:
            ranked.setdefault(k, []).append((int(p.order_rank[order]), index))
    solver = model.solver()
    horizon = int(nodes.hi.max() + nodes.service.max()) + 1
    for chain in ranked.values():
        chain.sort()
        # every pair of the chain that is served keeps its order (a pair with a left-out
        # order is free, so a starting plan without some locked orders is still a plan)
        for i, (_, a) in enumerate(chain):
            for _, b in chain[i + 1 :]:
                both = model.ActiveVar(a) + model.ActiveVar(b)
                solver.Add(time_dim.CumulVar(a) <= time_dim.CumulVar(b) + horizon * (2 - both))


def _add_breaks(p: Problem, nodes: _Nodes, model: Any, manager: Any, time_dim: Any) -> None:
    """One break per driver with a break: an interval in its window that no service
    overlaps (the time dimension makes room for it between stops)."""
    if not p.has_breaks:
        return
    solver = model.solver()
    visit = [0] * model.Size()
    for index in range(model.Size()):
        visit[index] = int(nodes.service[manager.IndexToNode(index)])
    for k in np.flatnonzero(p.break_s > 0).tolist():
        interval = solver.FixedDurationIntervalVar(
            int(p.break_start_s[k]), int(p.break_end_s[k]), int(p.break_s[k]), False, f"break {k}"
        )
        time_dim.SetBreakIntervalsOfVehicle([interval], k, visit)


def _break_starts(solution: Any) -> dict[int, int]:
    """Vehicle -> start of its break in the solution."""
    out = {}
    intervals = solution.IntervalVarContainer()
    for i in range(intervals.Size()):
        element = intervals.Element(i)
        name = element.Var().Name()
        if name.startswith("break ") and element.PerformedValue():
            out[int(name.split()[1])] = int(element.StartValue())
    return out


def _first_solution_params(opts: SolveOptions, n_nodes: int, cap_s: float | None = None) -> Any:
    """Build the first complete plan, however long it takes (or at most ``cap_s``).

    Insertion looks at the nearest ~40 nodes of each node (at least 3%) rather than all of
    them: measured on a 1,000-order day (10k-node city), 2.5x faster and a better start.
    """
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(_FIRST, opts.first_solution)
    insertion = params.global_cheapest_insertion_first_solution_parameters
    insertion.neighbors_ratio = min(1.0, max(0.03, 40.0 / n_nodes))
    insertion.min_neighbors = 10
    params.solution_limit = 1
    if cap_s is None or opts.solution_limit is not None:
        params.time_limit.FromSeconds(_FIRST_SOLUTION_CAP_S)
    else:
        params.time_limit.FromMilliseconds(max(100, int(cap_s * 1000)))
    return params


def _improve_params(opts: SolveOptions, seconds: float) -> Any:
    """Improve a plan for ``seconds`` with ``opts.metaheuristic``. Its neighbourhoods are
    tried in the order a multi-armed bandit learns pays (OR-Tools'
    ``use_multi_armed_bandit_concatenate_operators``): measured on the suite's 400-order
    store day at 60 s, OR-Tools alone planned 4,500 instead of 4,734 free-flow (21 vans,
    was 23) and 5,371 instead of 5,433 learned."""
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.local_search_metaheuristic = getattr(_META, opts.metaheuristic)
    params.use_multi_armed_bandit_concatenate_operators = True
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    if opts.solution_limit is not None:
        params.solution_limit = opts.solution_limit
    return params
