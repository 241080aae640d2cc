"""Inserting one order into a plan, and the reasons for orders no route can take."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PLAN_DATE
from days import day_orders, day_problem, day_stores, day_vehicles
from fleetroute import insert_order
from fleetroute import plan as make_plan
from fleetroute.routing import Plan, Problem, SolveOptions, solve
from fleetroute.routing.insert import _tried, cheapest_insertion
from spec_checks import assert_plan_valid

FAST = SolveOptions(time_limit_s=5, solution_limit=30, workers=1)


def _without(plan: Plan, order: int) -> list:
    """The plan's routes with one order taken out (its pickup too)."""
    out = []
    for r in plan.routes:
        keep = [(k, o) for k, o in zip(r.kinds, r.orders, strict=True) if o != order]
        if keep:
            kinds, orders = zip(*keep, strict=True)
            out.append(type(r)(r.vehicle, kinds, orders))
    return out


def test_a_removed_order_goes_back_feasibly_and_other_routes_stay(tiny_city):
    orders = day_orders(tiny_city, 24, store_share=0.5, window=(9, 15))
    problem = day_problem(
        tiny_city, orders, day_vehicles(tiny_city, 3, capacity=20), day_stores(tiny_city)
    )
    plan = solve(problem, FAST)
    assert not plan.unassigned
    for order in (0, 5, 11):  # a depot order and store orders
        routes = _without(plan, order)
        found = cheapest_insertion(problem, routes, order)
        assert found is not None
        assert found.route.orders.count(order) == (2 if problem.order_store[order] >= 0 else 1)
        if problem.order_store[order] >= 0:
            assert found.route.kinds[found.route.orders.index(order)] == "pickup"
        others = [r for r in routes if r.vehicle != found.route.vehicle]
        new = Plan(problem, tuple(sorted([*others, found.route], key=lambda r: r.vehicle)), {})
        table = assert_plan_valid(new)
        assert (table["late_s"] == 0).all()
        # every other stop keeps its relative order on the changed route
        old = next((r for r in routes if r.vehicle == found.route.vehicle), None)
        rest = [(k, o) for k, o in zip(found.route.kinds, found.route.orders, strict=True)]
        rest = [x for x in rest if x[1] != order]
        assert rest == (list(zip(old.kinds, old.orders, strict=True)) if old else [])
        assert found.added_cost >= 0


def test_the_order_left_out_for_capacity_is_told_so(tiny_city):
    orders = day_orders(tiny_city, 3)
    orders["demand"] = [6, 6, 6]
    vehicles = day_vehicles(tiny_city, 2, capacity=10)  # 18 units fit the fleet, not the vans
    plan = solve(day_problem(tiny_city, orders, vehicles), FAST)
    assert len(plan.unassigned) == 1
    (reason,) = plan.unassigned.values()
    assert "units above its capacity" in reason


def test_the_order_left_out_for_time_is_told_which_window_breaks(tiny_city):
    orders = day_orders(tiny_city, 2)
    orders["window_start"] = "09:00"
    orders["window_end"] = "09:01"
    orders["service_s"] = 1800  # two half-hour drop-offs cannot both start in one minute
    vehicles = day_vehicles(tiny_city, 1)
    plan = solve(day_problem(tiny_city, orders, vehicles), FAST)
    assert len(plan.unassigned) == 1
    (reason,) = plan.unassigned.values()
    assert "late" in reason and "vehicle v0" in reason


def test_insert_order_adds_one_order_and_keeps_the_rest(tiny_city):
    orders = day_orders(tiny_city, 20, window=(9, 15))
    vehicles = day_vehicles(tiny_city, 3, capacity=30)
    plan = make_plan(
        orders,
        vehicles,
        road_map=tiny_city,
        plan_date=PLAN_DATE,
        time_limit_s=5,
        solution_limit=20,
        workers=1,
    )
    node = 123
    new = insert_order(
        plan,
        {
            "order_id": "late-call",
            "lat": tiny_city.lat[node],
            "lon": tiny_city.lon[node],
            "window_start": "10:00",
            "window_end": "16:00",
        },
        road_map=tiny_city,
    )
    table = assert_plan_valid(new)
    assert "late-call" in set(table["order_id"])
    assert new.summary()["assigned"] == plan.summary()["assigned"] + 1
    # other vehicles' stops are untouched
    changed = table.loc[table["order_id"] == "late-call", "vehicle_id"].iloc[0]
    before = plan.routes_table()
    for vid in set(before["vehicle_id"]) - {changed}:
        pd.testing.assert_frame_equal(
            before[before["vehicle_id"] == vid].reset_index(drop=True),
            table[table["vehicle_id"] == vid].reset_index(drop=True),
        )
    # the new order's legs match a full matrix computed for it
    p = new.problem
    loc = int(p.order_loc[-1])
    nodes, _ = tiny_city.snap(p.loc_lat, p.loc_lon)
    full, _ = tiny_city.matrix(nodes)
    np.testing.assert_array_equal(p.travel_s[loc], np.rint(full[loc]).astype(int))
    np.testing.assert_array_equal(p.travel_s[:, loc], np.rint(full[:, loc]).astype(int))


def test_insert_order_that_cannot_fit_is_unassigned_with_a_reason(tiny_city):
    orders = day_orders(tiny_city, 5)
    vehicles = day_vehicles(tiny_city, 1, capacity=10)
    orders["demand"] = 2
    plan = make_plan(
        orders, vehicles, road_map=tiny_city, plan_date=PLAN_DATE, solution_limit=10, workers=1
    )
    new = insert_order(
        plan,
        {"order_id": "big", "lat": tiny_city.lat[7], "lon": tiny_city.lon[7], "demand": 10},
        road_map=tiny_city,
    )
    assert new.summary()["assigned"] == 5
    reason = new.unassigned_table().set_index("order_id").loc["big", "reason"]
    assert "capacity" in reason


def test_place_or_explain_places_what_fits_and_explains_what_does_not(tiny_city):
    """The search that names why an order stayed out also puts it in when it fits: solve
    places orders its solver left out but the real schedule can take."""
    from fleetroute.routing.insert import place_or_explain

    orders = day_orders(tiny_city, 12, window=(9, 15))
    problem = day_problem(tiny_city, orders, day_vehicles(tiny_city, 2, capacity=40))
    plan = solve(problem, FAST)
    routes = _without(plan, 3)
    found, reason = place_or_explain(problem, routes, 3)
    assert found is not None and reason == "" and 3 in found.route.orders
    # the same order with a window no vehicle can reach: not placed, and told why
    late = problem.replace(
        window_start_s=np.where(np.arange(12) == 3, 7 * 3600, problem.window_start_s),
        window_end_s=np.where(np.arange(12) == 3, 7 * 3600, problem.window_end_s),
    )
    found, reason = place_or_explain(late, routes, 3)
    assert found is None and "late" in reason


def _random_day(seed: int, n: int, bands: bool) -> Problem:
    """``n`` orders (some shopped, some with soft windows) for 3 small vans, on made-up
    distances; with ``bands``, three hour bands of which the first is the fastest."""
    rng = np.random.default_rng(seed)
    locs = n + 3
    xy = rng.uniform(0, 8000, (locs, 2))
    dist = np.rint(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))).astype(np.int64)
    slow = np.stack([dist // 8, dist // 6, dist // 5]).astype(np.int32)
    ws = rng.integers(8 * 3600, 15 * 3600, n)
    soft = rng.random(n) < 0.3
    return Problem(
        origin=datetime(2026, 3, 2),
        loc_lat=xy[:, 0],
        loc_lon=xy[:, 1],
        travel_s=slow.min(axis=0) if bands else dist // 8,
        distance_m=dist,
        band_start_s=[0, 10 * 3600, 13 * 3600] if bands else [],
        band_travel_s=slow if bands else None,
        order_id=[f"o{i}" for i in range(n)],
        order_loc=np.arange(n) + 3,
        order_store=np.where(rng.random(n) < 0.2, rng.integers(0, 2, n), -1),
        demand=rng.integers(1, 4, n),
        items=rng.integers(1, 9, n),
        window_start_s=ws,
        window_end_s=ws + rng.integers(900, 3 * 3600, n),
        dropoff_s=rng.integers(60, 600, n),
        shop_s=rng.integers(60, 600, n),
        priority=np.zeros(n),
        late_cost_per_h=np.where(soft, 20.0, 0.0),
        max_late_s=np.where(soft, 900, 0),
        store_id=["S1", "S2"],
        store_loc=[1, 2],
        store_open_s=[7 * 3600, 9 * 3600],
        store_close_s=[21 * 3600] * 2,
        store_visit_s=[300, 120],
        vehicle_id=["v1", "v2", "v3"],
        start_loc=[0, 0, 0],
        end_loc=[0, 0, 0],
        capacity=[8, 8, 12],
        shift_start_s=[7 * 3600, 9 * 3600, 7 * 3600],
        shift_end_s=[17 * 3600, 20 * 3600, 19 * 3600],
        fixed_cost=[10.0, 10.0, 15.0],
        cost_per_hour=[20.0] * 3,
        cost_per_km=[0.3] * 3,
        max_stops=[10**6] * 3,
    )


def _built(p: Problem, n: int, *, bounded: bool = False) -> list:
    """Routes of the first ``n`` orders of ``p``, built one order at a time at its
    cheapest feasible place (every position tried, or only the bounds' ones)."""
    routes: list = []
    for order in range(n):
        found, _ = _tried(p, routes, order, -1, {}, bounded=bounded)
        if found is not None:
            routes = [r for r in routes if r.vehicle != found.route.vehicle] + [found.route]
    return routes


@given(
    seed=st.integers(min_value=0, max_value=100_000),
    n=st.integers(min_value=4, max_value=30),
    bands=st.booleans(),
)
@settings(max_examples=80, deadline=None)
def test_the_bounds_never_rule_out_the_cheapest_insertion(seed, n, bands):
    # a booking (insert_order, route slots) schedules only the positions that the bounds
    # leave a chance: it must find the same cheapest insertion as scheduling every one
    p = _random_day(seed, n, bands)
    routes = _built(p, n - 4)
    for order in range(n - 4, n):
        fast, _ = _tried(p, routes, order, -1, {}, bounded=True)
        full, _ = _tried(p, routes, order, -1, {}, bounded=False)
        assert (fast is None) == (full is None)
        if full is not None and fast is not None:
            assert fast.added_cost == pytest.approx(full.added_cost)
            assert fast.route == full.route


@given(
    seed=st.integers(min_value=0, max_value=100_000),
    n=st.integers(min_value=4, max_value=30),
    bands=st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_the_explanation_tries_every_position_when_there_are_few(seed, n, bands):
    # an order no route can take is explained from the candidates whose drop-off looks
    # least late; below the cap those are all of them: the same least-broken place
    from fleetroute.routing.insert import _explained

    p = _random_day(seed, n, bands)
    routes = _built(p, n - 1)
    last = n - 1  # its window closed before any van can reach it
    p = p.replace(
        window_start_s=np.where(np.arange(n) == last, 0, p.window_start_s),
        window_end_s=np.where(np.arange(n) == last, 60, p.window_end_s),
    )
    full, closest = _tried(p, routes, last, -1, {}, bounded=False)
    few, near = _explained(p, routes, last, -1, {}, 10**6)
    assert full is None and few is None
    assert closest is not None and near is not None
    assert near[0].size == closest[0].size


def test_an_order_that_fits_nowhere_is_explained_from_a_few_candidates(monkeypatch):
    """Naming what keeps an order out schedules at most ``_EXPLAIN_TRIES`` candidates (a
    5,000-order day's every position was 7 s per order), and still names its lateness."""
    from fleetroute.routing import insert
    from fleetroute.routing.schedule import schedule

    p = _random_day(7, 30, bands=True)
    routes = _built(p, 29, bounded=True)
    p = p.replace(
        window_start_s=np.where(np.arange(30) == 29, 0, p.window_start_s),
        window_end_s=np.where(np.arange(30) == 29, 60, p.window_end_s),
    )
    known = {r: schedule(p, r) for r in routes}
    calls = []
    monkeypatch.setattr(insert, "_EXPLAIN_TRIES", 5)
    monkeypatch.setattr(insert, "schedule", lambda *a: calls.append(1) or schedule(*a))
    found, reason = insert.place_or_explain(p, routes, 29, known)
    assert found is None and "make it" in reason and "late" in reason
    # the idle vans' empty routes are scheduled once per pass, and five candidates
    assert len(calls) <= 5 + 2 * p.n_vehicles


@given(seed=st.integers(min_value=0, max_value=100_000), bands=st.booleans())
@settings(max_examples=30, deadline=None)
def test_what_is_learnt_of_the_routes_carries_over_to_the_next_order(seed, bands):
    # solve places its left-out orders one after another, keeping what each search
    # learnt of the routes it did not change: the same places and reasons as afresh
    from fleetroute.routing.insert import place_or_explain

    p = _random_day(seed, 30, bands)
    kept, fresh = _built(p, 20), _built(p, 20)
    facts: dict = {}
    for order in range(20, 30):
        a = place_or_explain(p, kept, order, facts=facts)
        b = place_or_explain(p, fresh, order)
        assert (a[0] is None) == (b[0] is None) and a[1] == b[1]
        if a[0] is not None and b[0] is not None:
            assert a[0].route == b[0].route
            kept = [r for r in kept if r.vehicle != a[0].route.vehicle] + [a[0].route]
            fresh = [r for r in fresh if r.vehicle != b[0].route.vehicle] + [b[0].route]
