"""`route check`: audit a plan made elsewhere without re-solving."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

import fleetroute
from conftest import EXAMPLE_DAY, EXAMPLES, PLAN_DATE
from fleetroute.cli import cli


def test_our_own_plan_checks_clean_with_the_same_times(example_routes, tmp_path):
    r = CliRunner().invoke(
        cli, ["check", str(example_routes), *EXAMPLE_DAY, "--out", str(tmp_path / "c")]
    )
    assert r.exit_code == 0, r.output
    assert "0 violations" in r.output
    theirs = pd.read_csv(example_routes)
    again = pd.read_csv(tmp_path / "c" / "routes.csv")
    pd.testing.assert_series_equal(theirs["arrival"], again["arrival"])


def test_a_dispatchers_plan_without_times_gets_every_violation_named(example_routes, example_map):
    """Swap two drop-offs, drop the times, overload and cut one order: each is reported."""
    routes = pd.read_csv(example_routes)[["vehicle_id", "seq", "kind", "order_id"]].fillna("")
    first_van = routes[routes["vehicle_id"] == routes["vehicle_id"].iloc[0]]
    drops = first_van.index[first_van["kind"] == "dropoff"]
    left_out = routes.loc[drops[0], "order_id"]
    routes = routes.drop(index=drops[0])  # never delivered
    late_first = routes.loc[drops[-1]].copy()
    routes.loc[drops[-1], "seq"] = -1  # a late-window order moved to the front
    routes = routes.sort_values(["vehicle_id", "seq"]).assign(
        seq=lambda t: t.groupby("vehicle_id").cumcount()
    )
    vehicles = pd.read_csv(EXAMPLES / "vehicles.csv").assign(capacity=5)
    plan, found = fleetroute.check_routes(
        routes,
        EXAMPLES / "orders.csv",
        vehicles,
        road_map=example_map,
        stores=EXAMPLES / "stores.csv",
        plan_date=PLAN_DATE,
    )
    kinds = set(found["violation"])
    assert {"not_routed", "over_capacity"} <= kinds
    assert found.loc[found["violation"] == "not_routed", "order_id"].tolist() == [left_out]
    assert (found["detail"].str.len() > 5).all()
    assert late_first["order_id"] in set(plan.routes_table()["order_id"])


def test_unknown_order_in_routes_is_bad_input(tmp_path):
    bad = tmp_path / "routes.csv"
    pd.DataFrame(
        {"vehicle_id": ["van1"], "seq": [1], "kind": ["dropoff"], "order_id": ["ZZZ"]}
    ).to_csv(bad, index=False)
    r = CliRunner().invoke(cli, ["check", str(bad), *EXAMPLE_DAY, "--out", str(tmp_path / "c")])
    assert r.exit_code == 2 and "row 2, column 'order_id': unknown order 'ZZZ'" in r.stderr
    assert not (tmp_path / "c").exists()


def test_a_window_that_cannot_be_met_is_reported_late_with_its_delay(example_routes, example_map):
    routes = pd.read_csv(example_routes)[["vehicle_id", "seq", "kind", "order_id"]].fillna("")
    target = routes.loc[routes["kind"] == "dropoff", "order_id"].iloc[0]
    orders = pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False)
    orders.loc[orders["order_id"] == target, ["window_start", "window_end"]] = ["07:00", "07:01"]
    plan, found = fleetroute.check_routes(
        routes,
        orders,
        EXAMPLES / "vehicles.csv",
        road_map=example_map,
        stores=EXAMPLES / "stores.csv",
        plan_date=PLAN_DATE,
    )
    late = found[found["violation"] == "late"]
    assert late["order_id"].tolist() == [target]
    # the van leaves at 08:00, its shift start: at least 59 min after the window ends
    assert late["amount"].iloc[0] >= 59 * 60 and "window ends 07:01" in late["detail"].iloc[0]
