"""The Python API a dispatch system calls: load a map once, plan many times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fleetroute
from conftest import DATA, EXAMPLES, PLAN_DATE, example_plan
from fleetroute import FleetSpec, InputError
from fleetroute.api import planning
from spec_checks import assert_plan_valid


def _example_plan(road_map, **kw):
    return example_plan(road_map, time_limit_s=5, solution_limit=20, **kw)


def _example_problem(road_map, **kw):
    problem, _ = fleetroute.build_problem(
        EXAMPLES / "orders.csv",
        EXAMPLES / "vehicles.csv",
        road_map=road_map,
        stores=EXAMPLES / "stores.csv",
        plan_date=PLAN_DATE,
        **kw,
    )
    return problem


def test_example_day_is_fully_planned_with_every_spec_identity(example_map):
    plan = _example_plan(example_map)
    table = assert_plan_valid(plan)
    s = plan.summary()
    assert s["assigned"] == s["orders"] == 40 and s["on_time_rate"] == 1.0
    assert "customer" in table.columns  # extra order columns pass through
    assert plan.to_dict()["inputs"]["map_fingerprint"] == example_map.fingerprint


def test_dataframes_plan_the_same_as_files(example_map):
    """A dispatch service passing DataFrames gets the same plan as the CLI's files."""
    from_files = _example_plan(example_map)
    from_frames = fleetroute.plan(
        pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False),
        pd.read_csv(EXAMPLES / "vehicles.csv"),
        road_map=example_map,
        stores=pd.read_csv(EXAMPLES / "stores.csv"),
        plan_date=PLAN_DATE,
        time_limit_s=5,
        solution_limit=20,
    )
    pd.testing.assert_frame_equal(from_files.routes_table(), from_frames.routes_table())


def test_shorthand_fleet(example_map):
    orders = pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False)
    orders = orders[orders["store_id"] == ""]
    fleet = FleetSpec(size=3, depot=(52.3694, 4.8888), capacity=25, shift=(8 * 3600, 18 * 3600))
    plan = fleetroute.plan(
        orders,
        fleet=fleet,
        road_map=example_map,
        plan_date=PLAN_DATE,
        time_limit_s=5,
        solution_limit=20,
    )
    assert_plan_valid(plan)
    assert set(plan.problem.vehicle_id) == {"v1", "v2", "v3"}


def test_an_order_off_the_map_is_unassigned_and_the_rest_planned(example_map):
    orders = pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False).head(6)
    orders.loc[0, ["lat", "lon"]] = ["52.50", "4.89"]  # ~14 km north of the city
    plan = fleetroute.plan(
        orders,
        EXAMPLES / "vehicles.csv",
        road_map=example_map,
        stores=EXAMPLES / "stores.csv",
        plan_date=PLAN_DATE,
        time_limit_s=5,
        solution_limit=10,
    )
    assert_plan_valid(plan)
    reasons = dict(plan.unassigned_table().itertuples(index=False))
    assert list(reasons) == ["A001"] and "km from the nearest road" in reasons["A001"]
    assert plan.summary()["assigned"] == 5


def test_a_map_that_does_not_cover_the_orders_is_bad_input(example_map):
    with pytest.raises(
        InputError, match=r"orders_not_on_map.csv: row 3, column 'lat': no order lies on the map"
    ):
        fleetroute.plan(
            DATA / "orders_not_on_map.csv",
            DATA / "vehicles_valid.csv",
            road_map=example_map,
            plan_date=PLAN_DATE,
        )


def test_unknown_store_is_bad_input(example_map):
    with pytest.raises(InputError, match=r"row 3, column 'store_id': unknown store 'S9'"):
        fleetroute.plan(
            DATA / "orders_unknown_store.csv",
            DATA / "vehicles_valid.csv",
            road_map=example_map,
            stores=DATA / "stores_valid.csv",
            plan_date=PLAN_DATE,
        )


def test_what_if_by_replacing_the_problem(example_map):
    """A changed problem (one vehicle fewer) is a new Problem; the original is untouched."""
    problem = _example_problem(example_map)
    tighter = problem.replace(capacity=problem.capacity // 2)
    assert (problem.capacity == [20, 20, 20, 30]).all()
    plan = fleetroute.solve(tighter, fleetroute.SolveOptions(time_limit_s=5, solution_limit=20))
    assert_plan_valid(plan)
    with pytest.raises(ValueError):
        problem.capacity[0] = 1  # arrays are read-only


def test_a_depot_off_the_map_is_bad_input_naming_the_vehicle_row(example_map, tmp_path):
    vehicles = pd.read_csv(EXAMPLES / "vehicles.csv")
    vehicles.loc[2, "depot_lat"] = 52.60
    path = tmp_path / "vehicles.csv"
    vehicles.to_csv(path, index=False)
    with pytest.raises(
        InputError, match=r"vehicles.csv: row 4, column 'depot_lat': .* km from the nearest road"
    ):
        fleetroute.plan(
            EXAMPLES / "orders.csv",
            path,
            road_map=example_map,
            stores=EXAMPLES / "stores.csv",
            plan_date=PLAN_DATE,
        )


def test_progress_hears_each_step_and_the_search_costs_as_they_improve(example_map):
    heard = []
    example_plan(
        example_map, solution_limit=15, backend="ortools", workers=1,
        progress=lambda step, cost: heard.append((step, cost)),
    )  # fmt: skip
    steps = [s for s, c in heard if c is None]
    assert steps[0] == "reading the orders, fleet and stores"
    assert steps[1] == "snapping places to the map"
    assert steps[2].startswith("travel times between")
    assert steps[-1].startswith("searching")
    costs = [c for _, c in heard if c is not None]
    assert len(costs) >= 2 and costs == sorted(costs, reverse=True)


class _ClockEta(fleetroute.FreeFlow):
    """Free-flow travel; a stop's service seconds are the minute of the day it is
    predicted for, so the problem shows when each service time was predicted."""

    def service_s(self, road_map, *, is_shop, items, store_id, lat, lon, when):
        return np.full(len(items), when.hour * 60.0 + when.minute)


def test_service_times_are_predicted_for_when_the_stop_happens(example_map):
    """A store's rush or a slow afternoon reaches the plan: a drop-off is predicted for
    the middle of its window, a shop 90 minutes before the window opens (the fleet's
    first hour at the earliest), not one hour for the whole day."""
    problem = _example_problem(example_map, eta=_ClockEta())
    orders = pd.read_csv(EXAMPLES / "orders.csv", keep_default_na=False)
    start = pd.to_timedelta(orders["window_start"] + ":00").dt.total_seconds() // 60
    end = pd.to_timedelta(orders["window_end"] + ":00").dt.total_seconds() // 60
    assert len(set(problem.dropoff_s.tolist())) > 1  # the example has windows all day
    np.testing.assert_array_equal(problem.dropoff_s, (start + end) // 2)
    shopped = (orders["store_id"] != "").to_numpy()
    first = 8 * 60  # every van starts at 08:00
    np.testing.assert_array_equal(problem.shop_s[shopped], np.maximum(start - 90, first)[shopped])
    assert (problem.shop_s[~shopped] == 0).all()


class _ManyBands(fleetroute.FreeFlow):
    """An ETA of 100,000 hour bands, whose matrices must never be built on a small machine."""

    def band_starts(self, start, end):
        return [start] * 100_000

    def travel_bands(self, *args, **kwargs):
        raise AssertionError("the bands were built before the memory check")


def test_a_learned_days_bands_count_toward_the_memory_it_needs(example_map, monkeypatch):
    monkeypatch.setenv("FLEETROUTE_MEMORY_GB", "0.5")
    assert _example_problem(example_map).n_orders > 0  # free-flow, one matrix: it fits
    with pytest.raises(InputError, match="GB of memory to plan"):
        _example_problem(example_map, eta=_ManyBands())


@settings(max_examples=30, deadline=None)
@given(
    seconds=hnp.arrays(np.float64, (2, 3, 3), elements=st.floats(0, 50_000)),
    four_bytes=st.booleans(),
)
def test_band_seconds_are_rounded_to_whole_seconds(seconds, four_bytes):
    """The planner keeps each band's legs in whole seconds, 4 bytes each; 4-byte float
    bands are rounded in their own memory (a big day never holds them twice)."""
    band_f = seconds.astype(np.float32) if four_bytes else seconds.copy()
    expected = np.rint(band_f).astype(np.int32)
    bands = planning._whole_seconds(band_f)
    assert bands.dtype == np.int32 and np.array_equal(bands, expected)
    assert np.shares_memory(bands, band_f) == four_bytes
