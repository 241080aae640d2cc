"""`route replan` and `route insert`: change a plan during the day from the command line."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import EXAMPLE_DAY
from fleetroute.cli import cli


def test_replan_at_noon_plans_only_what_is_left(example_routes, tmp_path, example_map):
    done = pd.DataFrame({"order_id": ["A001"], "kind": ["dropoff"]})
    done.to_csv(tmp_path / "done.csv", index=False)
    pos = pd.DataFrame({"vehicle_id": ["van1"], "lat": [52.37], "lon": [4.89]})
    pos.to_csv(tmp_path / "pos.csv", index=False)
    out = tmp_path / "re"
    r = CliRunner().invoke(
        cli,
        ["replan", str(example_routes), *EXAMPLE_DAY, "--now", "12:00",
         "--done", str(tmp_path / "done.csv"), "--positions", str(tmp_path / "pos.csv"),
         "--solution-limit", "10", "--workers", "1", "--out", str(out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    routes = pd.read_csv(out / "routes.csv")
    assert "A001" not in set(routes["order_id"].dropna())
    starts = routes[routes["kind"] == "start"]
    assert (starts["departure"] >= "2026-03-02T12:00:00").all()
    van1 = starts[starts["vehicle_id"] == "van1"]
    if len(van1):
        assert van1["lat"].iloc[0] == pytest.approx(52.37)
    doc = json.loads((out / "plan.json").read_text())
    assert doc["inputs"]["replanned_at"] == "2026-03-02T12:00:00"


def test_replan_names_a_bad_done_row(example_routes, tmp_path):
    pd.DataFrame({"order_id": ["A001"], "kind": ["delivered"]}).to_csv(
        tmp_path / "done.csv", index=False
    )
    r = CliRunner().invoke(
        cli,
        [
            "replan",
            str(example_routes),
            *EXAMPLE_DAY,
            "--now",
            "12:00",
            "--done",
            str(tmp_path / "done.csv"),
        ],
    )
    assert r.exit_code == 2
    assert "row 2, column 'kind'" in r.output
    assert "Traceback" not in r.output


def test_insert_puts_new_orders_in_and_leaves_the_rest(example_routes, tmp_path):
    new = pd.DataFrame(
        {
            "order_id": ["N1", "N2"],
            "lat": [52.372, 52.36],
            "lon": [4.893, 4.9],
            "store_id": ["", "S1"],
            "window_start": ["13:00", "12:00"],
            "window_end": ["15:30", "15:00"],
        }
    )
    new.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "ins"
    r = CliRunner().invoke(
        cli,
        [
            "insert",
            str(example_routes),
            *EXAMPLE_DAY,
            "--new",
            str(tmp_path / "new.csv"),
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    after = pd.read_csv(out / "routes.csv")
    before = pd.read_csv(example_routes)
    assert {"N1", "N2"} <= set(after["order_id"].dropna()) | set(
        pd.read_csv(out / "unassigned.csv")["order_id"]
    )
    # every old stop keeps its vehicle and its relative order
    for vid, rows in before[before["kind"] == "dropoff"].groupby("vehicle_id"):
        now = after[(after["vehicle_id"] == vid) & (after["kind"] == "dropoff")]["order_id"]
        assert [o for o in now if o not in ("N1", "N2")] == list(rows["order_id"])
