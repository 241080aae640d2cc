"""`route batch`: a folder of days as one Dask job on a local cluster of two workers."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from conftest import EXAMPLE_DAY, EXAMPLES, example_plan
from fleetroute.cli import cli


def test_batch_plans_each_day_once_names_the_day_that_fails_and_resumes(tmp_path, example_map):
    days = tmp_path / "days"
    days.mkdir()
    orders = pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False)
    orders.to_csv(days / "monday.csv", index=False)
    orders.iloc[:15].to_csv(days / "tuesday.csv", index=False)
    bad = orders.copy()
    bad.loc[3, "lat"] = "north"
    bad.to_csv(days / "wednesday.csv", index=False)
    out = tmp_path / "out"
    args = ["batch", str(days), *EXAMPLE_DAY[2:], "--backend", "ortools", "--solution-limit",
            "10", "--dask-workers", "2", "--out", str(out)]  # fmt: skip

    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 1, r.output
    assert "wednesday: FAILED:" in r.output and "row 5, column 'lat'" in r.output
    doc = {d["name"]: d for d in json.loads((out / "batch.json").read_text())["days"]}
    assert {n: d["status"] for n, d in doc.items()} == {
        "monday": "planned", "tuesday": "planned", "wednesday": "failed",
    }  # fmt: skip
    assert doc["tuesday"]["summary"]["assigned"] == 15
    assert not (out / "wednesday").exists()  # nothing half-written for the failed day

    # the same day planned in this process, same options: the same routes
    alone = example_plan(example_map, backend="ortools", solution_limit=10, workers=1)
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "monday" / "routes.csv", dtype=str, keep_default_na=False),
        alone.routes_table().astype(str),
        check_dtype=False,
    )

    # a rerun skips the planned days and tries the failed one again
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 1
    assert "monday: already planned" in r.output and "tuesday: already planned" in r.output
    assert "wednesday: FAILED" in r.output
