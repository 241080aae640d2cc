"""Real fleets' constraints (SPEC orders/vehicles/stores columns): skills, more capacity
dimensions, route limits and shared store visits; read, planned by both backends, given
as reasons when an order cannot be served, and audited."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PLAN_DATE
from days import day_orders, day_stores, day_vehicles
from fleetroute import InputError, InputWarning, check_routes, plan
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


def test_columns_the_version_reads_but_does_not_plan_are_refused(tiny_city):
    orders = day_orders(tiny_city, 3)
    orders["windows"] = ["", "09:00-10:00;14:00-15:00", ""]
    vehicles = day_vehicles(tiny_city, 1)
    with pytest.raises(InputError, match="row 3, column 'windows': several windows per order"):
        _plan(tiny_city, orders, vehicles)


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
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    kg=st.integers(15, 60),
    route_h=st.sampled_from([1.0, 2.0, 10.0]),
    visit=st.integers(0, 900),
    backend=st.sampled_from(["pyvrp", "ortools"]),
)
def test_every_plan_respects_every_constraint(tiny_city, seed, kg, route_h, visit, backend):
    rng = np.random.default_rng(seed)
    orders = day_orders(tiny_city, 14, seed=seed, store_share=0.3, window=(9, 16))
    orders["skills"] = rng.choice(["", "", "frozen", "heavy"], 14)
    orders["demand_kg"] = rng.integers(0, 15, 14)
    vehicles = day_vehicles(
        tiny_city, 4, capacity=20, capacity_kg=kg, max_route_s=int(route_h * 3600)
    )
    vehicles["skills"] = ["frozen;heavy", "frozen", "heavy", ""]
    stores = day_stores(tiny_city).assign(visit_s=visit)
    made = _plan(tiny_city, orders, vehicles, stores=stores, backend=backend, limit=20)
    assert_plan_valid(made)
    assert _audit(tiny_city, made, orders, vehicles, stores).empty
