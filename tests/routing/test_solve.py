"""The OR-Tools solver on a tiny synthetic city: every delivery constraint, and reasons."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import VRP_DIR
from days import day_orders as _orders
from days import day_problem as _problem
from days import day_stores as _stores
from days import day_vehicles as _vehicles
from fleetroute.routing import Problem, SolveOptions, solve
from spec_checks import assert_plan_valid

FAST = SolveOptions(time_limit_s=5, solution_limit=30)


def test_capacities_windows_and_store_pickups_are_all_kept(tiny_city):
    """A mixed day: depot and store orders, windows, capacities; every SPEC identity holds."""
    orders = _orders(tiny_city, 30, store_share=0.5, window=(9, 15))
    plan = solve(
        _problem(tiny_city, orders, _vehicles(tiny_city, 4, capacity=15), _stores(tiny_city)), FAST
    )
    table = assert_plan_valid(plan)
    assert plan.summary()["assigned"] == 30
    assert (table["kind"] == "pickup").sum() == (orders["store_id"] != "").sum()


def test_orders_beyond_capacity_are_dropped_low_priority_first(tiny_city):
    """With room for only some orders, the high-priority ones are served."""
    orders = _orders(tiny_city, 12)
    orders["demand"] = 1
    orders["priority"] = [5] * 4 + [0] * 8
    plan = solve(_problem(tiny_city, orders, _vehicles(tiny_city, 1, capacity=6)), FAST)
    assert_plan_valid(plan)
    assert plan.inputs["backend"] == "pyvrp"  # optional orders with prizes: PyVRP plans it
    served = set(plan.routes_table().query("kind == 'dropoff'")["order_id"])
    assert len(served) == 6 and {"o0", "o1", "o2", "o3"} <= served
    reasons = plan.unassigned_table()["reason"]
    assert len(reasons) == 6 and reasons.str.contains("capacity").all()


def test_max_stops_limits_drop_offs_per_route(tiny_city):
    orders = _orders(tiny_city, 10)
    plan = solve(_problem(tiny_city, orders, _vehicles(tiny_city, 3, max_stops=4)), FAST)
    table = assert_plan_valid(plan)
    per_vehicle = table[table["kind"] == "dropoff"].groupby("vehicle_id").size()
    assert (per_vehicle <= 4).all() and per_vehicle.sum() == 10


def test_end_location_and_shift_are_respected(tiny_city):
    """A vehicle with an end location finishes there, inside its shift."""
    orders = _orders(tiny_city, 8)
    veh = _vehicles(tiny_city, 1, end_lat=tiny_city.lat[200], end_lon=tiny_city.lon[200])
    veh["shift_start"], veh["shift_end"] = "10:00", "13:00"
    plan = solve(_problem(tiny_city, orders, veh), FAST)
    table = assert_plan_valid(plan)
    end = table.iloc[-1]
    assert end["kind"] == "end" and (end["lat"], end["lon"]) == (
        tiny_city.lat[200],
        tiny_city.lon[200],
    )
    assert (
        table.iloc[0]["departure"] >= "2026-03-02T10:00:00"
        and end["arrival"] <= "2026-03-02T13:00:00"
    )


def test_fixed_cost_makes_the_plan_use_fewer_vehicles(tiny_city):
    orders = _orders(tiny_city, 16)
    free = solve(
        _problem(tiny_city, orders, _vehicles(tiny_city, 4, cost_per_km=1.0, cost_per_hour=0)), FAST
    )
    dear = solve(
        _problem(
            tiny_city,
            orders,
            _vehicles(tiny_city, 4, cost_per_km=1.0, cost_per_hour=0, fixed_cost=1000),
        ),
        FAST,
    )
    assert_plan_valid(dear)
    assert len(dear.routes) == 1 <= len(free.routes)


def test_objective_adds_fixed_distance_and_hourly_costs(tiny_city):
    orders = _orders(tiny_city, 6)
    plan = solve(
        _problem(
            tiny_city,
            orders,
            _vehicles(tiny_city, 1, fixed_cost=7, cost_per_km=0.5, cost_per_hour=20),
        ),
        FAST,
    )
    s = plan.summary()
    expected = 7 + 0.5 * s["total_distance_m"] / 1000 + 20 * s["total_duration_s"] / 3600
    assert s["objective"] == pytest.approx(expected, abs=1e-3)


def test_screening_gives_plain_reasons_and_plans_the_rest(tiny_city):
    """Too big, too early a window, a closed store: each gets its reason; others are planned."""
    orders = _orders(tiny_city, 6, store_share=0.0)
    orders["store_id"] = ["", "", "", "S1", "", ""]
    orders["demand"] = [1, 50, 1, 1, 1, 1]
    orders["window_start"] = ["", "", "07:00", "", "", ""]
    orders["window_end"] = ["", "", "07:30", "", "", ""]
    stores = _stores(tiny_city)
    stores.loc[0, ["open", "close"]] = ["05:00", "07:00"]
    plan = solve(_problem(tiny_city, orders, _vehicles(tiny_city, 2, capacity=10), stores), FAST)
    assert_plan_valid(plan)
    reasons = dict(plan.unassigned_table().itertuples(index=False))
    assert set(reasons) == {"o1", "o2", "o3"}
    assert "largest vehicle holds 10" in reasons["o1"]
    assert "window ends at 07:30" in reasons["o2"]
    assert "store S1 closes at 07:00" in reasons["o3"]


def _read_solomon(path, n=None) -> Problem:
    from datetime import datetime

    lines = path.read_text().splitlines()
    cap = int(lines[4].split()[1])
    rows = np.array([[float(x) for x in line.split()] for line in lines[9:] if line.strip()])
    if n is not None:
        rows = rows[: n + 1]
    xy = rows[:, 1:3]
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    travel = np.ceil(d * 10).astype(int)  # tenths, ceiled: feasible on exact times
    k = len(rows) - 1
    v = 25
    return Problem(
        origin=datetime(2026, 1, 1),
        loc_lat=xy[:, 1],
        loc_lon=xy[:, 0],
        travel_s=travel,
        distance_m=np.round(d * 10).astype(int),
        order_id=[str(i) for i in range(1, k + 1)],
        order_loc=np.arange(1, k + 1),
        order_store=np.full(k, -1),
        demand=rows[1:, 3],
        items=np.ones(k),
        window_start_s=rows[1:, 4] * 10,
        window_end_s=rows[1:, 5] * 10,
        dropoff_s=rows[1:, 6] * 10,
        shop_s=np.zeros(k),
        priority=np.zeros(k),
        store_id=[],
        store_loc=[],
        store_open_s=[],
        store_close_s=[],
        vehicle_id=[f"v{i}" for i in range(v)],
        start_loc=np.zeros(v),
        end_loc=np.zeros(v),
        capacity=np.full(v, cap),
        shift_start_s=np.full(v, rows[0, 4] * 10),
        shift_end_s=np.full(v, rows[0, 5] * 10),
        fixed_cost=np.zeros(v),
        cost_per_hour=np.zeros(v),
        cost_per_km=np.full(v, 1.0),
        max_stops=np.full(v, 1000),
    )


@pytest.mark.parametrize("name", ["R101", "RC101"])
def test_tight_window_solomon_days_are_solved_completely(name):
    """Where path-cheapest-arc finds nothing, the default strategy serves every customer."""
    problem = _read_solomon(VRP_DIR / "solomon" / f"{name}.txt")
    plan = solve(problem, SolveOptions(time_limit_s=30, solution_limit=1))
    assert_plan_valid(plan)
    assert plan.summary()["assigned"] == 100
