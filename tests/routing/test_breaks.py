"""Drivers' breaks: planned inside their window, shown in routes.csv, audited."""

from __future__ import annotations

from datetime import datetime

import pytest

from conftest import PLAN_DATE
from days import day_orders, day_stores, day_vehicles
from fleetroute import InputError, check_routes, plan
from spec_checks import assert_plan_valid


def _plan(city, vehicles):
    """A plan of 18 orders (some from stores, windows 09-15) and the orders it serves."""
    orders = day_orders(city, 18, store_share=0.3, window=(9, 15))
    made = plan(
        orders,
        vehicles,
        road_map=city,
        stores=day_stores(city),
        plan_date=PLAN_DATE,
        solution_limit=20,
        workers=1,
    )
    return made, orders


def _seconds(text: str) -> float:
    return (
        datetime.fromisoformat(text) - datetime.fromisoformat(PLAN_DATE.isoformat())
    ).total_seconds()


def test_every_used_vehicle_takes_its_break_inside_the_window(tiny_city):
    vehicles = day_vehicles(  # one van for windows from 09:00 to 15:00: it works at noon
        tiny_city, 1, capacity=100, break_start="12:00", break_end="13:00", break_s=1800
    )
    result, _ = _plan(tiny_city, vehicles)
    table = assert_plan_valid(result)
    # PyVRP has no breaks: the strong search plans the day without them and OR-Tools makes
    # that plan obey them, beside OR-Tools alone; the better plan is kept
    search = result.inputs["search"]
    assert set(search["portfolio"]) == {"pyvrp+ortools", "ortools"}
    kept = search["portfolio"][result.inputs["backend"]]
    assert all(
        kept["left_out_weight"] <= o["left_out_weight"] for o in search["portfolio"].values()
    )
    assert not result.unassigned
    taken = 0
    for vid, rows in table.groupby("vehicle_id"):
        breaks = rows[rows["kind"] == "break"]
        start, end = _seconds(rows["departure"].iloc[0]), _seconds(rows["arrival"].iloc[-1])
        if end <= 13 * 3600 or start >= 12.5 * 3600:
            assert len(breaks) <= 1  # the break may fall before the start or after the end
            continue
        assert len(breaks) == 1, f"{vid} works through the break window without a break"
        taken += 1
        b = breaks.iloc[0]
        begin = _seconds(b["arrival"]) + b["wait_s"]
        assert 12 * 3600 <= begin <= 13 * 3600
        assert b["service_s"] == 1800 and b["order_id"] == ""
        # the load is unchanged across the break
        before = rows.iloc[rows.index.get_loc(b.name) - 1]
        assert b["load"] == before["load"]
    assert taken, "the test needs a route that spans the break window"


def test_a_route_without_its_break_is_reported(tiny_city):
    vehicles = day_vehicles(  # one van through the whole day: it must break
        tiny_city, 1, capacity=100, break_start="12:00", break_end="13:00", break_s=1800
    )
    made, orders = _plan(tiny_city, vehicles)
    routes = made.routes_table()
    routes = routes[routes["kind"] != "break"]
    audited, found = check_routes(
        routes, orders, vehicles, road_map=tiny_city, stores=day_stores(tiny_city),
        plan_date=PLAN_DATE,
    )  # fmt: skip
    missing = set(found.loc[found["violation"] == "break_missing", "vehicle_id"])
    table = audited.routes_table()
    spanning = set()
    for vid, rows in table.groupby("vehicle_id"):
        start, end = _seconds(rows["departure"].iloc[0]), _seconds(rows["arrival"].iloc[-1])
        if not (start >= 12.5 * 3600 or end <= 13 * 3600):
            spanning.add(vid)
    assert spanning, "the test needs a route through the break window"
    assert missing == spanning
    assert "12:00" in found.loc[found["violation"] == "break_missing", "detail"].iloc[0]


def test_a_break_outside_the_shift_names_the_cell(tiny_city):
    vehicles = day_vehicles(tiny_city, 2, break_start="07:00", break_end="09:00", break_s=900)
    with pytest.raises(InputError, match="row 2, column 'break_start'.*inside the shift"):
        _plan(tiny_city, vehicles)
