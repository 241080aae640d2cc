"""`route simulate`, `route eta train|predict|evaluate` and `route plan --eta-model`, end to end."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from fleetroute.cli import cli
from spec_checks import assert_plan_valid


def _run(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args])
    assert r.exit_code == 0, r.output + r.stderr
    return r


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """A small city, its history, a trained model and a day of orders, all via the CLI."""
    d = tmp_path_factory.mktemp("loop")
    _run("map", "synth", d / "city.graphml", "--nodes", 500, "--seed", 11)
    _run(
        "simulate",
        "history",
        "--map",
        d / "city.graphml",
        "--days",
        8,
        "--trips-per-day",
        300,
        "--stops-per-day",
        200,
        "--out",
        d / "hist",
    )
    _run(
        "simulate",
        "history",
        "--map",
        d / "city.graphml",
        "--days",
        1,
        "--trips-per-day",
        200,
        "--stops-per-day",
        100,
        "--start",
        "2026-02-02",
        "--seed",
        9,
        "--out",
        d / "later",
    )
    _run(
        "eta",
        "train",
        "--map",
        d / "city.graphml",
        "--trips",
        d / "hist" / "trips.csv",
        "--stops",
        d / "hist" / "stops.csv",
        "--out",
        d / "model",
    )
    _run(
        "simulate",
        "orders",
        "--map",
        d / "city.graphml",
        "--stores",
        d / "hist" / "stores.csv",
        "--orders",
        30,
        "--out",
        d / "orders.csv",
    )
    return d


def test_train_writes_a_bundle(loop):
    files = {p.name for p in (loop / "model").iterdir()}
    assert {"manifest.json", "travel_q50.txt", "travel_q90.txt", "service_q50.txt"} <= files


def test_predict_writes_spec_tables(loop):
    _run(
        "eta",
        "predict",
        "--model",
        loop / "model",
        "--map",
        loop / "city.graphml",
        "--trips",
        loop / "later" / "trips.csv",
        "--stops",
        loop / "later" / "stops.csv",
        "--out",
        loop / "pred",
    )
    trips = pd.read_csv(loop / "pred" / "trips.csv")
    stops = pd.read_csv(loop / "pred" / "stops.csv")
    assert list(trips.columns) == ["trip_id", "predicted_s", "p90_s"] and len(trips) == 200
    assert list(stops.columns) == ["stop_id", "predicted_s", "p90_s"] and len(stops) == 100


def test_evaluate_writes_the_spec_metrics(loop):
    out = loop / "eval.json"
    plot = loop / "eval.png"
    r = _run(
        "eta",
        "evaluate",
        "--plot",
        plot,
        "--model",
        loop / "model",
        "--map",
        loop / "city.graphml",
        "--trips",
        loop / "later" / "trips.csv",
        "--stops",
        loop / "later" / "stops.csv",
        "--json",
        out,
    )
    doc = json.loads(out.read_text())
    for key in ("mae_s", "mape", "p90_coverage"):
        assert doc["travel"][key] is not None
    assert (
        doc["service"]["mae_s"] > 0 and doc["baseline"]["travel"]["mae_s"] > doc["travel"]["mae_s"]
    )
    assert "MAE" in r.output
    # P90 coverage per two-hour band, the bands the rows fall in, adding up to the whole
    bands = doc["p90_coverage_by_band"]["travel"]
    assert len(bands) == 12 and "08-10" in bands
    seen = [c for c in bands.values() if c is not None]
    assert seen and all(0 <= c <= 1 for c in seen)
    assert "P90 coverage by 2-hour band" in r.output
    manifest = json.loads((loop / "model" / "manifest.json").read_text())
    assert set(manifest["calibration"]["travel"]) == {"0.9"}  # 0.65 is left as learned
    assert len(manifest["calibration"]["service"]["0.9"]) == 12
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plan_with_the_model_uses_time_bands_and_keeps_every_identity(loop):
    import fleetroute
    from fleetroute.eta_model.learned import LearnedEta

    road_map = fleetroute.maps.load(loop / "city.graphml")
    eta = LearnedEta.load(loop / "model", road_map, quantile=0.9)
    depot = (float(road_map.lat.mean()), float(road_map.lon.mean()))
    fleet = fleetroute.FleetSpec(size=4, depot=depot, capacity=40, shift=(8 * 3600, 22 * 3600))
    plan = fleetroute.plan(
        loop / "orders.csv",
        fleet=fleet,
        road_map=road_map,
        stores=loop / "hist" / "stores.csv",
        eta=eta,
        time_limit_s=5,
        solution_limit=20,
    )
    assert plan.problem.n_bands == 14  # 08:00-22:00 in 1 h bands
    assert_plan_valid(plan)
    assert plan.to_dict()["inputs"]["model"] == "lightgbm q0.9"
    r = _run(
        "plan",
        loop / "orders.csv",
        "--map",
        loop / "city.graphml",
        "--stores",
        loop / "hist" / "stores.csv",
        "--fleet-size",
        4,
        "--capacity",
        40,
        "--depot",
        f"{depot[0]},{depot[1]}",
        "--shift",
        "08:00-22:00",
        "--eta-model",
        loop / "model",
        "--eta-quantile",
        "0.9",
        "--solution-limit",
        5,
        "--out",
        loop / "plan",
    )
    assert (loop / "plan" / "routes.csv").exists()
    # the model's spreads forecast how many promises the plan keeps, in plan.json and shown
    forecast = json.loads((loop / "plan" / "plan.json").read_text())["summary"]["on_time_forecast"]
    assert 0.0 < forecast <= 1.0 and "on time, forecast" in r.output


def _needs_a_model(loop, option: str, value: str) -> None:
    """``option`` without --eta-model is bad input naming it, and nothing is written."""
    out = loop / f"no-model{option}"
    r = CliRunner().invoke(
        cli,
        ["plan", str(loop / "orders.csv"), "--map", str(loop / "city.graphml"),
         "--fleet-size", "2", "--depot", "52.37,4.89", option, value, "--out", str(out)],
    )  # fmt: skip
    assert r.exit_code == 2 and option in r.stderr and not out.exists()


def test_a_margin_keeps_each_drop_off_that_long_before_its_window_closes(loop):
    """`--eta-margin 600`: the plan starts every drop-off at least 10 minutes before its
    window closes, promises the customers' own windows, and says so in plan.json. (On
    this Sunday a shop re-timed to its hour pushed a drop-off 403 s before its window's
    end; such an order is taken out and placed again with its margin.)"""
    _run(
        "plan", loop / "orders.csv", "--map", loop / "city.graphml",
        "--stores", loop / "hist" / "stores.csv", "--fleet-size", 4, "--capacity", 40,
        "--depot", "52.37,4.89", "--shift", "08:00-22:00", "--eta-model", loop / "model",
        "--eta-quantile", "0.5", "--eta-margin", 600, "--solution-limit", 5,
        "--date", "2026-12-06", "--out", loop / "plan-margin",
    )  # fmt: skip
    doc = json.loads((loop / "plan-margin" / "plan.json").read_text())
    assert doc["inputs"]["model"] == "lightgbm q0.5 +600s" and doc["inputs"]["margin_s"] == 600
    routes = pd.read_csv(loop / "plan-margin" / "routes.csv", keep_default_na=False)
    drops = routes[routes["kind"] == "dropoff"]
    orders = pd.read_csv(loop / "orders.csv", keep_default_na=False).set_index("order_id")
    assert len(drops) > 0
    promised = orders.loc[drops["order_id"], "window_end"].to_numpy()
    assert (drops["window_end"].str[-8:-3].to_numpy() == promised).all()  # HH:MM of the ISO
    start = pd.to_datetime(drops["arrival"]) + pd.to_timedelta(drops["wait_s"], unit="s")
    assert (start <= pd.to_datetime(drops["window_end"]) - pd.Timedelta(seconds=600)).all()
    _needs_a_model(loop, "--eta-margin", "600")


def test_a_late_chance_plans_on_the_median_with_each_stops_own_margin(loop):
    """`--eta-late-chance 0.1`: the plan is made on the median, each drop-off given the
    margin its route's spread asks for (plan.json says how many and how the searches
    went); without a model the option is bad input."""
    _run(
        "plan", loop / "orders.csv", "--map", loop / "city.graphml",
        "--stores", loop / "hist" / "stores.csv", "--fleet-size", 4, "--capacity", 40,
        "--depot", "52.37,4.89", "--shift", "08:00-22:00", "--eta-model", loop / "model",
        "--eta-late-chance", "0.1", "--solution-limit", 5, "--out", loop / "plan-risk",
    )  # fmt: skip
    doc = json.loads((loop / "plan-risk" / "plan.json").read_text())
    assert doc["inputs"]["model"] == "lightgbm q0.5 late<=0.1"
    assert doc["inputs"]["late_chance"] == 0.1
    risk = doc["inputs"]["search"]["risk_margins"]
    assert risk["orders_with_margin"] > 0 and risk["mean_margin_s"] > 0
    routes = pd.read_csv(loop / "plan-risk" / "routes.csv", keep_default_na=False)
    assert (routes["kind"] == "dropoff").sum() > 0
    _needs_a_model(loop, "--eta-late-chance", "0.1")


def test_a_quantile_outside_the_learned_ones_is_bad_input(loop):
    """Between the lowest and highest learned quantile any planning quantile blends them;
    beyond them the option is bad input."""
    r = CliRunner().invoke(
        cli,
        [
            "plan",
            str(loop / "orders.csv"),
            "--map",
            str(loop / "city.graphml"),
            "--stores",
            str(loop / "hist" / "stores.csv"),
            "--fleet-size",
            "2",
            "--depot",
            "52.37,4.89",
            "--eta-model",
            str(loop / "model"),
            "--eta-quantile",
            "0.95",
            "--out",
            str(loop / "x"),
        ],
    )
    assert r.exit_code == 2 and not (loop / "x").exists()
    assert "plan on one from 0.5 to 0.9" in r.stderr
    assert "--eta-quantile" in r.stderr  # the option named, from the error's parameter


def test_bad_history_row_is_named(loop, tmp_path):
    stops = pd.read_csv(loop / "hist" / "stops.csv", keep_default_na=False).head(60)
    stops.loc[7, "kind"] = "lunch"
    stops.to_csv(tmp_path / "stops.csv", index=False)
    r = CliRunner().invoke(
        cli,
        [
            "eta",
            "train",
            "--map",
            str(loop / "city.graphml"),
            "--trips",
            str(loop / "hist" / "trips.csv"),
            "--stops",
            str(tmp_path / "stops.csv"),
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert r.exit_code == 2 and "row 9, column 'kind': 'lunch' is not shop or dropoff" in r.stderr
    assert not (tmp_path / "m").exists()


def test_monitor_keeps_a_model_that_is_still_right(loop, tmp_path):
    later = loop / "later"
    r = _run("eta", "monitor", "--model", loop / "model", "--map", loop / "city.graphml",
             "--trips", later / "trips.csv", "--stops", later / "stops.csv",
             "--out", tmp_path / "mon")  # fmt: skip
    doc = json.loads((tmp_path / "mon" / "monitor.json").read_text())
    assert doc["drift"] is False and doc["verdict"].startswith("keep the model")
    assert doc["latest_day"] == "2026-02-02"
    assert "keep the model" in r.output


def test_monitor_flags_drift_and_train_restarts_from_the_latest_actuals(loop, tmp_path):
    """Traffic got 70% slower after training: the monitor says retrain; a model trained on
    the latest days only (--last-days) fits the new world again."""
    _run("simulate", "history", "--map", loop / "city.graphml", "--days", 3,
         "--trips-per-day", 300, "--stops-per-day", 200, "--start", "2026-02-02",
         "--seed", 5, "--out", tmp_path / "after")  # fmt: skip
    slow = tmp_path / "slow"
    slow.mkdir()
    for name, key in (("trips", "trip_id"), ("stops", "stop_id")):
        frame = pd.read_csv(tmp_path / "after" / f"{name}.csv")
        frame["duration_s"] = (frame["duration_s"] * 1.7).round(1)
        frame[key] = "new-" + frame[key].astype(str)  # ids stay unique beside the old history
        frame.to_csv(slow / f"{name}.csv", index=False)
    watch = ["--map", loop / "city.graphml", "--trips", slow / "trips.csv",
             "--stops", slow / "stops.csv"]  # fmt: skip
    _run("eta", "monitor", "--model", loop / "model", *watch, "--out", tmp_path / "mon")
    doc = json.loads((tmp_path / "mon" / "monitor.json").read_text())
    assert doc["drift"] is True and doc["verdict"].startswith("retrain: on 2026-02-04")
    assert [d["day"] for d in doc["by_day"]] == ["2026-02-02", "2026-02-03", "2026-02-04"]
    assert all(d["travel_ratio"] > 1.25 for d in doc["by_day"])
    assert (tmp_path / "mon" / "error_trend.png").stat().st_size > 0
    by_hour = pd.read_csv(tmp_path / "mon" / "by_hour.csv")
    assert by_hour["trips"].sum() == len(pd.read_csv(slow / "trips.csv"))

    both = tmp_path / "both"
    both.mkdir()
    for name in ("trips", "stops"):
        pd.concat(
            [pd.read_csv(loop / "hist" / f"{name}.csv"), pd.read_csv(slow / f"{name}.csv")]
        ).to_csv(both / f"{name}.csv", index=False)
    _run("eta", "train", "--map", loop / "city.graphml", "--trips", both / "trips.csv",
         "--stops", both / "stops.csv", "--last-days", 3, "--out", tmp_path / "new")  # fmt: skip
    manifest = json.loads((tmp_path / "new" / "manifest.json").read_text())
    assert manifest["training_period"][0].startswith("2026-02-02")
    _run("eta", "monitor", "--model", tmp_path / "new", *watch, "--out", tmp_path / "mon2")
    again = json.loads((tmp_path / "mon2" / "monitor.json").read_text())
    assert again["by_day"][-1]["travel_ratio"] < 1.25


def test_batch_and_partitions_plan_with_the_model_on_the_workers(loop, tmp_path):
    """The model goes to the Dask workers with the map: a batch day and an auto-partitioned
    day are planned on its P90 bands, as plan.json says."""
    days = tmp_path / "days"
    days.mkdir()
    (days / "mon.csv").write_text((loop / "orders.csv").read_text())
    common = ["--map", loop / "city.graphml", "--stores", loop / "hist" / "stores.csv",
              "--fleet-size", 4, "--capacity", 40, "--depot", "52.37,4.89", "--shift",
              "08:00-22:00", "--eta-model", loop / "model", "--eta-quantile", "0.9",
              "--solution-limit", 5, "--dask-workers", 1]  # fmt: skip
    _run("batch", days, *common, "--out", tmp_path / "batch")
    doc = json.loads((tmp_path / "batch" / "mon" / "plan.json").read_text())
    assert doc["inputs"]["model"] == "lightgbm q0.9" and doc["summary"]["assigned"] > 0
    _run("plan", loop / "orders.csv", *common, "--partition", "auto", "--out", tmp_path / "p")
    doc = json.loads((tmp_path / "p" / "plan.json").read_text())
    assert doc["inputs"]["model"] == "lightgbm q0.9"
    assert doc["inputs"]["partitions"]["depot-1"]["status"] == "planned"
    assert doc["summary"]["assigned"] + doc["summary"]["unassigned"] == 30
    # the day's forecast is its partitions' (one here)
    part = doc["inputs"]["partitions"]["depot-1"]["summary"]
    assert doc["summary"]["on_time_forecast"] == part["on_time_forecast"] > 0.5
