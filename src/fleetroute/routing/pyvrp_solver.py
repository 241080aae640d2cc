"""Solve a Problem with PyVRP's iterated local search. All PyVRP code lives here.

PyVRP reads the same integer matrices as OR-Tools. Orders without a store are clients
delivered from the vehicle's depot; orders shopped at a store are shipments (pickup at the
store, drop-off at the customer, same vehicle). Identical vehicles form one vehicle type.
Every order is optional with a prize far above what serving it alone could cost (times
``1 + priority``), so a plan always exists and orders are only left out when they cannot
be fitted, the least important first, as with OR-Tools.

Hour-dependent travel (an ETA model's bands) becomes one static matrix whose row for each
place is the slowest band over the hours a vehicle may leave it (its windows, its depot's
shifts; for a store, from its opening to the end of the pickup's order window, one row
per such span), so every promised time holds when the plan is driven with the band of
each real departure.

Skills and dispatch locks become routing profiles (PyVRP's way of restricting clients to
vehicles): one duration matrix per skill set of the fleet and, on a day with locks, per
vehicle that has locked orders, in which the legs into and out of a customer the profile's
vehicles may not serve (a skill they lack, an order locked to another vehicle) are too
long for any window. A locked order has its own row, so that an order at the same place
that is not locked stays open to every vehicle. Extra capacity dimensions are more load
dimensions, route limits are ``shift_duration`` and ``max_distance``, a vehicle that
reloads gets a reload depot at its start (its service is ``reload_s``), and a store
visit's fixed time is added to every leg into the store's rows from another place (legs
between orders shopped in one visit stay free).

An order with several windows is a group of clients, one per window, of which one is
visited (PyVRP's client groups).

What PyVRP cannot express (a locked sequence of drop-offs, breaks, a stop limit on routes
with store pickups, soft windows, several windows on a store order) is decided by
:func:`supports`; :func:`fleetroute.routing.solve.solve`
then searches the day without those rules here and lets OR-Tools make the plan obey
them, starting from PyVRP's routes.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning, ScalingWarning
from pyvrp.search import LocalSearch, PerturbationManager, compute_neighbours
from pyvrp.stop import FirstFeasible, MaxIterations

from fleetroute.routing.options import (
    OVERRUN_SHARE,
    pool_context,
    side_by_side,
    stop_requested,
)
from fleetroute.routing.problem import Problem
from fleetroute.routing.schedule import AT_DEPOT, DROPOFF, PICKUP, RELOAD, Route, plan_cost
from fleetroute.routing.zones import POLISHED_SECTOR_SHARE

__all__ = ["ZONE_VISITS_AT_MOST", "supports", "solve_pyvrp", "zones_to_build", "zones_why"]

#: The smallest non-zero cost per metre or per second becomes this many integer units.
#: PyVRP's penalty manager works best with small integer costs: measured on Solomon, a
#: scale of 360,000 units per cost unit (the OR-Tools model's) found no feasible plan on
#: R101 in 3 s, 10 units per metre found the best-known fleet.
_UNIT = 10


def supports(problem: Problem, orders: np.ndarray) -> str | None:
    """``None`` when PyVRP can solve ``problem`` exactly as posed, else why it cannot."""
    p = problem
    if bool((p.order_rank[orders] >= 0).any()):
        return "locked drop-offs keep their planned sequence"
    if _profile_bytes(p, orders) > PROFILE_BYTES:
        return (
            f"orders are locked to {_locked_vehicles(p, orders).size} vehicles, too many "
            "routing profiles to hold in memory"
        )
    if bool((p.max_late_s[orders] > 0).any()):
        return "some windows are soft (lateness at a cost)"
    several = np.array([p.windows_of(i).shape[0] > 1 for i in orders.tolist()], dtype=bool)
    if bool((several & p.has_store[orders]).any()):
        return "a store order has several windows"
    if p.has_breaks:
        return "drivers take breaks"
    stops_bind = bool((p.max_stops < orders.shape[0]).any())
    if stops_bind and bool(p.has_store[orders].any()):
        return "a stop limit applies to routes with store pickups"
    return None


#: Most memory PyVRP's copies of the profiles' matrices may take (durations and distances,
#: 8 bytes an entry). A 500-order replan with locks on 25 vans needs about 0.1 GB.
PROFILE_BYTES = 2 * 1024**3


def _locked_vehicles(p: Problem, orders: np.ndarray) -> np.ndarray:
    """The vehicles some of ``orders`` are locked to."""
    owners = p.order_vehicle[orders]
    return np.unique(owners[owners >= 0])


def _profile_bytes(p: Problem, orders: np.ndarray) -> int:
    """About how much memory PyVRP's matrices take, one pair per routing profile."""
    skill_sets = np.unique(p.vehicle_skills).size if p.has_skills else 1
    profiles = skill_sets * (_locked_vehicles(p, orders).size + 1)
    rows = orders.shape[0] + p.n_vehicles + int(p.has_store[orders].sum())
    return 2 * 8 * profiles * rows * rows


@dataclass(frozen=True)
class _Model:
    """PyVRP data and how to read its routes back."""

    data: pyvrp.ProblemData
    required: pyvrp.ProblemData | None  # every order required (for fleet minimisation)
    client_order: np.ndarray  # client index -> order index (one client per window)
    shipment_order: np.ndarray  # shipment index -> order index
    type_vehicles: tuple[tuple[int, ...], ...]  # vehicle type -> vehicle indices


#: An order's prize is this many times what serving it alone could cost at most (its own
#: vehicle's fixed cost and a round trip), times ``1 + priority``.
_PRIZE_FACTOR = 10
#: No prize above this many integer units (overflow guard for extreme cost scales).
_PRIZE_CAP = 10**14


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


def _prizes(
    p: Problem,
    orders: np.ndarray,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    travel: np.ndarray,
    distance: np.ndarray,
    rates: tuple[float, float, float],
) -> np.ndarray:
    """Each order's prize (integer units): ``_PRIZE_FACTOR`` times the most that serving it
    alone could cost (fixed cost, start -> [store ->] customer -> end on the costliest
    vehicle), times ``1 + priority``. ``rows``: each order's customer row and pickup row
    (the customer's own for a plain order: a zero leg), each vehicle's start and end row."""
    fixed, per_m, per_s = rates
    cust, via, starts, ends = rows
    service = (p.dropoff_s[orders] + p.shop_s[orders]).astype(np.float64)
    worst = np.zeros(orders.shape[0])
    for s, e in set(zip(starts.tolist(), ends.tolist(), strict=True)):
        seconds = travel[s, via] + travel[via, cust] + travel[cust, e] + service
        metres = distance[s, via] + distance[via, cust] + distance[cust, e]
        worst = np.maximum(worst, fixed + per_s * seconds + per_m * metres)
    prize = _PRIZE_FACTOR * (1.0 + p.priority[orders]) * np.maximum(worst, 1.0)
    return np.minimum(np.round(prize), _PRIZE_CAP).astype(np.int64)


#: Seconds into or out of a customer on a profile whose vehicles may not serve it: past any
#: window, so a route through it is never feasible.
_FORBIDDEN_S = 10 * 86_400


def _profiles(
    p: Problem, orders: np.ndarray, cust_row: np.ndarray, travel: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """The duration matrices of the routing profiles and each vehicle's profile.

    Vehicles share a profile when they have the same skills and the same locked orders
    (only a vehicle with locked orders has its own). A profile's matrix is ``travel`` with
    the legs into and out of each customer its vehicles may not serve made too long for
    any window: an order that needs a skill they lack, or one locked to another vehicle."""
    skills = p.vehicle_skills if p.has_skills else np.zeros(p.n_vehicles, dtype=np.int64)
    owners = p.order_vehicle[orders]
    has_locked = np.isin(np.arange(p.n_vehicles), owners[owners >= 0])
    owner = np.where(has_locked, np.arange(p.n_vehicles), -1)
    keys, profile = np.unique(np.column_stack([skills, owner]), axis=0, return_inverse=True)
    horizon = int(p.shift_end_s.max()) + _FORBIDDEN_S
    out = []
    for mask, k in keys.tolist():
        barred = cust_row[((p.order_skills[orders] & ~mask) != 0) | ((owners >= 0) & (owners != k))]
        if barred.size == 0:
            out.append(travel)
            continue
        matrix = travel.copy()
        matrix[barred, :] = horizon
        matrix[:, barred] = horizon
        matrix[barred, barred] = 0
        out.append(np.ascontiguousarray(matrix))
    return out, profile.ravel()


def _model(p: Problem, orders: np.ndarray, *, with_required: bool = False) -> _Model:
    is_shop = p.has_store[orders]
    plain, shopped = orders[~is_shop], orders[is_shop]
    stores = p.order_store[shopped]
    v = p.n_vehicles
    ends = _same_place(p, np.concatenate([p.start_loc, p.end_loc]))
    start_loc, end_loc = ends[:v], ends[v:]
    # rows of the matrices: the depots and customers (sorted, found by searchsorted), then
    # one row per pickup group. Each pickup leaves its store between the store's opening
    # and the end of its order's window; pickups are grouped by store and that latest
    # departure, and each group's row (the store's place) is the slowest band of that span
    # only, not of the store's whole day.
    used = np.unique(np.concatenate([ends, p.order_loc[orders]]).astype(np.int64))
    cust_row = np.searchsorted(used, p.order_loc[orders])
    leave_by = np.minimum(p.store_close_s[stores], p.window_end_s[shopped])
    groups, pickup_group = np.unique(
        np.column_stack([stores, leave_by]), axis=0, return_inverse=True
    )
    pickup_row = used.shape[0] + pickup_group.ravel()
    # then one row per locked order: barred from other vehicles' profiles, it must not
    # share a row with an order at its place that is not locked
    locked = np.flatnonzero(p.order_vehicle[orders] >= 0)
    own_loc = p.order_loc[orders[locked]].astype(np.int64)
    cust_row[locked] = used.shape[0] + groups.shape[0] + np.arange(locked.shape[0])
    locs = np.concatenate([used, p.store_loc[groups[:, 0]], own_loc]).astype(np.int64)
    lo, hi = p.departure_spans(starts=start_loc, ends=end_loc)
    depart_lo = np.concatenate([lo[used], p.store_open_s[groups[:, 0]], lo[own_loc]])
    depart_hi = np.concatenate([hi[used], groups[:, 1], hi[own_loc]])
    latest = p.latest_arrivals(ends=end_loc)
    arrive_by = np.concatenate([latest[used], groups[:, 1], latest[own_loc]])
    locations = [
        pyvrp.Location(float(p.loc_lon[loc]), float(p.loc_lat[loc])) for loc in locs.tolist()
    ]
    depot_locs = np.unique(ends)
    depot_of = {int(loc): i for i, loc in enumerate(depot_locs.tolist())}
    depots = [pyvrp.Depot(int(row)) for row in np.searchsorted(used, depot_locs).tolist()]
    travel = np.ascontiguousarray(p.worst_travel_s(locs, depart_lo, depart_hi, arrive_by))
    distance = np.ascontiguousarray(p.distance_m[np.ix_(locs, locs)])
    # a store visit's fixed part is paid on arriving at the store from another place
    visit = np.zeros(locs.shape[0], dtype=np.int64)
    visit[used.shape[0] : used.shape[0] + groups.shape[0]] = p.store_visit_s[groups[:, 0]]
    travel += np.where(locs[:, None] != locs[None, :], visit[None, :], 0)

    total = int(p.demand[orders].sum()) + 1
    capacity = np.minimum(p.capacity, total)
    dim_total = p.dim_demand[orders].sum(axis=0) + 1
    dim_capacity = np.minimum(p.dim_capacity, dim_total[None, :])
    durations, profile = _profiles(p, orders, cust_row, travel)
    stops = np.minimum(p.max_stops, orders.shape[0] + 1)
    scale = _scale(p)
    per_m = p.cost_per_km * scale / 1000.0
    per_s = p.cost_per_hour * scale / 3600.0
    if not (per_m > 0).any() and not (per_s > 0).any():
        per_m = np.ones_like(per_m)  # no costs at all: shortest routes
    rates = (float(p.fixed_cost.max() * scale), float(per_m.max()), float(per_s.max()))
    via_row = cust_row.copy()
    via_row[is_shop] = pickup_row
    rows = (cust_row, via_row, np.searchsorted(used, start_loc), np.searchsorted(used, end_loc))
    prize = _prizes(p, orders, rows, travel, distance, rates)
    prize_of = dict(zip(orders.tolist(), prize.tolist(), strict=True))

    stops_bind = bool((p.max_stops < orders.shape[0]).any())
    extra = [1] if stops_bind else []

    # one client per delivery window; an order with several is a group of clients, one
    # of which is visited (PyVRP's client groups)
    windows = [p.windows_of(i) for i in plain.tolist()]
    client_order = np.repeat(plain, [w.shape[0] for w in windows]).astype(np.int64)
    client_rows = np.repeat(cust_row[~is_shop], [w.shape[0] for w in windows])
    client_window = np.concatenate(windows) if windows else np.zeros((0, 2), np.int64)
    grouped = [
        np.flatnonzero(client_order == i).tolist()
        for i, w in zip(plain.tolist(), windows, strict=True)
        if w.shape[0] > 1
    ]
    group_of = {c: g for g, members in enumerate(grouped) for c in members}

    def clients(required: bool) -> list[pyvrp.Client]:
        return [
            pyvrp.Client(
                int(row),
                delivery=[int(p.demand[i]), *p.dim_demand[i].tolist(), *extra],
                service_duration=int(p.dropoff_s[i]),
                tw_early=int(early),
                tw_late=int(late),
                prize=0 if required else prize_of[i],
                required=required and c not in group_of,
                group=group_of.get(c),
            )
            for c, (i, row, (early, late)) in enumerate(
                zip(
                    client_order.tolist(), client_rows.tolist(), client_window.tolist(), strict=True
                )
            )
        ]

    def shipments(required: bool) -> list[pyvrp.Shipment]:
        return [
            pyvrp.Shipment(
                int(pick),
                int(drop),
                # shopping starts after the visit's fixed part, which starts once open
                pickup_tw_early=int(p.store_open_s[s] + p.store_visit_s[s]),
                # shopped and gone by the end of its window, as the row above assumes
                pickup_tw_late=int(
                    max(p.store_open_s[s] + p.store_visit_s[s], leave - p.shop_s[i])
                ),
                pickup_service_duration=int(p.shop_s[i]),
                delivery_tw_early=int(p.window_start_s[i]),
                delivery_tw_late=int(p.window_end_s[i]),
                delivery_service_duration=int(p.dropoff_s[i]),
                amount=[int(p.demand[i]), *p.dim_demand[i].tolist(), *([0] if stops_bind else [])],
                prize=0 if required else prize_of[i],
                required=required,
            )
            for i, s, pick, drop, leave in zip(
                shopped.tolist(),
                stores.tolist(),
                pickup_row.tolist(),
                cust_row[is_shop].tolist(),
                leave_by.tolist(),
                strict=True,
            )
        ]

    # a vehicle that reloads does so at its start depot: one more PyVRP depot there whose
    # service is the reload (the start and end depots themselves take no time)
    reload_of: dict[tuple[int, int], int] = {}
    for k in np.flatnonzero(p.reload_s >= 0).tolist():
        spot = (int(start_loc[k]), int(p.reload_s[k]))
        if spot not in reload_of:
            reload_of[spot] = len(depots) + len(reload_of)
    reload_depots = [
        pyvrp.Depot(int(np.searchsorted(used, loc)), service_duration=seconds)
        for loc, seconds in reload_of
    ]
    keys: dict[tuple[int, ...], list[int]] = {}
    for k in range(p.n_vehicles):
        key = (
            int(p.reload_s[k]),
            int(start_loc[k]),
            int(end_loc[k]),
            int(capacity[k]),
            int(stops[k]) if stops_bind else 0,
            int(p.shift_start_s[k]),
            int(p.shift_end_s[k]),
            int(round(p.fixed_cost[k] * scale)),
            int(round(per_m[k])),
            int(round(per_s[k])),
            int(profile[k]),
            int(p.max_route_s[k]),
            int(p.max_distance_m[k]),
            *dim_capacity[k].tolist(),
        )
        keys.setdefault(key, []).append(k)
    limit = pyvrp.VehicleType().shift_duration  # PyVRP's "no limit"
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=len(members),
            capacity=[cap, *dims, *([n_stops] if stops_bind else [])],
            start_depot=depot_of[start],
            end_depot=depot_of[end],
            fixed_cost=fixed,
            tw_early=early,
            tw_late=late,
            unit_distance_cost=dist_cost,
            unit_duration_cost=dur_cost,
            profile=prof,
            shift_duration=min(limit, longest),
            max_distance=min(limit, farthest),
            reload_depots=[reload_of[(start, reload)]] if reload >= 0 else [],
        )
        for (
            reload,
            start,
            end,
            cap,
            n_stops,
            early,
            late,
            fixed,
            dist_cost,
            dur_cost,
            prof,
            longest,
            farthest,
            *dims,
        ), members in keys.items()
    ]

    def data(required: bool) -> pyvrp.ProblemData:
        return pyvrp.ProblemData(
            locations=locations,
            clients=clients(required),
            depots=depots + reload_depots,
            vehicle_types=vehicle_types,
            distance_matrices=[cast(Any, distance)] * len(durations),
            duration_matrices=[cast(Any, d) for d in durations],
            shipments=shipments(required),
            groups=[pyvrp.ClientGroup(members, required=required) for members in grouped],
        )

    return _Model(
        data(False),
        data(True) if with_required else None,
        client_order,
        shopped,
        tuple(tuple(m) for m in keys.values()),
    )


#: PyVRP's penalties per unit of excess load or time warp stop growing here. Its default
#: (100,000) is below what one order's prize is worth, so on a store day (400 orders) the
#: search stayed in infeasible plans for its whole 10 s; at 1e9 it found feasible ones
#: (time warp stays below 1e5 s a route, so penalties stay far from overflowing).
_MAX_PENALTY = 1e9
_PARAMS = pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(max_penalty=_MAX_PENALTY))

#: Share of the search spent on fleet minimisation when vehicles carry a fixed cost.
_FLEET_SHARE = 0.3
#: Fleet minimisation only where that share has time for this many first plans.
_FLEET_TRIES = 8
#: A fleet whose routes are short (at most :data:`_FLEET_SHORT_ROUTE` visits each on
#: average) is minimised and searched with this late-acceptance history instead of
#: PyVRP's 300, and the search on the smallest fleet goes on from the plan that fleet was
#: found with (:func:`_minimise_fleet`) instead of a random one. At 10 s (seed 0, every
#: instance at its best-known fleet), distance over the best-known: Homberger's r1_2_1
#: (10 visits a route) +8.07% before, +6.53% from the kept plan, +3.11% with 150 too;
#: rc1_2_1 (11 a route) +14.14%, +11.04%, +5.87%. Longer routes lost with either:
#: r2_2_1 (50) +0.50% with 300 and +1.09% with 150 (from the kept plan); Solomon's R207
#: and RC203 (25-50) +0.47% and +0.83% as before, +2.20% and +2.37% from the kept plan.
#: (The search on that fleet keeps this history only while it is long; a short one
#: perturbs less at PyVRP's 300: :data:`_FLEET_SHORT`.)
_FLEET_HISTORY = 150
_FLEET_SHORT_ROUTE = 20


def _data_visits(data: pyvrp.ProblemData) -> int:
    """The places a plan of ``data`` visits (a shipment twice: pickup and delivery)."""
    return int(data.num_clients + 2 * data.num_shipments)


def _fleet_routes_short(data: pyvrp.ProblemData) -> bool:
    """Whether ``data``'s fleet, every vehicle used, has short routes (see
    :data:`_FLEET_HISTORY`; counted on the fleet, where :func:`_plan_routes_long` counts
    on a plan's routes for the perturbations)."""
    return _data_visits(data) <= _FLEET_SHORT_ROUTE * max(1, data.num_vehicles)


def _fleet_history(data: pyvrp.ProblemData) -> int:
    """The late-acceptance history of a search on exactly ``data``'s fleet."""
    return _FLEET_HISTORY if _fleet_routes_short(data) else _HISTORY_AT_MOST


#: Seconds kept back for starting the worker processes and bringing their plans back.
_POOL_START_S = 0.2
#: Seconds kept back per order (at most this share of the limit) for PyVRP's last
#: iteration: on a 2,000-order store day its searches ended 1.5 to 5 s after their clock.
_ITERATION_S_PER_ORDER = 0.001
_ITERATION_SHARE = 0.15

#: The model of the running search, set before worker processes are forked so that they
#: inherit it instead of receiving a pickled copy of its matrices.
_FORKED: _Model | None = None


@dataclass(frozen=True)
class SearchResult:
    """One PyVRP search: whether its best plan is feasible, its cost (integer units, the
    prizes of left-out orders included), its routes as (vehicle type, [(activity, index)])
    and how it searched."""

    feasible: bool
    cost: float
    routes: list[tuple[int, list[tuple[str, int]]]]
    seed: int
    fleet_minimised: bool


#: Share of a guided search spent without a route-length cap, to measure its routes.
_GUIDE_SHARE = 0.15
#: The cap on every route's metres for the rest of a guided search: this many times the
#: mean route of the first plan.
_GUIDE_CAP = 1.0
#: A first plan with fewer routes is not capped (one long route is no guide to length).
_GUIDE_MIN_ROUTES = 8


class _ForIterations:
    """A PyVRP stopping criterion that ends the search after ``iterations``, or when
    :data:`STOP` is set."""

    def __init__(self, iterations: int) -> None:
        self.iterations = iterations
        self.inner: Any = MaxIterations(iterations)

    def __call__(self, best_cost: float) -> bool:
        return stop_requested() or bool(self.inner(best_cost))


class _Until:
    """A PyVRP stopping criterion that ends the search at a ``time.perf_counter()``
    instant, or when :data:`STOP` is set. PyVRP's ``MaxRuntime`` starts its clock at its
    first call, after the initial plan is built: on a 5,000-order day that took 4.5 s, all
    of it beyond the limit. This one counts it, and counts its calls (one per iteration)."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.calls = 0

    def __call__(self, best_cost: float) -> bool:
        self.calls += 1
        return stop_requested() or time.perf_counter() >= self.at


#: PyVRP accepts a worse plan while it beats the plan of ``history_length`` iterations
#: before (late acceptance). Its default, 300, suits long searches; a 60-s search of the
#: 400-order store day runs about 7,000 iterations, 16 per visit, and with 300 it ends
#: while still wandering. The history is this many times the iterations per visit.
#: Measured on that day (free-flow, PyVRP alone on one core, 60 s, seeds 0-2): history
#: 1,000: 3,922; 300: 3,808; 100: 3,641; 50: 3,642; 30: 3,605; the best-known plan of
#: 180-s searches on two cores is 3,612. Learned times: 300: 4,811, 30: 4,559 (seeds 0-1).
#: Solomon's R2 instances (100 clients, about 8,000 iterations in 10 s, 80 per visit)
#: want a long one: 300: +0.89% over the best-known distances, 80: +1.30%, 40: +2.27%.
#: Hence per visit. With this rule the store day ends at 3,619 free-flow and 4,497 learned
#: (seeds 0-2); the standard instances: benchmarks/results/vrplib.md.
_HISTORY_PER_ITERATION_PER_VISIT = 2.5
_HISTORY_AT_LEAST = 10
#: PyVRP's default: a long search keeps it.
_HISTORY_AT_MOST = 300
#: A search with fewer iterations per visit than this ahead (at :data:`_SHORT_PERTURB`)
#: perturbs at most 5 places (removes or inserts them) before each local search instead
#: of PyVRP's 25, which suits longer searches. Measured on the 400-order store day at 60 s
#: (two guided searches on two cores, seeds 0-2, each with a fixed 1-to-N perturbations),
#: learned (0.7 quantile): N = 25: 4,546 on average; 15: 4,466; 10: 4,472; 5: **4,443**;
#: 3: 4,510 (the best-known plan, 180-s searches: 4,407.5). Free-flow: 25: 3,600; 5:
#: **3,556** (best-known: 3,612). With 5 that day runs 51 iterations per visit (3.5 times
#: as many as with 25). The standard instances at 10 s run 150 (Homberger's r1_2_1) to
#: 300 (Solomon's R211) per visit with 5 and keep 25: with 5, Li & Lim's lrc201 ended
#: 2.4% above its best-known plan instead of on it.
_SHORT_PER_VISIT = 100
#: What a short search perturbs: 1 to 5 places per iteration.
_SHORT_PERTURB = pyvrp.search.PerturbationParams(1, 5)
#: ... where its routes are short: a plan of more visits per route than this (the first
#: plan of a fixed effort, the probe's of a timed search) keeps PyVRP's perturbations. The
#: store days above run 21-24 visits a route; delivery days without windows on the example
#: city (``benchmarks/time_limit.py``, 36-40 a route, 27 in a guided search's capped
#: routes) planned about 1% cheaper with PyVRP's 25 than with 5: 400 orders at 20 s 16.86
#: against 17.04, 2,000 at 20 s 79.46 / 79.56 against 80.32 / 79.95 (seeds 0, 2), 5,000 at
#: 60 s 197.8 against 199.9; its store day (31-41 a route) 30.27 / 30.43 against 30.44 /
#: 30.42.
_SHORT_ROUTE_VISITS = 25
#: Share of a timed search spent measuring how many iterations the day runs a second.
_PROBE_SHARE = 0.05


@dataclass(frozen=True)
class _Perturbing:
    """How many places a search perturbs an iteration, and at what history. It perturbs
    less (:data:`_SHORT_PERTURB`) below ``per_visit`` iterations a visit ahead and where
    its routes are short (:data:`_SHORT_ROUTE_VISITS`). A timed search measures its pace
    with a probe, itself perturbing less (``probe_less``) or as PyVRP does, at
    ``probe_history``. The search then runs with ``short_history`` or ``long_history``
    (``None``: fitted to its pace, measured again when the probe perturbed otherwise)."""

    per_visit: int
    probe_less: bool
    probe_history: int
    short_history: int | None = None
    long_history: int | None = None


#: Every search whose history is not given but the one below. The zones' polish passes go
#: on from a plan too, and there the probe at 10 did not cost: on the 2,000-order store
#: day (free-flow, 60 s, three runs each) +0.63% to +1.33% over the best-known plan with it,
#: +1.64% to +1.87% with the polish probed at 100.
_PERTURBING = _Perturbing(_SHORT_PER_VISIT, True, _HISTORY_AT_LEAST)
#: The search on exactly the smallest fleet, where its routes are short (from the plan it
#: was found with, :func:`_minimise_fleet`), perturbs less, at PyVRP's history of 300,
#: below 35 iterations a visit ahead at PyVRP's perturbations, probed at the fleet's 150.
#: Homberger's r1_2_1 and rc1_2_1 at 10 s run 15-20 a visit ahead so (130-165 perturbing
#: less); Solomon's 100-customer instances 50-70 (R107, R111, RC103; 340-510). Homberger's
#: two, seeds 0-5, distance over the best-known at the best-known fleet: with PyVRP's
#: perturbations at 150, as before, +3.86% (5 seeds; one kept 21 vehicles) and +7.32%;
#: so, **+1.99%** and **+6.85%**. PyVRP's own searches from random plans at that fleet
#: (r1_2_1, 7 s, seeds 0-1) liked the same: perturbing less at 300 +1.0% and +2.0%, at
#: 150 +3.2%, with PyVRP's perturbations +6.0-8.1%. Measured on the way: probing
#: perturbing less at a history of 10, as other searches do, from the fleet's plan lost
#: most of the gain (+3.42%, +7.65%); the threshold at 200 a visit perturbing less put
#: Solomon's RC103 at +3.7% and +3.8% in two runs of the family (+4.3% perturbing less at
#: any pace) against +0.2% before (``benchmarks/results/vrplib.md``).
_FLEET_SHORT = _Perturbing(35, False, _FLEET_HISTORY, _HISTORY_AT_MOST, _FLEET_HISTORY)


def _plan_routes_long(visits: int, plan: pyvrp.Solution) -> bool:
    """Whether ``plan`` visits more places a route than a short search perturbs less
    for (:data:`_SHORT_ROUTE_VISITS`; counted on the plan's routes, where
    :func:`_fleet_routes_short` counts on the fleet for the history)."""
    return visits > _SHORT_ROUTE_VISITS * max(1, plan.num_routes())


def _history(iterations: float, visits: int) -> int:
    """The late-acceptance history of a search of about ``iterations`` on ``visits``
    places to visit."""
    per_visit = iterations / max(1, visits)
    return int(
        np.clip(_HISTORY_PER_ITERATION_PER_VISIT * per_visit, _HISTORY_AT_LEAST, _HISTORY_AT_MOST)
    )


#: Seconds of neighbourhood and initial plan a search needs, per order squared (a
#: 5,000-order day: 2.3 s of neighbourhood, then 2.2 s of initial plan, on one core).
_BUILD_S_PER_ORDER2 = 1.8e-7


#: A PyVRP day is searched in zones when building one search's neighbourhood and first
#: plan would take more than this share of its time.
_BUILD_SHARE = 0.3
#: Zones are never smaller than this (each zone's search has its own fixed costs).
_ZONE_ORDERS_AT_LEAST = 200
#: A PyVRP day with store pickups and more places to visit than this is searched in zones
#: of at most this many, one per core at a time. On the 2,000-order store day (2,667
#: visits) at 60 s, free-flow, seed 0: whole 23,632 (PyVRP alone on one core: 23,182),
#: 2 zones 22,995, 3 zones 22,539, 4 zones 22,455, 6 zones 22,118, 8 zones 22,458. It is
#: not that zones search each place more often: an iteration took about as long on that
#: day as on the 400-order day's 534 visits (5,400 and 7,000 iterations in a minute).
#: Days without pickups stay whole: CVRPLIB X with 613 to 1,001 customers at 10 s planned
#: 1.0-2.4 points worse in zones. (Perhaps because a store's hundreds of pickups fill each
#: other's neighbourhoods, which a zone thins out; not measured apart.) The 400-order
#: store day is searched whole: in 2 zones it planned no better (3,579 free-flow, 4,502
#: learned, against 3,563-3,611 and 4,497-4,540 whole).
ZONE_VISITS_AT_MOST = 600


def _visits(problem: Problem, orders: np.ndarray) -> int:
    """Places a search of ``orders`` visits: drop-offs, and pickups at the stores."""
    return orders.shape[0] + int(problem.has_store[orders].sum())


def _build_s(visits: float) -> float:
    """About how long one PyVRP search of ``visits`` places takes to build its first plan."""
    return _BUILD_S_PER_ORDER2 * visits**2


def build_seconds(problem: Problem, orders: np.ndarray) -> float:
    """About how long one PyVRP search of ``orders`` takes to build its first plan."""
    return _build_s(_visits(problem, orders))


def zones_to_build(problem: Problem, orders: np.ndarray, seconds: float, workers: int) -> int:
    """How many zones (of :mod:`.zones`) a PyVRP day is searched in: 1 (the whole day) up
    to :data:`ZONE_VISITS_AT_MOST` places to visit or without store pickups, else enough
    zones of at most that many to keep every core busy in every round (6 for 2,000
    orders, a third shopped, on two cores); more when a zone's first plan would take more
    than a small share of its time (5,000 orders at 5 s). A day with locked orders is
    searched whole: zones share the fleet out without regard to locks."""
    if problem.has_locks:
        return 1
    visits = _visits(problem, orders)
    most = max(1, min(orders.shape[0] // _ZONE_ORDERS_AT_LEAST, problem.n_vehicles))
    fewest = -(-visits // ZONE_VISITS_AT_MOST) if problem.has_store[orders].any() else 1
    if fewest > 1:
        fewest = -(-fewest // workers) * workers
    for k in range(min(fewest, most), most + 1):
        budget = seconds if k == 1 else seconds * POLISHED_SECTOR_SHARE / -(-k // workers)
        if _build_s(visits / k) <= _BUILD_SHARE * budget:
            return k
    return most


def zones_why(problem: Problem, orders: np.ndarray, seconds: float, zones: int) -> str:
    """Why a PyVRP day was searched in ``zones`` zones, in plain words (plan.json)."""
    visits = _visits(problem, orders)
    return (
        f"the day has {visits} places to visit (a store day of more than "
        f"{ZONE_VISITS_AT_MOST} is searched better in sectors) and its first plan would take about "
        f"{build_seconds(problem, orders):.1f} s of a {seconds:.1f} s search: it was "
        f"searched in {zones} zones"
    )


def _run(
    data: pyvrp.ProblemData,
    stop: _Until | _ForIterations | _FirstFeasibleOr,
    seed: int,
    neighbours: Any,
    initial: pyvrp.Solution | None = None,
    history: int | None = None,
    rule: _Perturbing = _PERTURBING,
) -> tuple[pyvrp.Result, float]:
    """PyVRP's iterated local search as :func:`pyvrp.solve` runs it, on neighbours
    computed once for every run of a search (PyVRP computes them again each call), with
    ``history`` or a late-acceptance history fitted to its length (:func:`_history`):
    from the iterations it is given, or, timed, from the pace of a short probe, the search
    going on from the probe's plan. A short search on short routes perturbs less
    (``rule``, :class:`_Perturbing`).
    The result and the seconds the initial plan took to build (0 when ``initial`` is
    given)."""
    rng = pyvrp.RandomNumberGenerator(seed=seed)
    visits = _data_visits(data)

    def local_search(perturb: pyvrp.search.PerturbationParams) -> LocalSearch:
        ls = LocalSearch(data, rng, neighbours, PerturbationManager(perturb))
        for operator in _PARAMS.operators:
            if operator.supports(data):
                ls.add_operator(operator(data))
        return ls

    # a fixed effort knows its length now (and its routes' once its first plan is built);
    # a timed search starts short and its probe decides (below); a search on a given
    # history keeps PyVRP's perturbations
    fixed = isinstance(stop, _ForIterations)
    short = history is None and (
        not isinstance(stop, _ForIterations) or stop.iterations < rule.per_visit * visits
    )
    ls = local_search(
        _SHORT_PERTURB if short and (fixed or rule.probe_less) else _PARAMS.perturbation
    )
    penalties = pyvrp.PenaltyManager(_PARAMS.penalty.midpoint_penalties(data), _PARAMS.penalty)
    t0 = time.perf_counter()
    if initial is None:  # as pyvrp.solve: a random plan, improved once
        random = pyvrp.Solution.make_random(data, rng)
        initial = ls(random, penalties.max_cost_evaluator(), exhaustive=True)
    built = time.perf_counter() - t0
    if short and fixed and _plan_routes_long(visits, initial):
        ls = local_search(_PARAMS.perturbation)
        short = False

    def search(start: pyvrp.Solution, history: int, until: Any) -> pyvrp.Result:
        params = dataclasses.replace(_PARAMS.ils, history_length=history)
        ils = pyvrp.IteratedLocalSearch(data, penalties, ls, start, params)
        return ils.run(until, collect_stats=False)

    def probed(start: pyvrp.Solution, end: float) -> tuple[pyvrp.Result, float]:
        """A short search from ``start`` (at ``rule``'s probe history), and how many
        iterations the rest of the time (to ``end``) would run at its pace."""
        began = time.perf_counter()
        probe = _Until(began + _PROBE_SHARE * max(0.0, end - began))
        result = search(start, rule.probe_history, probe)
        now = time.perf_counter()
        return result, probe.calls / max(now - began, 1e-6) * max(0.0, end - now)

    if history is not None:
        return search(initial, history, stop), built
    if isinstance(stop, _ForIterations):
        given = rule.short_history if short else rule.long_history
        return search(initial, given or _history(stop.iterations, visits), stop), built
    assert isinstance(stop, _Until), "a search to its first feasible plan has its history"
    first, ahead = probed(initial, stop.at)
    short = ahead < rule.per_visit * visits and not _plan_routes_long(visits, first.best)
    given = rule.short_history if short else rule.long_history
    if short != rule.probe_less:
        # the probe perturbed otherwise than the search will: the pace with its own
        ls = local_search(_SHORT_PERTURB if short else _PARAMS.perturbation)
        if given is None:
            first, ahead = probed(first.best, stop.at)
    return search(first.best, given or _history(ahead, visits), stop), built


class _FirstFeasibleOr:
    """A PyVRP stopping criterion that ends the search at its first feasible plan, or when
    ``stop`` says so (which is then remembered in :attr:`stopped`)."""

    def __init__(self, stop: _Until | _ForIterations) -> None:
        self.stop = stop
        self.first = FirstFeasible()
        self.stopped = False

    def __call__(self, best_cost: float) -> bool:
        self.stopped = bool(self.stop(best_cost))
        return self.stopped or bool(self.first(int(best_cost)))


def _minimise_fleet(
    data: pyvrp.ProblemData, stop: _Until | _ForIterations, seed: int, neighbours: Any
) -> tuple[pyvrp.VehicleType, pyvrp.Solution | None]:
    """The smallest fleet of ``data``'s one vehicle type found feasible before ``stop``,
    and the feasible plan found on it (``None`` when no vehicle could be spared): what
    :func:`pyvrp.minimise_fleet` does (one vehicle fewer at a time, each fleet searched
    from a random plan until its first feasible one, as long as ``stop`` allows), except
    that the plan is kept, for the search on a fleet of short routes to go on from (PyVRP
    keeps only the fleet; see :data:`_FLEET_HISTORY`), and a fleet of short routes is
    searched with a shorter history. Starting each smaller fleet from the last plan
    without its shortest route instead found fewer small fleets at 10 s: 21 vehicles on
    Homberger's r1_2_1 and 5 on r2_2_1 where this finds 20 and 4 (the best-known fleets).
    """
    fleet = data.vehicle_type(0)
    bound = 0  # the vehicles the loads alone need, as PyVRP bounds it
    for dim in range(data.num_load_dimensions):
        demand = max(
            sum(c.delivery[dim] for c in data.clients()),
            sum(c.pickup[dim] for c in data.clients()),
        )
        bound = max(bound, -(-demand // max(1, fleet.capacity[dim] * fleet.max_trips)))
    best: pyvrp.Solution | None = None
    while fleet.num_available > bound:
        smaller = fleet.replace(num_available=fleet.num_available - 1)
        until = _FirstFeasibleOr(stop)
        trial = data.replace(vehicle_types=[smaller])
        result, _ = _run(trial, until, seed, neighbours, history=_fleet_history(trial))
        if until.stopped or not result.best.is_feasible():
            break
        best = result.best
        # a plan that leaves vehicles unused saves them all at once
        fleet = smaller.replace(num_available=min(smaller.num_available, best.num_routes()))
    return fleet, best


def _guided(
    data: pyvrp.ProblemData, stop: Any, seed: int, neighbours: Any, end: float | None
) -> pyvrp.Result:
    """A search whose routes are kept near the length a first, short search found.

    On the 400-order store day (free-flow, 60 s) PyVRP alone ended at 3,860-3,930 with
    some routes of 150 km; the same search with every route capped at 45-90 km ended at
    3,710-3,810 (60 km: 3,711 and 3,745 on two seeds), below the best-known plan of 180 s
    searches (3,856): the cap steers it out of long all-day routes that wait between
    windows. A capped plan is a plan of the uncapped day, so the cheaper of the two
    searches' plans is kept.

    The capped search builds its own initial plan; when the time left (``end``, a
    ``time.perf_counter()`` instant; ``None`` for a fixed effort) is under three such
    builds, the first search goes on instead, so that a big day keeps its time limit.
    """
    first, built = _run(data, stop(_GUIDE_SHARE, _GUIDE_SHARE), seed, neighbours)
    routes = first.best.routes()
    short = end is not None and end - time.perf_counter() < 3 * built
    if short or not first.is_feasible() or len(routes) < _GUIDE_MIN_ROUTES:
        # too few routes for their mean to say how long one should be, or too little
        # time to start again: search on from there
        more, _ = _run(data, stop(1 - _GUIDE_SHARE, 1.0), seed, neighbours, first.best)
        return more
    cap = int(_GUIDE_CAP * np.mean([r.distance() for r in routes]))
    capped = data.replace(
        vehicle_types=[
            t.replace(max_distance=min(t.max_distance, cap)) for t in data.vehicle_types()
        ]
    )
    second, _ = _run(capped, stop(1 - _GUIDE_SHARE, 1.0), seed, neighbours)
    if second.is_feasible() and second.cost() < first.cost():
        return second
    return first


#: Warm-start routes as :class:`SearchResult` holds routes: (vehicle type, activities).
Start = list[tuple[int, list[tuple[str, int]]]]
_ACTIVITY: dict[str, Any] = dict(pyvrp.ActivityType.__members__)


def _start_routes(model: _Model, routes: Sequence[Route]) -> Start:
    """``routes`` (in the indices of the problem ``model`` was made of) as PyVRP routes of
    ``model``: each on its vehicle's type, its stops as activities. Orders the model does
    not hold are left out; an order with several windows is visited in its first."""
    type_of = {v: t for t, members in enumerate(model.type_vehicles) for v in members}
    client: dict[int, int] = {}
    for c, order in enumerate(model.client_order.tolist()):
        client.setdefault(order, c)
    shipment = {order: j for j, order in enumerate(model.shipment_order.tolist())}
    reload = [t.reload_depots[0] if t.reload_depots else -1 for t in model.data.vehicle_types()]
    out: Start = []
    for route in routes:
        t = type_of[route.vehicle]
        stops: list[tuple[str, int]] = []
        for kind, order in zip(route.kinds, route.orders, strict=True):
            if kind == RELOAD and reload[t] >= 0 and stops and stops[-1][0] != "DEPOT":
                stops.append(("DEPOT", reload[t]))
            elif order in shipment:
                stops.append(("PICKUP" if kind == PICKUP else "DELIVERY", shipment[order]))
            elif order in client and kind == DROPOFF:
                stops.append(("CLIENT", client[order]))
        while stops and stops[-1][0] == "DEPOT":
            stops.pop()
        if stops:
            out.append((t, stops))
    return out


def _as_start(routes: Sequence[pyvrp.Route]) -> Start:
    """PyVRP routes as :data:`Start` routes (of this or another problem with the same
    places)."""
    return [
        (
            int(route.vehicle_type()),
            [  # the first and last depot visits are the start and end; others reloads
                (a.type.name, int(a.idx)) for a in list(route.schedule())[1:-1]
            ],
        )
        for route in routes
    ]


def _solution(data: pyvrp.ProblemData, start: Start) -> pyvrp.Solution | None:
    """The warm-start routes as a PyVRP solution of ``data`` (None if PyVRP rejects them:
    the search then builds its own first plan)."""
    try:
        return pyvrp.Solution(
            data,
            [
                pyvrp.Route(data, [pyvrp.Activity(_ACTIVITY[a], i) for a, i in stops], t)
                for t, stops in start
            ],
        )
    except (RuntimeError, ValueError, IndexError):
        return None


def _search(
    model: _Model | None,
    seconds: float,
    iterations: int | None,
    seed: int,
    minimise: bool,
    guide: bool = False,
    start: Start | None = None,
) -> SearchResult:
    """One PyVRP search of ``model`` (``None``: the model this worker was forked with),
    ending ``seconds`` after it starts (building its neighbourhood and first plan
    included), or after ``iterations``. With ``start`` (routes of the model), the search
    goes on from them: neither minimising the fleet nor guided.

    With ``minimise`` and one vehicle type that has a fixed cost, the fleet is minimised
    first (:func:`_minimise_fleet`, as PyVRP's ``minimise_fleet``) and the rest of the
    time goes to the running costs on exactly that fleet, every order required: measured
    on Solomon at 10 s, this found the best-known fleet on R207 and RC201 where a search on
    the full fleet kept an extra vehicle. It runs beside a search on the full fleet with
    optional orders, and the cheaper feasible plan, fixed costs and the prizes of left-out
    orders counted, is kept. Each fleet tried builds a first plan again, so a day too big
    to try several in its share of the time is not minimised.
    """
    m = model if model is not None else _FORKED
    assert m is not None, "a forked search needs the model set before forking"
    t0 = time.perf_counter()
    end = None if iterations is not None else t0 + seconds

    def stop(share: float, until: float) -> _Until | _ForIterations:
        """Run for ``share`` of the iterations, or until ``until`` of the time."""
        if iterations is not None:
            return _ForIterations(max(1, int(iterations * share)))
        return _Until(t0 + seconds * until)

    with warnings.catch_warnings():
        # PyVRP warns when its penalties saturate; an infeasible result is handled below
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        warnings.simplefilter("ignore", ScalingWarning)
        data = m.data
        types = data.vehicle_types()
        dropped_fixed = 0
        smallest: pyvrp.Solution | None = None
        tries = seconds * _FLEET_SHARE / (_BUILD_S_PER_ORDER2 * max(1, data.num_locations) ** 2)
        minimised = (
            minimise
            and m.required is not None
            and len(types) == 1
            and types[0].fixed_cost > 0
            and (iterations is not None or tries >= _FLEET_TRIES)
        )
        neighbours = None
        if minimised and m.required is not None:
            # PyVRP's neighbours look at the places only, not the fleet: found once
            neighbours = compute_neighbours(m.required, _PARAMS.neighbourhood)
            fleet, smallest = _minimise_fleet(
                m.required, stop(_FLEET_SHARE, _FLEET_SHARE), seed, neighbours
            )
            # on exactly the smallest fleet the fixed cost decides nothing and only blurs
            # PyVRP's penalties: search on the running costs, add it back to compare.
            # Every order stays required (a search with optional orders runs ~40% fewer
            # iterations); when that fleet cannot serve them all, the other search's plan
            # is kept.
            data = m.required.replace(vehicle_types=[fleet.replace(fixed_cost=0)])
            dropped_fixed = types[0].fixed_cost
        if neighbours is None:
            neighbours = compute_neighbours(data, _PARAMS.neighbourhood)
        initial = _solution(data, start) if start and not minimised else None
        if initial is not None:
            result, _ = _run(data, stop(1.0, 1.0), seed, neighbours, initial)
        elif guide and not minimised:
            result = _guided(data, stop, seed, neighbours, end)
        else:
            share = 1.0 - _FLEET_SHARE if minimised else 1.0
            # on exactly the smallest fleet PyVRP's history, not the fitted one (Solomon's
            # R instances at 10 s, 8 of them, two runs: +0.72% and +0.90% over the
            # best-known distances with it, +2.10% and +2.35% fitted); short routes go on
            # from the plan their fleet was found with, by their own rule (:data:`_FLEET_SHORT`)
            short_fleet = minimised and _fleet_routes_short(data)
            keep = _HISTORY_AT_MOST if minimised and not short_fleet else None
            first = None
            if short_fleet and smallest is not None:
                first = _solution(data, _as_start(smallest.routes()))
            rule = _FLEET_SHORT if short_fleet else _PERTURBING
            result, _ = _run(data, stop(share, 1.0), seed, neighbours, first, keep, rule)
    routes = _as_start(result.best.routes())
    cost = float(result.cost()) + dropped_fixed * len(routes)
    return SearchResult(bool(result.is_feasible()), cost, routes, seed, minimised)


def solve_pyvrp(
    problem: Problem,
    orders: np.ndarray,
    *,
    seconds: float,
    iterations: int | None = None,
    seed: int = 0,
    workers: int = 1,
    guide: bool = False,
    minimise: bool = True,
    start: Sequence[Route] = (),
) -> tuple[list[Route] | None, dict[str, float], dict[str, Any]]:
    """Routes for ``orders`` (some may be left out when they cannot be fitted), or ``None``
    when PyVRP found no feasible plan; the seconds spent per stage; and how it searched.

    With ``workers`` > 1, that many independent searches (seeds ``seed``, ``seed + 1``, ...;
    with ``minimise``, every other one minimising the fleet first) run in parallel
    processes and the cheapest feasible plan, as scheduled, is kept. ``guide`` caps the
    routes' length after a short first search (:func:`_guided`) in the searches that do
    not minimise the fleet. With ``start`` (routes of ``problem``, say an earlier search's
    plan) every search goes on from those routes instead, with its own seed.
    """
    global _FORKED
    t0 = time.perf_counter()
    # a search still running this long after the start is stopped (a fixed effort waits)
    deadline = None if iterations is not None else t0 + seconds * (1 + OVERRUN_SHARE)
    if start:
        minimise = guide = False
    model = _model(problem, orders, with_required=minimise and workers > 1)
    warm = _start_routes(model, start) if start else None
    t_search = time.perf_counter()
    # building the model counts toward the limit, and so does starting the workers; PyVRP
    # checks its clock between iterations, and an iteration of a big day takes a while
    overrun = min(_ITERATION_SHARE * seconds, _ITERATION_S_PER_ORDER * orders.shape[0])
    pool = _POOL_START_S if workers > 1 else 0.0
    seconds = max(0.1, seconds - (t_search - t0) - pool - overrun)
    if workers <= 1:
        results = [_search(model, seconds, iterations, seed, False, guide, warm)]
    else:
        fork = pool_context().get_start_method() == "fork"
        _FORKED = model if fork else None
        try:
            # with ``minimise`` every other worker minimises the fleet first; the others guided
            minimising = [minimise and w % 2 == 1 for w in range(workers)]
            calls = [
                (None if fork else model, seconds, iterations, seed + w, m, guide and not m, warm)
                for w, m in enumerate(minimising)
            ]
            done = side_by_side(_search, calls, deadline=deadline)
            results = [r for r in done if r is not None]
        finally:
            _FORKED = None
    timings = {"model": t_search - t0, "search": time.perf_counter() - t_search}
    searches = [
        {
            "seed": r.seed,
            "fleet_minimised": r.fleet_minimised,
            "feasible": r.feasible,
            "cost": round(r.cost / _scale(problem), 2) if r.feasible else None,
        }
        for r in results
    ]
    feasible = [r for r in results if r.feasible]
    if not feasible:
        return None, timings, {"searches": searches}
    # PyVRP's costs are on each place's slowest band: the searches' plans are compared as
    # scheduled, each leg in its own band
    plans = [(r, _routes(model, r)) for r in feasible]
    best, routes = (
        plans[0] if len(plans) == 1 else min(plans, key=lambda x: plan_cost(problem, x[1], orders))
    )
    info: dict[str, Any] = {"searches": searches, "kept_seed": best.seed}
    if warm:
        info["warm_start_routes"] = len(warm)
    return routes, timings, info


def _routes(model: _Model, result: SearchResult) -> list[Route]:
    """A search's routes in the problem's terms (vehicles, orders), by vehicle."""
    free = [list(vehicles) for vehicles in model.type_vehicles]
    routes = []
    for vehicle_type, activities in result.routes:
        kinds, seq = [], []
        for activity, idx in activities:
            if activity == "DEPOT":
                kinds.append(RELOAD)
                seq.append(AT_DEPOT)
            elif activity == "CLIENT":
                kinds.append(DROPOFF)
                seq.append(int(model.client_order[idx]))
            else:
                kinds.append(PICKUP if activity == "PICKUP" else DROPOFF)
                seq.append(int(model.shipment_order[idx]))
        routes.append(Route(free[vehicle_type].pop(0), tuple(kinds), tuple(seq)))
    return sorted(routes, key=lambda r: r.vehicle)
