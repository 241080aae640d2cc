"""Real fleets' constraints (SPEC orders/vehicles/stores columns): skills, more capacity
dimensions, route limits and shared store visits; read, planned by both backends, given
as reasons when an order cannot be served, and audited."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fleetroute
from conftest import PLAN_DATE
from days import day_orders, day_stores, day_vehicles
from fleetroute import InputError, InputWarning, check_routes, plan
from fleetroute.routing.schedule import route_cost
from spec_checks import assert_plan_valid


def _plan(city, orders, vehicles, *, stores=None, backend="auto", limit=30):
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)  # these days use only SPEC columns
        return plan(
            orders,
            vehicles,
            road_map=city,
            stores=stores,
            plan_date=PLAN_DATE,
            solution_limit=limit,
            backend=backend,
            workers=1,
        )


def _audit(city, made, orders, vehicles, stores=None):
    """The violations ``route check`` finds in a plan's routes.csv (none is not_routed)."""
    _, found = check_routes(
        made.routes_table(), orders, vehicles, road_map=city, stores=stores, plan_date=PLAN_DATE
    )
    return found[found["violation"] != "not_routed"]


@pytest.mark.parametrize("backend", ["pyvrp", "ortools"])
def test_an_order_rides_only_a_vehicle_with_all_of_its_skills(tiny_city, backend):
    orders = day_orders(tiny_city, 16, window=(9, 15))
    orders["skills"] = ["frozen" if i % 4 == 0 else "" for i in range(16)]
    orders.loc[1, "skills"] = "frozen; heavy"
    vehicles = day_vehicles(tiny_city, 3, capacity=100)
    vehicles["skills"] = ["", "frozen", "heavy;frozen"]
    made = _plan(tiny_city, orders, vehicles, backend=backend)
    table = assert_plan_valid(made)
    assert not made.unassigned
    rode = table[table["kind"] == "dropoff"].set_index("order_id")["vehicle_id"]
    frozen = orders.loc[orders["skills"] != "", "order_id"]
    assert set(rode[frozen]) <= {"v1", "v2"}
    assert rode["o1"] == "v2"  # the only van that is both frozen and heavy
    assert _audit(tiny_city, made, orders, vehicles).empty


def test_an_order_no_vehicle_has_the_skills_for_is_left_out_with_the_skill_named(tiny_city):
    orders = day_orders(tiny_city, 6)
    orders["skills"] = ["", "frozen", "", "", "heavy;frozen", ""]
    vehicles = day_vehicles(tiny_city, 2, capacity=100)
    vehicles["skills"] = ["heavy", "frozen"]
    made = _plan(tiny_city, orders, vehicles)
    reasons = made.unassigned_table().set_index("order_id")["reason"]
    assert list(reasons.index) == ["o4"]
    assert reasons["o4"] == "no single vehicle has all of its skills ('frozen', 'heavy')"
    vehicles["skills"] = ["heavy", ""]
    made = _plan(tiny_city, orders, vehicles)
    reasons = made.unassigned_table().set_index("order_id")["reason"]
    assert reasons["o1"] == "no vehicle has skill 'frozen'"
    assert reasons["o4"] == "no vehicle has skill 'frozen'"


@pytest.mark.parametrize("backend", ["pyvrp", "ortools"])
def test_every_capacity_dimension_holds_and_routes_csv_shows_its_load(tiny_city, backend):
    orders = day_orders(tiny_city, 14)
    orders["demand_kg"] = 10
    orders["demand_l"] = np.arange(14) % 3
    vehicles = day_vehicles(tiny_city, 4, capacity=100, capacity_kg=40)  # kg binds: 4 a van
    made = _plan(tiny_city, orders, vehicles, backend=backend)
    table = assert_plan_valid(made)
    assert list(table.columns[17:19]) == ["load_kg", "load_l"]
    assert not made.unassigned
    assert table["load_kg"].max() <= 40
    assert table.groupby("vehicle_id")["vehicle_id"].size().size == 4
    # the load shown is what is on board: all kg of a route at its start, none at its end
    for _, rows in table.groupby("vehicle_id"):
        drops = rows[rows["kind"] == "dropoff"]
        assert rows["load_kg"].iloc[0] == 10 * len(drops) and rows["load_kg"].iloc[-1] == 0
        assert (
            rows["load_l"].iloc[0]
            == orders.set_index("order_id").loc[drops["order_id"], "demand_l"].sum()
        )
    assert _audit(tiny_city, made, orders, vehicles).empty


def test_an_order_heavier_than_any_vehicle_takes_is_named_with_its_dimension(tiny_city):
    orders = day_orders(tiny_city, 5)
    orders["demand_kg"] = [5, 42, 5, 5, 5]
    vehicles = day_vehicles(tiny_city, 2, capacity_kg=[40, 30])
    made = _plan(tiny_city, orders, vehicles)
    reasons = made.unassigned_table().set_index("order_id")["reason"]
    assert reasons.to_dict() == {"o1": "its 42 kg exceed every vehicle's 40 kg"}


def test_a_vehicle_without_a_dimension_is_unlimited_in_it(tiny_city):
    orders = day_orders(tiny_city, 6)
    orders["demand_kg"] = 50
    vehicles = day_vehicles(tiny_city, 2)
    vehicles["capacity_kg"] = ["10", ""]  # v1 lists no kg capacity: unlimited
    made = _plan(tiny_city, orders, vehicles)
    assert not made.unassigned
    assert {r.vehicle for r in made.routes} == {1}


@pytest.mark.parametrize("backend", ["pyvrp", "ortools"])
def test_route_limits_hold(tiny_city, backend):
    orders = day_orders(tiny_city, 20)
    vehicles = day_vehicles(tiny_city, 6, capacity=100, max_route_s=3600, max_distance_m=9000)
    made = _plan(tiny_city, orders, vehicles, backend=backend)
    assert_plan_valid(made)
    assert not made.unassigned
    assert len(made.routes) > 1  # one van alone would take longer
    for sched in made.schedules:
        assert sched.duration_s <= 3600 and sched.total_distance_m <= 9000
    assert _audit(tiny_city, made, orders, vehicles).empty


def test_an_order_too_far_for_every_route_limit_says_so(tiny_city):
    orders = day_orders(tiny_city, 4)
    vehicles = day_vehicles(tiny_city, 2, max_distance_m=50)
    made = _plan(tiny_city, orders, vehicles)
    assert len(made.unassigned) == 4
    assert all("longer than any vehicle's max_route_s or max_distance_m" in r
               for r in made.unassigned.values())  # fmt: skip


def test_check_names_each_broken_constraint(tiny_city):
    orders = day_orders(tiny_city, 8)
    orders["skills"] = ["frozen"] + [""] * 7
    orders["demand_kg"] = 10
    vehicles = day_vehicles(tiny_city, 1, capacity=100)
    vehicles["skills"] = ""
    made = _plan(tiny_city, orders.assign(skills=""), vehicles)  # planned without the rules
    vehicles = vehicles.assign(capacity_kg=30, max_route_s=600, max_distance_m=1000)
    _, found = check_routes(
        made.routes_table(), orders, vehicles, road_map=tiny_city, plan_date=PLAN_DATE
    )
    kinds = set(found["violation"])
    assert {"skill_missing", "over_capacity", "route_too_long", "route_too_far"} <= kinds
    detail = found.set_index("violation")["detail"]
    assert "'frozen'" in detail["skill_missing"]
    assert "capacity_kg 30" in found.loc[found["violation"] == "over_capacity", "detail"].iloc[0]


@pytest.mark.parametrize("backend", ["pyvrp", "ortools"])
def test_a_store_visit_is_paid_once_per_arrival(tiny_city, backend):
    orders = day_orders(tiny_city, 12, store_share=1.0)
    stores = day_stores(tiny_city).assign(visit_s=[600, 300])
    vehicles = day_vehicles(tiny_city, 2, capacity=100)
    made = _plan(tiny_city, orders, vehicles, stores=stores, backend=backend)
    table = assert_plan_valid(made)
    p = made.problem
    shop = dict(zip(p.order_id, p.shop_s.tolist(), strict=True))
    visit = {"S1": 600, "S2": 300}
    for _, rows in table.groupby("vehicle_id"):
        rows = rows.reset_index(drop=True)
        for k in np.flatnonzero(rows["kind"] == "pickup").tolist():
            here = rows.loc[k]
            arrived = (
                rows.loc[k - 1, "store_id"] != here["store_id"]
                or rows.loc[k - 1, "kind"] != "pickup"
            )
            paid = here["service_s"] - shop[here["order_id"]]
            assert paid == (visit[here["store_id"]] if arrived else 0)
    # shared visits: fewer arrivals than pickups somewhere
    kinds = table["kind"].tolist()
    assert any(a == b == "pickup" for a, b in zip(kinds, kinds[1:], strict=False))


@pytest.mark.parametrize("backend", ["auto", "pyvrp"])
def test_a_vehicle_reloads_at_its_depot_between_trips(tiny_city, backend):
    orders = day_orders(tiny_city, 12).assign(demand=2)  # 24 units for a 10-unit van
    vehicles = day_vehicles(tiny_city, 1, capacity=10)
    without = _plan(tiny_city, orders, vehicles, backend=backend)
    assert len(without.unassigned) >= 7
    made = _plan(tiny_city, orders, vehicles.assign(reload_s=600), backend=backend)
    table = assert_plan_valid(made)
    assert not made.unassigned
    reloads = table[table["kind"] == "reload"]
    assert len(reloads) >= 2 and (reloads["service_s"] == 600).all()
    depot = table.iloc[0]
    assert (reloads["lat"] == depot["lat"]).all() and (reloads["order_id"] == "").all()
    # each trip leaves full with its own deliveries: load after a reload = that trip's demand
    trip = (table["kind"] == "reload").cumsum()
    drops = table[table["kind"] == "dropoff"].groupby(trip)["order_id"].size() * 2
    starts = table[table["kind"].isin(["start", "reload"])]
    assert list(starts["load"]) == list(drops)
    assert table["load"].max() <= 10
    assert _audit(tiny_city, made, orders, vehicles.assign(reload_s=600)).empty
    # the same routes on a van that may not reload are flagged
    found = _audit(tiny_city, made, orders, vehicles)
    assert "reload_not_allowed" in set(found["violation"])


def _seconds(text):
    hh, mm = text[11:13], text[14:16]
    return int(hh) * 3600 + int(mm) * 60 + int(text[17:19])


@pytest.mark.parametrize("backend", ["auto", "ortools"])
def test_delivery_starts_inside_one_of_several_windows(tiny_city, backend):
    orders = day_orders(tiny_city, 12, store_share=0.3, window=(9, 15))
    multi = ["09:00-09:20;16:00-16:30", "12:00-12:10;08:00-08:30", "10:00-10:15; 17:00-17:20"]
    orders["windows"] = ""
    orders.loc[:2, "windows"] = multi
    orders.loc[:2, ["window_start", "window_end"]] = ""
    orders.loc[2, "store_id"] = "S1"  # a store order with several windows: not PyVRP's alone
    vehicles = day_vehicles(tiny_city, 3, capacity=100)
    made = _plan(tiny_city, orders, vehicles, stores=day_stores(tiny_city), backend=backend)
    table = assert_plan_valid(made)
    assert not made.unassigned
    drops = table[table["kind"] == "dropoff"].set_index("order_id")
    for oid, text in zip(["o0", "o1", "o2"], multi, strict=True):
        row = drops.loc[oid]
        begin = _seconds(row["arrival"]) + row["wait_s"]
        used = (_seconds(row["window_start"]), _seconds(row["window_end"]))
        allowed = [
            (int(a[:2]) * 3600 + int(a[3:5]) * 60, int(b[:2]) * 3600 + int(b[3:5]) * 60)
            for a, b in (w.strip().split("-") for w in text.split(";"))
        ]
        assert used in allowed and used[0] <= begin <= used[1]
    if backend == "auto":
        assert "several windows" in made.inputs["search"]["why"]
    assert _audit(tiny_city, made, orders, vehicles, day_stores(tiny_city)).empty


def test_an_order_with_several_windows_goes_to_pyvrp_as_a_client_group(tiny_city):
    orders = day_orders(tiny_city, 10)
    orders["windows"] = ["08:00-08:20;15:00-16:00"] * 10
    vehicles = day_vehicles(tiny_city, 2, capacity=100)
    made = _plan(tiny_city, orders, vehicles, backend="pyvrp")
    table = assert_plan_valid(made)
    assert not made.unassigned
    used = set(table.loc[table["kind"] == "dropoff", "window_start"].str[11:16])
    assert used <= {"08:00", "15:00"} and "15:00" in used  # 20 minutes cannot take all ten


def test_windows_are_checked_cell_by_cell(tiny_city):
    vehicles = day_vehicles(tiny_city, 1)
    orders = day_orders(tiny_city, 3).assign(windows=["", "9-10", ""])
    with pytest.raises(InputError, match="row 3, column 'windows': '9-10' is not a window"):
        _plan(tiny_city, orders, vehicles)
    orders = day_orders(tiny_city, 3).assign(windows=["", "", "10:00-09:00"])
    with pytest.raises(InputError, match="row 4, column 'windows'.*does not end after it starts"):
        _plan(tiny_city, orders, vehicles)
    orders = day_orders(tiny_city, 3).assign(
        windows=["09:00-10:00", "", ""], window_start=["09:00", "", ""]
    )
    with pytest.raises(InputError, match="row 2, column 'windows': give windows or window_start"):
        _plan(tiny_city, orders, vehicles)


def test_no_reachable_window_is_the_reason(tiny_city):
    orders = day_orders(tiny_city, 3).assign(windows=["", "06:00-06:30;07:00-07:30", ""])
    made = _plan(tiny_city, orders, day_vehicles(tiny_city, 1))
    assert (
        made.unassigned_table()["reason"]
        .iloc[0]
        .startswith("no window is reachable: its last window ends at 07:30")
    )


@pytest.mark.parametrize("backend", ["auto", "ortools"])
def test_a_soft_window_is_kept_late_at_its_cost(tiny_city, backend):
    orders = day_orders(tiny_city, 8, window=(10, 14))
    # shifts start at 08:00: nobody reaches o0 by 08:01, but within the next half hour
    orders.loc[0, ["window_start", "window_end"]] = ["08:00", "08:01"]
    vehicles = day_vehicles(tiny_city, 2, capacity=100)
    hard = _plan(tiny_city, orders, vehicles, backend=backend)
    assert "o0" in set(hard.unassigned_table()["order_id"])
    soft = orders.assign(late_cost_per_h=[60.0] + [""] * 7, max_late_s=[1800] + [""] * 7)
    made = _plan(tiny_city, soft, vehicles, backend=backend)
    table = assert_plan_valid(made, hard_windows=False)
    assert not made.unassigned
    late = table.set_index("order_id").loc["o0", "late_s"]
    assert 0 < late <= 1800
    assert (table.loc[table["order_id"] != "o0", "late_s"] == 0).all()
    s = made.summary()
    assert s["total_late_s"] == late and s["late_cost"] == pytest.approx(late / 60.0, abs=1e-4)
    assert s["on_time_rate"] == pytest.approx(7 / 8)
    assert s["objective"] == pytest.approx(
        sum(route_cost(made.problem, x) for x in made.schedules), abs=1e-3
    )
    assert _audit(tiny_city, made, soft, vehicles).empty
    # the same lateness under a hard window is a violation in route check
    found = _audit(tiny_city, made, orders, vehicles)
    assert list(found["violation"]) == ["late"]


def test_max_late_s_needs_a_late_cost(tiny_city):
    orders = day_orders(tiny_city, 2).assign(max_late_s=["", "600"])
    with pytest.raises(InputError, match="row 3, column 'max_late_s': max_late_s needs"):
        _plan(tiny_city, orders, day_vehicles(tiny_city, 1))


def test_a_lookalike_column_warns_once_and_is_kept(tiny_city, tmp_path):
    orders = day_orders(tiny_city, 3).assign(weight_kg=5, note="ring twice")
    vehicles = day_vehicles(tiny_city, 1).assign(max_weight=100)
    with pytest.warns(InputWarning) as caught:
        made = plan(orders, vehicles, road_map=tiny_city, plan_date=PLAN_DATE, solution_limit=5)
    said = [str(w.message) for w in caught]
    assert len(said) == 2
    assert "column 'weight_kg'" in said[0] and "demand_<name>" in said[0]
    assert "column 'max_weight'" in said[1]
    assert made.inputs["warnings"] == said
    assert "weight_kg" in made.routes_table().columns  # passed through, not dropped


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    kg=st.integers(15, 60),
    route_h=st.sampled_from([1.0, 2.0, 10.0]),
    visit=st.integers(0, 900),
    backend=st.sampled_from(["auto", "ortools"]),
    reload=st.sampled_from(["", "300"]),
)
def test_every_plan_respects_every_constraint(tiny_city, seed, kg, route_h, visit, backend, reload):
    rng = np.random.default_rng(seed)
    orders = day_orders(tiny_city, 14, seed=seed, store_share=0.3, window=(9, 16))
    orders["skills"] = rng.choice(["", "", "frozen", "heavy"], 14)
    orders["demand_kg"] = rng.integers(0, 15, 14)
    orders["windows"] = ""
    several = (rng.random(14) < 0.3) & (orders["window_start"] != "")
    orders.loc[several, "windows"] = [
        f"{a}-{b};{int(a[:2]) + 3:02d}:00-{int(a[:2]) + 4:02d}:00"
        for a, b in orders.loc[several, ["window_start", "window_end"]].itertuples(index=False)
    ]
    orders.loc[several, ["window_start", "window_end"]] = ""
    soft = rng.random(14) < 0.3
    orders["late_cost_per_h"] = np.where(soft, "30", "")
    vehicles = day_vehicles(
        tiny_city, 4, capacity=20, capacity_kg=kg, max_route_s=int(route_h * 3600)
    )
    vehicles["skills"] = ["frozen;heavy", "frozen", "heavy", ""]
    vehicles["reload_s"] = reload
    stores = day_stores(tiny_city).assign(visit_s=visit)
    made = _plan(tiny_city, orders, vehicles, stores=stores, backend=backend, limit=20)
    assert_plan_valid(made, hard_windows=False)
    assert _audit(tiny_city, made, orders, vehicles, stores).empty


def test_an_inserted_order_keeps_its_skills_and_windows(tiny_city):
    orders = day_orders(tiny_city, 10, window=(9, 15))
    vehicles = day_vehicles(tiny_city, 2, capacity=100).assign(skills=["", "frozen"])
    made = _plan(tiny_city, orders, vehicles)
    new = day_orders(tiny_city, 12, seed=5).iloc[11].to_dict()
    new.update(order_id="late-add", skills="frozen", windows="06:00-06:30;16:00-16:30")
    grown = fleetroute.insert_order(made, new, road_map=tiny_city)
    assert "late-add" not in set(grown.unassigned_table()["order_id"])
    table = assert_plan_valid(grown)
    row = table.set_index("order_id").loc["late-add"]
    assert row["vehicle_id"] == "v1" and row["window_start"][11:16] == "16:00"
    assert _seconds(row["arrival"]) + row["wait_s"] <= 16 * 3600 + 1800
