"""Dispatch during the day: locked orders and sequences, re-planning from where vans are."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import PLAN_DATE
from days import day_orders, day_stores, day_vehicles
from fleetroute import InputError, plan, replan
from spec_checks import assert_plan_valid


def _day(city, n=16, **kw):
    return plan(
        day_orders(city, n, store_share=0.4, window=(9, 14)),
        day_vehicles(city, 3, capacity=25),
        road_map=city,
        stores=day_stores(city),
        plan_date=PLAN_DATE,
        solution_limit=20,
        workers=1,
        **kw,
    )


def test_locked_orders_ride_their_vehicle_in_the_locked_sequence(tiny_city):
    locks = pd.DataFrame(
        {"vehicle_id": ["v2", "v2", "v2", "v0"], "order_id": ["o3", "o1", "o7", "o5"]}
    )
    locks["seq"] = [1, 2, 3, None]
    result = _day(tiny_city, locks=locks)
    table = assert_plan_valid(result)
    drops = table[table["kind"] == "dropoff"].set_index("order_id")
    assert (drops.loc[["o3", "o1", "o7"], "vehicle_id"] == "v2").all()
    assert drops.loc["o5", "vehicle_id"] == "v0"
    seq = drops.loc[["o3", "o1", "o7"], "seq"].tolist()
    assert seq == sorted(seq)
    # PyVRP has no locked sequences: the strong search plans the day without the locks and
    # OR-Tools makes that plan obey them, beside OR-Tools alone; the better plan is kept
    search = result.inputs["search"]
    assert set(search["portfolio"]) == {"pyvrp+ortools", "ortools"}
    kept = search["portfolio"][result.inputs["backend"]]
    assert all(
        kept["left_out_weight"] <= o["left_out_weight"] for o in search["portfolio"].values()
    )


def test_bad_locks_name_the_row(tiny_city):
    locks = pd.DataFrame({"vehicle_id": ["v0", "nope"], "order_id": ["o1", "o2"]})
    with pytest.raises(InputError, match="row 3, column 'vehicle_id'"):
        _day(tiny_city, locks=locks)


def test_replan_mid_day_keeps_what_is_done_and_carried(tiny_city):
    first = _day(tiny_city)
    table = first.routes_table()
    stops = table[table["kind"].isin(["pickup", "dropoff"])]
    # re-plan just after the latest pickup of the first half of the day: orders are on board
    pickups = stops[stops["kind"] == "pickup"]["departure"].sort_values()
    now = pd.Timestamp(pickups.iloc[len(pickups) // 2])
    second = replan(
        first, now=now.to_pydatetime(), road_map=tiny_city, solution_limit=20, workers=1
    )
    after = assert_plan_valid(second)
    # orders on board are locked to their vehicle, which PyVRP expresses
    assert second.inputs["backend"] == "pyvrp"
    done = set(
        stops.loc[
            (stops["kind"] == "dropoff") & (stops["departure"] <= str(now.isoformat())), "order_id"
        ]
    )
    assert done, "the test needs some stops done by now"
    # delivered orders are gone; every other order is still planned or explained
    assert not done & set(second.problem.order_id)
    assert set(second.problem.order_id) == set(first.problem.order_id) - done
    # nothing happens before now
    starts = after[after["kind"] == "start"]
    assert (pd.to_datetime(starts["departure"]) >= now).all()
    # an order picked up but not delivered is dropped off by the vehicle carrying it,
    # without a second pickup
    picked = stops[(stops["kind"] == "pickup") & (stops["departure"] <= str(now.isoformat()))]
    carried = picked[~picked["order_id"].isin(done)]
    assert len(carried), "the test needs an order on board at the re-plan"
    for _, row in carried.iterrows():
        mine = after[after["order_id"] == row["order_id"]]
        assert list(mine["kind"]) == ["dropoff"]
        assert mine["vehicle_id"].iloc[0] == row["vehicle_id"]


def test_replan_from_a_gps_position_and_keeping_sequences(tiny_city):
    first = _day(tiny_city)
    vehicle = first.routes_table()["vehicle_id"].iloc[0]
    node = 250
    second = replan(
        first,
        now="09:00",  # before any window opens: every order can still be served
        done=[],
        positions={vehicle: (tiny_city.lat[node], tiny_city.lon[node])},
        keep="sequence",
        road_map=tiny_city,
        solution_limit=20,
        workers=1,
    )
    after = assert_plan_valid(second)
    start = after[(after["vehicle_id"] == vehicle) & (after["kind"] == "start")].iloc[0]
    assert start["lat"] == pytest.approx(tiny_city.lat[node])
    assert start["departure"] >= f"{PLAN_DATE.isoformat()}T09:00:00"
    assert not second.unassigned
    # with keep="sequence", every order stays on its vehicle in the same relative order
    before = first.routes_table()
    for vid, rows in after[after["kind"] == "dropoff"].groupby("vehicle_id"):
        old = before[(before["vehicle_id"] == vid) & (before["kind"] == "dropoff")]["order_id"]
        kept = [o for o in old if o in set(rows["order_id"])]
        assert list(rows["order_id"]) == kept
