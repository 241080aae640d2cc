"""`route plan` end to end through click's CliRunner, and how it fails on bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import DATA, EXAMPLES, OSM_DIR
from fleetroute.cli import cli
from fleetroute.routing import ROUTE_COLUMNS

SUMMARY_KEYS = {
    "orders",
    "assigned",
    "unassigned",
    "vehicles_used",
    "total_distance_m",
    "total_travel_s",
    "total_duration_s",
    "on_time_rate",
    "objective",
    "solve_time_s",
}


def _run(*args):
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def test_plan_example_writes_spec_files(tmp_path):
    out = tmp_path / "plan"
    r = _run(
        "plan",
        EXAMPLES / "orders.csv",
        "--map",
        EXAMPLES / "city.graphml",
        "--vehicles",
        EXAMPLES / "vehicles.csv",
        "--stores",
        EXAMPLES / "stores.csv",
        "--date",
        "2026-03-02",
        "--solution-limit",
        "10",
        "--out",
        out,
    )
    assert r.exit_code == 0, r.output
    assert "planned 40 of 40 orders" in r.output
    routes = pd.read_csv(out / "routes.csv")
    assert list(routes.columns[: len(ROUTE_COLUMNS)]) == list(ROUTE_COLUMNS)
    doc = json.loads((out / "plan.json").read_text())
    assert set(doc) == {"summary", "routes", "unassigned", "inputs", "timings_s"}
    assert {"snap", "matrix", "model", "search"} <= set(doc["timings_s"])
    assert set(doc["summary"]) >= SUMMARY_KEYS
    assert doc["summary"]["assigned"] == (routes["kind"] == "dropoff").sum()
    assert doc["inputs"]["date"] == "2026-03-02"
    # what searched and why, in plan.json and on the terminal
    search = doc["inputs"]["search"]
    assert search["backend"] == doc["inputs"]["backend"] == "pyvrp"
    assert f"search: pyvrp, because {search['why']}" in r.output
    # the terminal summary: a row per used vehicle and the day's KPIs
    for van in routes["vehicle_id"].unique():
        assert van in r.output
    assert "cost per order" in r.output and "fleet utilisation" in r.output


def test_plan_with_shorthand_fleet_on_a_real_osm_map(tmp_path):
    """Orders on West Oakland's real roads, planned with --fleet-size/--depot/--shift."""
    orders = tmp_path / "orders.csv"
    pd.DataFrame(
        {
            "order_id": ["a", "b", "c"],
            "lat": [37.8135, 37.8150, 37.8120],
            "lon": [-122.2900, -122.2880, -122.2870],
        }
    ).to_csv(orders, index=False)
    r = _run(
        "plan",
        orders,
        "--map",
        OSM_DIR / "West-Oakland.osm.bz2",
        "--fleet-size",
        2,
        "--capacity",
        5,
        "--depot",
        "37.8140,-122.2890",
        "--shift",
        "08:00-12:00",
        "--date",
        "2026-03-02",
        "--solution-limit",
        5,
        "--out",
        tmp_path / "o",
    )
    assert r.exit_code == 0, r.output
    routes = pd.read_csv(tmp_path / "o" / "routes.csv")
    assert set(routes.loc[routes["kind"] == "dropoff", "order_id"]) == {"a", "b", "c"}


@pytest.mark.parametrize(
    ("orders", "extra", "expected"),
    [
        (
            "orders_misspelt_column.csv",
            [],
            "row 1, column 'lat': required column is missing (found 'latt'",
        ),
        ("orders_comma_decimal.csv", [], "row 2, column 'lat': '52,3700' is not a number"),
        ("orders_window_end_before_start.csv", [], "row 3, column 'window_end'"),
        (
            "orders_unknown_store.csv",
            ["--stores", DATA / "stores_valid.csv"],
            "row 3, column 'store_id'",
        ),
        ("orders_not_on_map.csv", [], "no order lies on the map"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, orders, extra, expected):
    out = tmp_path / "out"
    r = CliRunner().invoke(
        cli,
        [
            "plan",
            str(DATA / orders),
            "--map",
            str(EXAMPLES / "city.graphml"),
            "--vehicles",
            str(DATA / "vehicles_valid.csv"),
            "--out",
            str(out),
            *map(str, extra),
        ],
    )
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and str(DATA / orders) in lines[0]
    assert "Traceback" not in r.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--depot", "52.37,x", "--fleet-size", "2"], "'52.37,x' is not LAT,LON"),
        (
            ["--depot", "52.37,4.89", "--fleet-size", "2", "--shift", "18:00-08:00"],
            "ends before it starts",
        ),
        (["--fleet-size", "2"], "needs both --fleet-size and --depot"),
        (["--vehicles", "nope.csv"], "nope.csv: no such file"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, args, expected):
    r = CliRunner().invoke(
        cli,
        [
            "plan",
            str(EXAMPLES / "orders.csv"),
            "--map",
            str(EXAMPLES / "city.graphml"),
            "--stores",
            str(EXAMPLES / "stores.csv"),
            "--out",
            str(tmp_path / "o"),
            *args,
        ],
    )
    assert r.exit_code == 2, r.output
    assert len(r.stderr.strip().splitlines()) == 1 and expected in r.stderr


def test_bad_map_exits_2(tmp_path):
    bad = tmp_path / "bad.osm"
    bad.write_text("not xml")
    r = CliRunner().invoke(
        cli,
        [
            "plan",
            str(EXAMPLES / "orders.csv"),
            "--map",
            str(bad),
            "--depot",
            "52.37,4.89",
            "--fleet-size",
            "1",
        ],
    )
    assert r.exit_code == 2 and "bad.osm" in r.stderr


def test_help_explains_every_plan_option():
    r = _run("plan", "--help")
    for option in (
        "--map",
        "--vehicles",
        "--fleet-size",
        "--capacity",
        "--depot",
        "--shift",
        "--stores",
        "--date",
        "--time-limit",
        "--seed",
        "--out",
    ):
        assert option in r.output
    assert r.exit_code == 0


def test_map_synth_writes_a_loadable_city(tmp_path):
    r = _run("map", "synth", tmp_path / "c.graphml", "--nodes", 200, "--seed", 2)
    assert r.exit_code == 0
    from fleetroute import maps

    assert maps.load(tmp_path / "c.graphml").n_nodes > 100


def test_map_prepare_builds_the_hierarchy_and_plans_stay_the_same(tmp_path, monkeypatch):
    """`route map prepare` caches the map's hierarchy; the day planned over it gives the
    same routes as Dial's search did; a missing map is one line and exit status 2."""
    monkeypatch.setenv("FLEETROUTE_CACHE_DIR", str(tmp_path / "cache"))
    day = [EXAMPLES / "orders.csv", "--map", EXAMPLES / "city.graphml", "--vehicles",
           EXAMPLES / "vehicles.csv", "--stores", EXAMPLES / "stores.csv", "--date",
           "2026-03-02", "--solution-limit", "5", "--workers", "1", "--quiet"]  # fmt: skip
    assert _run("plan", *day, "--out", tmp_path / "dial").exit_code == 0
    assert not list((tmp_path / "cache").glob("hierarchy-*.npz"))
    r = _run("map", "prepare", EXAMPLES / "city.graphml")
    assert r.exit_code == 0 and "hierarchy of" in r.output
    assert len(list((tmp_path / "cache").glob("hierarchy-*.npz"))) == 1
    assert _run("plan", *day, "--out", tmp_path / "ch").exit_code == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "ch" / "routes.csv"), pd.read_csv(tmp_path / "dial" / "routes.csv")
    )
    r = CliRunner().invoke(cli, ["map", "prepare", str(tmp_path / "nope.graphml")])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1
    assert "nope.graphml" in r.output


def test_plan_json_is_for_machines_and_quiet_prints_nothing(tmp_path):
    day = [EXAMPLES / "orders.csv", "--map", EXAMPLES / "city.graphml", "--vehicles",
           EXAMPLES / "vehicles.csv", "--stores", EXAMPLES / "stores.csv", "--date",
           "2026-03-02", "--solution-limit", "5", "--workers", "1"]  # fmt: skip
    r = _run("plan", *day, "--json", "--out", tmp_path / "a")
    assert r.exit_code == 0
    doc = json.loads(r.output)
    assert set(doc) == {"summary", "kpis", "vehicles", "unassigned", "search", "out"}
    assert doc["summary"]["assigned"] == 40
    assert doc["search"]["backend"] == "pyvrp" and doc["search"]["why"]
    assert sum(v["stops"] for v in doc["vehicles"]) == 40
    assert {"on time", "cost per order", "km per order", "fleet utilisation"} <= set(doc["kpis"])
    r = _run("plan", *day, "--quiet", "--out", tmp_path / "b")
    assert r.exit_code == 0 and r.output == ""
    assert (tmp_path / "b" / "routes.csv").is_file()


def test_plan_warns_once_per_lookalike_column_and_plans_with_the_constraints(tmp_path):
    orders = pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False)
    orders["weight"] = "4"
    orders["demand_kg"] = "9"
    vehicles = pd.read_csv(EXAMPLES / "vehicles.csv", dtype=str, keep_default_na=False)
    vehicles["capacity_kg"] = "100"  # 11 orders a van at most: kg binds before units
    orders.to_csv(tmp_path / "orders.csv", index=False)
    vehicles.to_csv(tmp_path / "vehicles.csv", index=False)
    out = tmp_path / "plan"
    r = CliRunner().invoke(
        cli,
        [
            "plan", str(tmp_path / "orders.csv"), "--map", str(EXAMPLES / "city.graphml"),
            "--vehicles", str(tmp_path / "vehicles.csv"), "--stores", str(EXAMPLES / "stores.csv"),
            "--date", "2026-03-02", "--solution-limit", "10", "--out", str(out),
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    lines = [x for x in r.stderr.splitlines() if x.startswith("warning:")]
    assert len(lines) == 1 and "column 'weight'" in lines[0] and "demand_<name>" in lines[0]
    routes = pd.read_csv(out / "routes.csv")
    assert routes["load_kg"].max() <= 100 and "weight" in routes.columns
    doc = json.loads((out / "plan.json").read_text())
    assert doc["inputs"]["warnings"] == [lines[0].removeprefix("warning: ")]
