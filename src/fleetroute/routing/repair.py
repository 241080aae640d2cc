"""Make routes planned without some rules obey them: the bridge from PyVRP to OR-Tools.

PyVRP cannot express locked sequences of drop-offs, drivers' breaks, stop limits on routes
with store pickups, soft windows or several windows on a store order. ``auto`` searches
such a day without those rules (:func:`relaxed`, which makes the windows stricter, not
looser), then hands the routes to OR-Tools as its starting plan, after :func:`repair` has
made them obey the locks and stop limits (breaks are OR-Tools' to place): routes go to the
vehicles their locked orders ride, orders on the wrong vehicle or out of their locked
sequence leave the plan (OR-Tools inserts them again), and drop-offs past a stop limit
leave too."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from fleetroute.routing.insert import cheapest_insertion
from fleetroute.routing.problem import UNLIMITED, Problem
from fleetroute.routing.schedule import DROPOFF, Route

__all__ = ["relaxed", "repair"]


def relaxed(p: Problem) -> Problem:
    """``p`` without locks, breaks, and stop limits where store orders are planned; soft
    windows made hard and a store order with several windows kept to its longest (both
    stricter than ``p``, so PyVRP's routes stay feasible for OR-Tools)."""
    stops = np.full(p.n_vehicles, UNLIMITED) if p.has_store.any() else p.max_stops
    windows = p.order_windows.copy()
    for i in np.flatnonzero(p.has_store).tolist():
        own = p.windows_of(i)
        if own.shape[0] > 1:
            windows[i] = own[np.argmax(own[:, 1] - own[:, 0])]
    return p.replace(
        order_vehicle=np.full(p.n_orders, -1),
        order_rank=np.full(p.n_orders, -1),
        break_s=np.zeros(p.n_vehicles),
        max_stops=stops,
        max_late_s=np.zeros(p.n_orders),
        order_windows=windows,
        window_start_s=windows[:, 0, 0],
        window_end_s=windows[:, -1, 1],
    )


def _reassigned(p: Problem, routes: list[Route]) -> list[Route]:
    """Routes moved between interchangeable vehicles so that as many locked orders as can
    be ride their vehicle (one assignment problem per kind of vehicle)."""
    if not p.has_locks:
        return routes
    label = p.vehicle_kinds()
    out: list[Route] = []
    for kind in np.unique(label[[r.vehicle for r in routes]]).tolist():
        mine = [r for r in routes if label[r.vehicle] == kind]
        vehicles = np.flatnonzero(label == kind)
        gain = np.zeros((len(mine), vehicles.shape[0]))
        for i, route in enumerate(mine):
            locked = p.order_vehicle[[o for o in route.orders if o >= 0]]
            for j, k in enumerate(vehicles.tolist()):
                gain[i, j] = float((locked == k).sum())
        rows, cols = linear_sum_assignment(gain, maximize=True)
        out += [
            Route(int(vehicles[c]), mine[r].kinds, mine[r].orders)
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
        ]
    return out


def _in_rank_order(ranks: list[int]) -> set[int]:
    """Positions of a longest subsequence of ``ranks`` that increases."""
    best: list[list[int]] = []  # best[i]: a longest increasing run ending at position i
    for i, r in enumerate(ranks):
        longest: list[int] = []
        for chain in best:
            if ranks[chain[-1]] < r and len(chain) > len(longest):
                longest = chain
        best.append([*longest, i])
    top: list[int] = []
    for chain in best:
        top = chain if len(chain) > len(top) else top
    return set(top)


def repair(p: Problem, routes: list[Route]) -> list[Route]:
    """``routes`` made to obey ``p``'s locks and stop limits: whole routes move between
    interchangeable vehicles, orders that still break a rule leave their route, and
    locked orders left out go back on their vehicle at their cheapest feasible place.
    When one does not fit, its vehicle's route is rebuilt: its locked orders first (in
    their sequence), then its other orders where they still fit; the rest are left for
    OR-Tools to insert."""
    out = {r.vehicle: r for r in _obeying(p, routes)}
    placed = {o for r in out.values() for o in r.orders}
    missing: dict[int, list[int]] = {}
    for o in np.flatnonzero(p.order_vehicle >= 0).tolist():
        if o not in placed:
            missing.setdefault(int(p.order_vehicle[o]), []).append(o)
    for k, orders in missing.items():
        route: Route | None = out.get(k, Route(k, (), ()))
        for o in sorted(orders, key=lambda o: int(p.order_rank[o])):
            found = None if route is None else cheapest_insertion(p, [route], o, vehicle=k)
            route = None if found is None else found.route
        out[k] = route if route is not None else _rebuilt(p, out.get(k, Route(k, (), ())))
    return [r for r in out.values() if r.orders]


def _rebuilt(p: Problem, route: Route) -> Route:
    """Vehicle ``route.vehicle``'s route from its locked orders (in sequence), then the
    route's other orders in their old order, each where it fits cheapest (or not at all)."""
    k = route.vehicle
    locked = sorted(
        np.flatnonzero(p.order_vehicle == k).tolist(), key=lambda o: int(p.order_rank[o])
    )
    others = [o for o in dict.fromkeys(route.orders) if o >= 0 and p.order_vehicle[o] != k]
    out = Route(k, (), ())
    for o in [*locked, *others]:
        found = cheapest_insertion(p, [out], o, vehicle=k)
        if found is not None:
            out = found.route
    return out


def _obeying(p: Problem, routes: list[Route]) -> list[Route]:
    """``routes`` with the orders that break a lock or a stop limit left out."""
    out = []
    for route in _reassigned(p, routes):
        k = route.vehicle
        stops = [(kind, o) for kind, o in zip(route.kinds, route.orders, strict=True)]
        drop = {o for kind, o in stops if o >= 0 and p.order_vehicle[o] not in (-1, k)}
        ranked = [o for kind, o in stops if kind == DROPOFF and o not in drop]
        ranked = [o for o in ranked if p.order_rank[o] >= 0]
        keep = _in_rank_order([int(p.order_rank[o]) for o in ranked])
        drop |= {o for i, o in enumerate(ranked) if i not in keep}
        dropoffs = [o for kind, o in stops if kind == DROPOFF and o not in drop]
        drop |= set(dropoffs[int(p.max_stops[k]) :])
        kept = [(kind, o) for kind, o in stops if o >= 0 and o not in drop]  # no break, reload
        if kept:
            kinds, orders = zip(*kept, strict=True)
            out.append(Route(k, tuple(kinds), tuple(orders)))
    return out
