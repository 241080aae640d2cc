"""Windows at checkout (`route slots`, `fleetroute.slots`): a window is offered only when
booking it keeps every promise, and booking an offered window does what the offer said."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import EXAMPLE_DAY, EXAMPLES, PLAN_DATE, example_plan
from fleetroute import FreeFlow, check_routes, insert_order, slots
from fleetroute.api import SLOT_COLUMNS
from fleetroute.cli import cli

NEW = pd.DataFrame({"order_id": ["N1", "N2"], "lat": ["52.371", "52.383"],
                    "lon": ["4.893", "4.905"], "window_start": ["09:00", ""]})  # fmt: skip
H = 3600


@pytest.fixture(scope="module")
def current(example_map):
    return example_plan(example_map, solution_limit=10, workers=1)


def test_windows_outside_every_shift_are_not_offered_and_say_why(current, example_map):
    table = slots(current, NEW, road_map=example_map,
                  windows=[(4 * H, 6 * H), (21 * H, 23 * H), (10 * H, 12 * H)])  # fmt: skip
    assert list(table.columns) == list(SLOT_COLUMNS) and len(table) == 6
    for order_id in ("N1", "N2"):
        mine = table[table["order_id"] == order_id].reset_index(drop=True)
        assert list(mine["feasible"]) == [False, False, True]
        assert all(mine["reason"][:2] != "") and mine["reason"][2] == ""
        assert mine["vehicle_id"][2] in current.problem.vehicle_id
        assert mine["marginal_cost"][2] > 0


def test_every_offered_window_books_as_offered_and_keeps_the_other_promises(current, example_map):
    table = slots(current, NEW.iloc[[0]], road_map=example_map)  # two-hour windows, all shifts
    offered = table[table["feasible"]]
    assert 0 < len(offered) < len(table)  # some windows fit, the late evening ones do not
    for row in offered.itertuples():
        order = NEW.iloc[[0]].assign(window_start=row.window_start, window_end=row.window_end)
        booked = insert_order(current, order, road_map=example_map)
        i = booked.problem.n_orders - 1
        assert i not in booked.unassigned
        assert booked.problem.vehicle_id[next(r.vehicle for r in booked.routes if i in r.orders)
                                         ] == row.vehicle_id  # fmt: skip
        assert booked.objective - current.objective == pytest.approx(row.marginal_cost, abs=0.01)
        orders = pd.concat([pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False),
                            order.astype(str)], ignore_index=True).fillna("")  # fmt: skip
        _, found = check_routes(booked.routes_table(), orders, EXAMPLES / "vehicles.csv",
                                road_map=example_map, stores=EXAMPLES / "stores.csv",
                                plan_date=PLAN_DATE)  # fmt: skip
        assert found[found["violation"] != "not_routed"].empty, found


class _LongerLater(FreeFlow):
    """Free-flow travel; every stop a minute longer per hour of the day: service times
    that depend on when the stop happens, as a learned model's do."""

    def service_s(self, road_map, *, is_shop, items, store_id, lat, lon, when):
        plain = super().service_s(road_map, is_shop=is_shop, items=items, store_id=store_id,
                                  lat=lat, lon=lon, when=when)  # fmt: skip
        return plain + 60.0 * when.hour


def test_an_offered_window_costs_what_it_was_offered_at_when_stop_times_depend_on_the_hour(
    current, example_map
):
    """The offer times the new order's stops for its window (the drop-off in its middle), as
    the booking does: an evening window's stops take longer than a morning one's, and each
    books at the marginal cost it was offered at."""
    eta = _LongerLater()
    table = slots(current, NEW.iloc[[0]], road_map=example_map, eta=eta)
    offered = table[table["feasible"]]
    assert len(offered) >= 3
    for row in offered.itertuples():
        order = NEW.iloc[[0]].assign(window_start=row.window_start, window_end=row.window_end)
        booked = insert_order(current, order, road_map=example_map, eta=eta)
        i = booked.problem.n_orders - 1
        assert booked.problem.vehicle_id[next(r.vehicle for r in booked.routes if i in r.orders)
                                         ] == row.vehicle_id  # fmt: skip
        assert booked.objective - current.objective == pytest.approx(row.marginal_cost, abs=0.01)


def test_route_slots_writes_slots_csv(example_routes, tmp_path):
    new = tmp_path / "new.csv"
    NEW.to_csv(new, index=False)
    out = tmp_path / "slots"
    args = ["slots", str(example_routes), *EXAMPLE_DAY, "--new", str(new)]
    r = CliRunner().invoke(cli, [*args, "--windows", "04:00-06:00,10:00-12:00", "--out", str(out)])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out / "slots.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == list(SLOT_COLUMNS)
    assert list(table["feasible"]) == ["False", "True", "False", "True"]
    assert "N1: 1 of 2 windows: 10:00-12:00" in r.output
    bad = CliRunner().invoke(cli, [*args, "--windows", "12:00-10:00", "--out", str(out)])
    assert bad.exit_code == 2 and "ends before it starts" in bad.output


def test_with_a_model_each_offered_window_says_how_sure_the_promise_is(tiny_city, tiny_model):
    from days import day_orders, day_stores, day_vehicles
    from fleetroute import LearnedEta
    from fleetroute import plan as make_plan

    eta = LearnedEta(tiny_model)
    stores = day_stores(tiny_city)
    current = make_plan(day_orders(tiny_city, 30, seed=4, store_share=0.3, window=(9, 17)),
                        day_vehicles(tiny_city, 4), road_map=tiny_city, stores=stores,
                        plan_date=PLAN_DATE, eta=eta, solution_limit=20, workers=1)  # fmt: skip
    new = day_orders(tiny_city, 2, seed=99, store_share=0.5).assign(order_id=["N1", "N2"])
    # a window before every shift, two-hour windows, and one as long as the shifts
    table = slots(current, new, road_map=tiny_city, eta=eta,
                  windows=[(5 * H, 6 * H), (12 * H, 14 * H), (8 * H, 20 * H)])  # fmt: skip
    offered = table[table["feasible"]]
    assert len(offered) >= 2 and table["feasible"].iloc[[0, 3]].eq(False).all()
    assert table.loc[~table["feasible"], "p_on_time"].isna().all()
    assert offered["p_on_time"].between(0, 1).all()
    long = offered[offered["window_end"].str.endswith("20:00:00")]
    assert (long["p_on_time"] > 0.99).all()  # hours of slack: the promise all but sure
    # each order's chances are its own: asked alone, the first order gets the same ones
    # (half-hour windows: some promises are far from sure)
    halves = [(t, t + H // 2) for t in range(9 * H, 17 * H, H // 2)]
    together = slots(current, new, road_map=tiny_city, eta=eta, windows=halves)
    alone = slots(current, new.iloc[[0]], road_map=tiny_city, eta=eta, windows=halves)
    assert alone["p_on_time"].lt(0.99).any()
    both = together[together["order_id"] == "N1"].reset_index(drop=True)
    pd.testing.assert_series_equal(alone["p_on_time"], both["p_on_time"])
    # booking an offered window with the model puts it on the stated vehicle at the stated
    # cost (its stop times predicted for that window, as the offer's were)
    for _, row in offered.iterrows():
        order = new[new["order_id"] == row["order_id"]].assign(
            window_start=row["window_start"][11:16], window_end=row["window_end"][11:16]
        )
        booked = insert_order(current, order, road_map=tiny_city, eta=eta)
        table = booked.routes_table()
        mine = table.loc[table["order_id"] == row["order_id"], "vehicle_id"]
        assert set(mine) == {row["vehicle_id"]}
        assert booked.objective - current.objective == pytest.approx(row["marginal_cost"], abs=0.01)
    without = slots(current, new, road_map=tiny_city, windows=[(8 * H, 20 * H)])
    assert without["p_on_time"].isna().all()  # free-flow times: no chance to give
