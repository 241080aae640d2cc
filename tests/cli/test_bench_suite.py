"""`route bench suite`: scenario days on synthetic cities, recorded and reported."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from fleetroute.cli import cli
from fleetroute.suite import compare

SCENARIOS = """
version = 7
[profiles]
tiny = ["grid-tiny", "organic-tiny-model"]

[[scenario]]
name = "grid-tiny"
nodes = 400
orders = 12
vehicles = 3
time_limit_s = 1

[[scenario]]
name = "organic-tiny-model"
nodes = 400
layout = "organic"
orders = 12
stores = 2
vehicles = 3
time_limit_s = 1
model_days = 2
"""


def test_suite_runs_each_scenario_and_writes_the_report(tmp_path):
    (tmp_path / "s.toml").write_text(SCENARIOS)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        cli,
        ["bench", "suite", "--scenarios", str(tmp_path / "s.toml"), "--profile", "tiny",
         "--out", str(out), "--cache", str(tmp_path / "cache")],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = pd.read_csv(out / "results.csv")
    assert list(rows["scenario"]) == ["grid-tiny", "organic-tiny-model"]
    assert rows["error"].isna().all()  # no scenario failed
    assert (rows["assigned"] == 12).all()  # every scenario ends with a plan
    # the stages are parts of the scenario's own run
    assert (rows["non_solver_s"] + rows["solve_s"] <= rows["wall_s"]).all()
    assert (rows["peak_mb"] > 0).all()
    # plans are judged by what they cost when driven in the true world
    assert (rows["true_cost_free_flow"] > 0).all()
    model = rows.set_index("scenario").loc["organic-tiny-model"]
    assert 0 <= model["on_time_model"] <= 1
    assert model["price_of_punctuality"] == model["true_cost_model"] / model["true_cost_free_flow"]
    # the learned plan's waiting for windows is part of its true cost (25 an hour here)
    assert 0 <= model["wait_h_model"] * 25 <= model["true_cost_model"]
    assert model["eta_travel_mae_s"] > 0 and model["free_flow_travel_mae_s"] > 0
    # the learned plan's own search time and served orders (the time limit is a promise)
    assert 0 < model["solve_s_model"] < model["wall_s"]
    assert model["assigned_model"] == 12
    doc = json.loads((out / "results.json").read_text())
    assert {"commit", "machine", "command", "rows"} <= set(doc)
    assert doc["rows"][0]["version"] == 7
    report = (out / "report.md").read_text()
    assert "grid-tiny" in report and "![on_time](on_time.png)" in report
    assert (out / "stage_time_vs_nodes.png").stat().st_size > 0

    # one named scenario, against the run above as the baseline
    again = tmp_path / "again"
    r = CliRunner().invoke(
        cli,
        ["bench", "suite", "--scenarios", str(tmp_path / "s.toml"), "--scenario", "grid-tiny",
         "--baseline", str(out), "--out", str(again), "--cache", str(tmp_path / "cache")],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert list(pd.read_csv(again / "results.csv")["scenario"]) == ["grid-tiny"]
    assert "## Against the baseline" in (again / "report.md").read_text()
    compared = pd.read_csv(again / "compare.csv")
    assert list(compared["scenario"]) == ["grid-tiny"]
    assert compared.loc[0, "cost_per_order then"] == rows.loc[0, "cost_per_order"]


def test_a_bad_scenarios_file_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "s.toml").write_text(SCENARIOS.replace("time_limit_s = 1\n", "time_limt = 1\n", 1))
    r = CliRunner().invoke(
        cli, ["bench", "suite", "--scenarios", str(tmp_path / "s.toml"), "--profile", "tiny"]
    )
    assert r.exit_code == 2
    assert "unknown key time_limt" in r.output and "Traceback" not in r.output
    (tmp_path / "s.toml").write_text(SCENARIOS)
    r = CliRunner().invoke(
        cli, ["bench", "suite", "--scenarios", str(tmp_path / "s.toml"), "--profile", "huge"]
    )
    assert r.exit_code == 2 and "no profile 'huge'" in r.output


def test_the_baseline_comparison_flags_only_changes_beyond_the_noise():
    base = pd.DataFrame(
        [
            {"scenario": "a", "non_solver_s": 10.0, "peak_mb": 500.0, "cost_per_order": 8.0,
             "on_time_free_flow": 0.90},
            {"scenario": "b", "non_solver_s": 0.2, "peak_mb": 500.0, "cost_per_order": 8.0,
             "on_time_free_flow": 0.90},
        ]
    )  # fmt: skip
    now = base.copy()
    now["error"] = ""
    now.loc[0, ["non_solver_s", "cost_per_order", "on_time_free_flow"]] = [14.0, 8.4, 0.80]
    now.loc[1, ["non_solver_s", "peak_mb", "cost_per_order"]] = [0.5, 590.0, 8.2]
    diff = compare(now, base).set_index("scenario")
    worse = diff.loc["a", "worse"]
    assert "slower" in worse and "costlier" in worse and "less on time (90% -> 80%)" in worse
    # 0.2 s -> 0.5 s is jitter; +18% memory and +2.5% cost are within the margins
    assert diff.loc["b", "worse"] == ""


def test_best_known_runs_count_only_on_the_times_they_were_planned_on():
    """The suite's gap to a best-known learned plan needs the same ETA, model and band
    width; an entry from before the width was recorded was planned on 2-hour bands."""
    from fleetroute.suite import recorded_on

    times = {"eta": "lightgbm q0.65", "digest": "abc", "band_h": 1.0}
    entry = {"model_eta": "lightgbm q0.65", "model_digest": "abc", "model_band_h": 1.0}
    assert recorded_on(entry, "model", times)
    assert not recorded_on({**entry, "model_digest": "retrained"}, "model", times)
    unrecorded = {k: v for k, v in entry.items() if k != "model_band_h"}
    assert not recorded_on(unrecorded, "model", times)
    assert recorded_on(unrecorded, "model", {**times, "band_h": 2.0})
    assert recorded_on({}, "free_flow", {})  # free-flow times need no record
