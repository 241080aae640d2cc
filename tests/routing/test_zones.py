"""Big days in zones: sectors of equal size, the fleet shared by demand, plans joined."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PLAN_DATE
from days import day_orders, day_stores, day_vehicles
from fleetroute import build_problem, plan
from fleetroute.routing import SolveOptions
from fleetroute.routing.pyvrp_solver import (
    ZONE_VISITS_AT_MOST,
    build_seconds,
    zones_to_build,
    zones_why,
)
from fleetroute.routing.schedule import AT_DEPOT, DROPOFF, PICKUP, RELOAD, Route, plan_cost
from fleetroute.routing.solve import _search
from fleetroute.routing.zones import (
    POLISH_LEAVES,
    POLISH_LEAVES_AT_LEAST,
    POLISHED_SECTOR_SHARE,
    _leaves_s,
    _lift,
    _lower,
    polish_in_zones,
    sectors,
    share_fleet,
    solve_in_zones,
)
from spec_checks import assert_plan_valid


def _problem(city, n_orders, n_vehicles, seed=0):
    problem, _ = build_problem(
        day_orders(city, n_orders, seed=seed, store_share=0.3),
        day_vehicles(city, n_vehicles, capacity=40),
        road_map=city,
        stores=day_stores(city),
        plan_date=PLAN_DATE,
    )
    return problem


@settings(max_examples=25, deadline=None)
@given(
    n_orders=st.integers(2, 60),
    n_vehicles=st.integers(1, 12),
    k=st.integers(1, 12),
    seed=st.integers(0, 99),
)
def test_sectors_split_every_order_once_and_the_fleet_by_demand(
    tiny_city, n_orders, n_vehicles, k, seed
):
    p = _problem(tiny_city, n_orders, n_vehicles, seed)
    k = min(k, n_orders, n_vehicles)
    orders = np.arange(p.n_orders)
    zones = sectors(p, orders, k)
    assert len(zones) == k
    np.testing.assert_array_equal(np.sort(np.concatenate(zones)), orders)
    assert max(len(z) for z in zones) - min(len(z) for z in zones) <= 1
    fleets = share_fleet(p, zones)
    used = np.concatenate(fleets)
    assert len(used) == n_vehicles and len(set(used.tolist())) == n_vehicles
    assert all(len(f) >= 1 for f in fleets)
    demand = np.array([p.demand[z].sum() for z in zones], dtype=float)
    fair = 1 + (n_vehicles - k) * demand / demand.sum()
    assert all(abs(len(f) - share) < 1 for f, share in zip(fleets, fair, strict=True))


@st.composite
def routes_and_a_zone(draw):
    """Routes of 6 vehicles over 30 orders (some reloads), and a zone's vehicles and orders."""
    n_orders, n_vehicles = 30, 6
    order = draw(st.permutations(range(n_orders)))
    owner = draw(st.lists(st.integers(0, n_vehicles - 1), min_size=n_orders, max_size=n_orders))
    routes = []
    for v in range(n_vehicles):
        mine = [o for o, w in zip(order, owner, strict=True) if w == v]
        if not mine:
            continue
        stops = [(DROPOFF, o) for o in mine]
        if draw(st.booleans()) and len(stops) > 1:
            stops.insert(draw(st.integers(1, len(stops) - 1)), (RELOAD, AT_DEPOT))
        if draw(st.booleans()):  # its first order shopped on the way
            stops.insert(0, (PICKUP, stops[0][1]))
        routes.append(Route(v, tuple(k for k, _ in stops), tuple(o for _, o in stops)))
    vehicles = np.array(sorted(draw(st.sets(st.integers(0, n_vehicles - 1), min_size=1))))
    orders = np.array(sorted(draw(st.sets(st.integers(0, n_orders - 1), min_size=1))))
    return tuple(routes), vehicles, orders


@settings(max_examples=60, deadline=None)
@given(routes_and_a_zone())
def test_a_warm_start_reaches_each_zone_as_its_own_part_of_the_routes(case):
    """A zone's search starts from the routes of its vehicles cut to its orders, in its own
    indices; lifted back, they are exactly those parts, stops in the same order."""
    routes, vehicles, orders = case
    lowered = _lower(routes, vehicles, orders)
    assert all(0 <= r.vehicle < len(vehicles) for r in lowered)
    assert all(0 <= o < len(orders) for r in lowered for o in r.orders if o >= 0)
    expected = []
    for r in routes:
        kept = [(k, o) for k, o in zip(r.kinds, r.orders, strict=True) if o < 0 or o in orders]
        if r.vehicle in vehicles and any(o >= 0 for _, o in kept):
            expected.append(Route(r.vehicle, tuple(k for k, _ in kept), tuple(o for _, o in kept)))
    assert _lift(list(lowered), vehicles, orders) == expected


@pytest.mark.parametrize("shift", [0.5, 0.0])
def test_a_polish_serves_the_orders_left_out_and_never_costs_more(tiny_city, shift):
    """The joined routes searched again in zones across the sectors' borders, each zone
    from its own routes: every order served once, the one the routes left out too, and
    no group's plan costlier than it was."""
    p = _problem(tiny_city, 48, 12, seed=3)
    orders = np.arange(p.n_orders)
    fast = SolveOptions(time_limit_s=30, solution_limit=5, workers=1, backend="pyvrp")
    routes, _, _ = solve_in_zones(p, orders, fast, 1, _search, 4)
    assert routes is not None
    out = routes[0].orders
    routes[0] = Route(  # one order taken out
        routes[0].vehicle,
        tuple(k for k, o in zip(routes[0].kinds, out, strict=True) if o != out[-1]),
        tuple(o for o in out if o != out[-1]),
    )
    polished = polish_in_zones(p, orders, routes, fast, 1, _search, 4, 30.0, shift)
    visits = [o for r in polished for o in r.orders if o >= 0]
    dropoffs = [o for r in polished for k, o in zip(r.kinds, r.orders, strict=True) if k == DROPOFF]
    assert sorted(dropoffs) == orders.tolist()
    assert len(visits) == len(dropoffs) + int(p.has_store.sum())
    assert plan_cost(p, polished, orders) < plan_cost(p, routes, orders)


def test_a_zoned_day_is_one_valid_plan_with_every_order(tiny_city):
    """A day cut into four sectors (zone_orders=6 for 24 orders): one valid plan, every
    order served, and no route crosses from one sector into another."""
    kwargs = dict(
        road_map=tiny_city, stores=day_stores(tiny_city), plan_date=PLAN_DATE,
        solution_limit=10, backend="ortools", workers=2,
    )  # fmt: skip
    orders = day_orders(tiny_city, 24, seed=4, store_share=0.3)
    vehicles = day_vehicles(tiny_city, 8, capacity=40)
    zoned = plan(orders, vehicles, zone_orders=6, **kwargs)
    table = assert_plan_valid(zoned)
    assert zoned.inputs["zones"] == 4 and not zoned.unassigned
    p = zoned.problem
    zone_of = {
        int(o): z for z, part in enumerate(sectors(p, np.arange(p.n_orders), 4)) for o in part
    }
    for route in zoned.routes:
        assert len({zone_of[o] for o in route.orders if o >= 0}) == 1
    whole = plan(orders, vehicles, zone_orders=None, **kwargs)
    assert "zones" not in whole.inputs
    assert set(table["order_id"]) == set(assert_plan_valid(whole)["order_id"])


def test_a_big_pyvrp_day_is_searched_in_zones_of_a_few_hundred_places(tiny_city):
    """An ordinary day (400 orders, a third shopped: fewer places than a zone holds) is
    searched whole; a big store day in zones of at most ``ZONE_VISITS_AT_MOST`` places, a
    round of zones per core, and a big day without pickups whole; more zones when even
    those could not build their first plan in a small share of the time; a locked day
    whole."""
    p = _problem(tiny_city, 60, 500)
    many = p.with_orders(np.resize(np.arange(p.n_orders), 5000))
    orders = np.arange(many.n_orders)
    shopped = int(many.has_store[orders[:2000]].sum())
    assert zones_to_build(many, orders[:400], 60.0, 2) == 1
    k = zones_to_build(many, orders[:2000], 60.0, 2)
    assert k % 2 == 0 and (2000 + shopped) / k <= ZONE_VISITS_AT_MOST
    assert (2000 + shopped) / (k - 2) > ZONE_VISITS_AT_MOST  # the fewest such
    assert "places to visit" in zones_why(many, orders[:2000], 60.0, k)
    no_stores = many.replace(order_store=np.full(5000, -1))  # CVRPLIB X planned worse in zones
    assert zones_to_build(no_stores, orders[:2000], 60.0, 2) == 1
    k = zones_to_build(many, orders, 5.0, 2)
    # each zone's build then fits its share of the time, one round of zones per core
    assert build_seconds(many, orders[: -(-5000 // k)]) <= 0.3 * 5.0 * POLISHED_SECTOR_SHARE / -(
        -k // 2
    )
    locked = many.replace(order_vehicle=np.r_[0, np.full(4999, -1)], order_rank=np.full(5000, -1))
    assert zones_to_build(locked, orders, 5.0, 2) == 1


def test_a_pyvrp_day_in_zones_is_polished_in_the_time_the_sectors_leave(tiny_city):
    """PyVRP's sectors take half the time; the rest polishes their joined routes (each
    zone's search starting from its routes), and the plan still serves every order once;
    not when the polish's passes would be too short. OR-Tools' zones are not polished
    (see the test above: no route crosses sectors)."""
    p = _problem(tiny_city, 40, 10, seed=5)
    orders = np.arange(p.n_orders)
    opts = SolveOptions(time_limit_s=10, workers=1, backend="pyvrp")
    routes, backend, timings = solve_in_zones(p, orders, opts, 1, _search, 2, polish=True)
    assert backend == "pyvrp" and routes is not None
    assert timings["polish"] > 0
    dropoffs = [o for r in routes for k, o in zip(r.kinds, r.orders, strict=True) if k == DROPOFF]
    assert sorted(dropoffs) == orders.tolist()
    # at 4 s a pass would have under POLISH_AT_LEAST_S: the sectors take the time instead
    short = dataclasses.replace(opts, time_limit_s=4)
    routes, _, timings = solve_in_zones(p, orders, short, 1, _search, 2, polish=True)
    assert routes is not None and "polish" not in timings


@settings(max_examples=50, deadline=None)
@given(
    n_orders=st.integers(1, 400),
    n_routes=st.integers(1, 60),
    routed=st.floats(0.0, 1.0),
    limit=st.floats(1.0, 600.0),
)
def test_a_polish_leaves_more_time_the_more_orders_are_left_out(n_orders, n_routes, routed, limit):
    """What a polish leaves for the orders still left out grows with them, from 1% of the
    limit (nothing left out) to at most 5%; an order's pickup and drop-off count once."""
    orders = np.arange(n_orders)
    cut = int(routed * n_orders)

    def leaves(inside, stops=(PICKUP, DROPOFF)):
        routes = [
            Route(v, stops * len(part), tuple(np.repeat(part, len(stops)).tolist()))
            for v, part in enumerate(np.array_split(inside, n_routes))
        ]
        return _leaves_s(orders, routes, limit)

    fewer_out, more_out = leaves(orders[:cut]), leaves(orders[: cut // 2])
    assert limit * POLISH_LEAVES_AT_LEAST <= fewer_out <= more_out <= limit * POLISH_LEAVES
    assert leaves(orders) == pytest.approx(limit * POLISH_LEAVES_AT_LEAST)
    assert leaves(orders[:cut], stops=(DROPOFF,)) == fewer_out
