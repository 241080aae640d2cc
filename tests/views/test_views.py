"""What people see: GeoJSON, the HTML map and the plan report, checked in real tools
(geopandas reads the GeoJSON; headless Chromium runs the pages)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.image import imread

from browser import body_marks, screenshot
from conftest import EXAMPLE_DAY, EXAMPLES, PLAN_DATE
from fleetroute import plan
from fleetroute.cli import cli
from fleetroute.views import map_html, plan_geojson
from fleetroute.views.geojson import PALETTE


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("views") / "plan"
    args = ["plan", str(EXAMPLES / "orders.csv"), *EXAMPLE_DAY[2:], "--solution-limit", "10",
            "--workers", "1", "--format", "geojson,html", "--out", str(out)]  # fmt: skip
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    return out


def test_routes_geojson_is_valid_and_follows_the_roads(plan_dir, example_map):
    frame = gpd.read_file(plan_dir / "routes.geojson")
    routes = pd.read_csv(plan_dir / "routes.csv", keep_default_na=False)
    legs = frame[frame["feature"] == "leg"]
    stops = frame[frame["feature"] == "stop"]
    assert (legs.geom_type == "LineString").all() and (stops.geom_type == "Point").all()
    assert len(stops) == (~routes["kind"].isin(["start", "end"])).sum()
    assert len(legs) == (routes["distance_m"] > 0).sum()  # one line per leg driven
    # lines run along the roads: more vertices than the two stops, and their drawn length
    # (metres, in a local projection) is the leg's road distance from routes.csv plus the
    # two short straight links from each stop to the road node it was snapped to
    assert legs.geometry.apply(lambda g: len(g.coords)).mean() > 4
    drawn = legs.to_crs(legs.estimate_utm_crs()).length.to_numpy()
    ends = np.array([[g.coords[0], g.coords[-1]] for g in legs.geometry])  # (leg, end, lon/lat)
    _, link_a = example_map.snap(ends[:, 0, 1], ends[:, 0, 0])
    _, link_b = example_map.snap(ends[:, 1, 1], ends[:, 1, 0])
    np.testing.assert_allclose(drawn, legs["distance_m"] + link_a + link_b, rtol=0.02, atol=3)
    assert set(frame["feature"]) >= {"leg", "stop", "depot", "store"}
    assert set(legs["colour"]) <= set(PALETTE)


def test_unassigned_orders_are_grey_points_with_their_reason(example_map):
    orders = pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False)
    orders.loc[0, "demand"] = "999"  # no van carries this
    result = plan(
        orders, EXAMPLES / "vehicles.csv", road_map=example_map,
        stores=EXAMPLES / "stores.csv", plan_date=PLAN_DATE, solution_limit=5, workers=1,
    )  # fmt: skip
    features = plan_geojson(result, example_map)["features"]
    grey = [f["properties"] for f in features if f["properties"]["feature"] == "unassigned"]
    assert [g["order_id"] for g in grey] == [orders.loc[0, "order_id"]]
    assert "capacity" in grey[0]["reason"]


def test_stops_carry_the_skills_their_order_needs(example_map):
    orders = pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False)
    orders["skills"] = ""
    orders.loc[0, "skills"] = "frozen;heavy"
    vehicles = pd.read_csv(EXAMPLES / "vehicles.csv", dtype=str, keep_default_na=False)
    vehicles["skills"] = "frozen;heavy"
    result = plan(
        orders, vehicles, road_map=example_map, stores=EXAMPLES / "stores.csv",
        plan_date=PLAN_DATE, solution_limit=5, workers=1,
    )  # fmt: skip
    stops = [
        f["properties"]
        for f in plan_geojson(result, example_map)["features"]
        if f["properties"]["feature"] == "stop" and f["properties"]["kind"] == "dropoff"
    ]
    shown = {s["order_id"]: s["skills"] for s in stops}
    assert shown.pop(orders.loc[0, "order_id"]) == "frozen;heavy"
    assert set(shown.values()) == {""}


def test_the_map_page_runs_offline_and_shows_the_routes(plan_dir):
    marks = body_marks(plan_dir / "map.html")
    geojson = json.loads((plan_dir / "routes.geojson").read_text())
    legs = sum(f["properties"]["feature"] == "leg" for f in geojson["features"])
    assert marks["errors"] == "0"
    assert int(marks["legs"]) == legs and int(marks["stops"]) > 0
    png = imread(screenshot(plan_dir / "map.html", "map.png"))
    colours = {f["properties"].get("colour") for f in geojson["features"]} - {None}
    for colour in colours:  # every vehicle's colour is on screen
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
        assert (np.abs(png[..., :3] - rgb).max(axis=-1) < 0.03).sum() > 50, colour


def test_the_map_page_draws_without_tiles_and_with_no_routes(tmp_path):
    page = tmp_path / "empty.html"
    page.write_text(map_html({"type": "FeatureCollection", "features": []}, tiles=False))
    marks = body_marks(page)
    assert marks == {"errors": "0", "legs": "0", "stops": "0"}


def test_route_report_writes_one_page_with_kpis_map_table_and_timeline(plan_dir):
    r = CliRunner().invoke(cli, ["report", str(plan_dir)])
    assert r.exit_code == 0, r.output
    page = plan_dir / "report.html"
    text = page.read_text()
    for part in ("on time", "cost per order", "km per order", "fleet utilisation", "<svg",
                 "<h2>Vehicles</h2>", "van1"):  # fmt: skip
        assert part in text
    marks = body_marks(page)
    assert marks["errors"] == "0" and int(marks["legs"]) > 0
    screenshot(page, "report.png", size="1100,1600")


def test_bad_views_and_folders_are_one_line_exit_2(tmp_path):
    r = CliRunner().invoke(cli, ["plan", str(EXAMPLES / "orders.csv"), *EXAMPLE_DAY[2:],
                                 "--format", "geojson,pdf"])  # fmt: skip
    assert r.exit_code == 2 and "unknown format 'pdf'" in r.output
    r = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert r.exit_code == 2 and "routes.csv: no such file" in r.output
    assert "Traceback" not in r.output
