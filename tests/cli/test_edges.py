"""Reliable at the edges: output folders as units, --out checked first, outputs that are
safe to open in a browser or a spreadsheet."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pandas as pd
import psutil
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from browser import body_marks
from conftest import EXAMPLE_DAY, EXAMPLES, PLAN_DATE
from fleetroute import FleetSpec, build_problem
from fleetroute.cli import cli
from fleetroute.io.cells import FORMULA_START, neutralise, restore

#: The example day without its orders (they are given as the argument).
DAY = EXAMPLE_DAY[2:]


def _run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def _plan(orders, out, *extra):
    r = _run("plan", orders, *DAY, "--solution-limit", "5", "--workers", "1", *extra,
             "--out", out)  # fmt: skip
    assert r.exit_code == 0, r.output
    return r


def _orders_with_ids(tmp_path, ids):
    orders = pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False)
    orders.loc[: len(ids) - 1, "order_id"] = ids
    path = tmp_path / "orders.csv"
    orders.to_csv(path, index=False)
    return path


def test_a_new_plan_replaces_the_previous_plans_files_and_views_together(tmp_path):
    out = tmp_path / "plan"
    _plan(EXAMPLES / "orders.csv", out, "--format", "geojson,html")
    _run("report", out)
    assert {"map.html", "routes.geojson", "report.html"} <= {p.name for p in out.iterdir()}
    (out / "notes.txt").write_text("mine")
    _plan(EXAMPLES / "orders.csv", out)
    # the earlier plan's views would draw its legs beside the new routes.csv
    assert sorted(p.name for p in out.iterdir()) == [
        "notes.txt", "plan.json", "routes.csv", "unassigned.csv"]  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]  # no temporary folder left


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda p: (p / "a-file").write_text("x") and p / "a-file" / "plan", "is a file"),
        (lambda p: (p / "a-file").write_text("x") and p / "a-file", "is a file"),
        (lambda p: "/proc/fleetroute-plan", "cannot write"),
    ],
    ids=["under-a-file", "a-file", "read-only"],
)
def test_an_out_folder_that_cannot_be_written_is_one_line_exit_2_before_any_work(
    tmp_path, make, expected
):
    out = make(tmp_path)
    # a time limit of an hour: the check must come before the search, not after it
    r = _run("plan", EXAMPLES / "orders.csv", *DAY, "--time-limit", "3600", "--out", out)
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "--out" in lines[0] and expected in lines[0], r.output


def test_ids_with_script_markup_neither_break_nor_run_in_the_map(tmp_path):
    ids = ["<!--<script>", "</script><img src=x onerror=alert(1)>", "a&b\u2028c"]
    out = tmp_path / "plan"
    _plan(_orders_with_ids(tmp_path, ids), out, "--format", "html")
    page = (out / "map.html").read_text()
    data = page[page.index("var DATA = ") : page.index("var TILES")]
    assert "<" not in data and ">" not in data and "\u2028" not in data
    marks = body_marks(out / "map.html")
    assert marks["errors"] == "0" and int(marks["stops"]) > 0


def test_cells_a_spreadsheet_would_run_are_neutralised_and_read_back_as_given(tmp_path):
    ids = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)",
           "-2+3", "'=already quoted"]  # fmt: skip
    orders = _orders_with_ids(tmp_path, ids)
    out = tmp_path / "plan"
    _plan(orders, out)
    for name in ("routes.csv", "unassigned.csv"):
        for line in (out / name).read_text().splitlines():
            for cell in line.split(","):
                assert not cell.lstrip('"').startswith(FORMULA_START), (name, cell)
    text = (out / "routes.csv").read_text()
    assert "'=HYPERLINK" in text and "'-2+3" in text
    # an apostrophe in the input marks text, as in a spreadsheet: the id is "=already quoted"
    planned = {s["order_id"] for r in json.loads((out / "plan.json").read_text())["routes"]
               for s in r["stops"]}  # fmt: skip
    assert {ids[0], "=already quoted"} <= planned
    # our own commands read the ids back as they were given
    r = _run("check", out / "routes.csv", "--orders", orders, *DAY, "--out", tmp_path / "c")
    assert r.exit_code == 0, r.output
    assert "0 violations" in r.output


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_neutralised_cells_read_back_exactly_and_never_start_a_formula(text):
    safe = neutralise(text)
    assert restore(safe) == text
    assert not safe.startswith(FORMULA_START) or _is_number(safe)


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killing_route_plan_ends_its_solver_workers(tmp_path, sig):
    """The searches run in worker processes; they must not outlive the command."""
    command = [sys.executable, "-m", "fleetroute", "plan", str(EXAMPLES / "orders.csv"), *DAY,
               "--time-limit", "60", "--workers", "2", "--backend", "pyvrp", "--quiet",
               "--out", str(tmp_path / "plan")]  # fmt: skip
    parent = subprocess.Popen(command)
    workers: list[psutil.Process] = []
    try:
        process = psutil.Process(parent.pid)
        deadline = time.monotonic() + 60
        while len(workers) < 2:
            assert time.monotonic() < deadline and parent.poll() is None, "no workers started"
            time.sleep(0.1)
            workers = process.children(recursive=True)
        parent.send_signal(sig)
        parent.wait(10)
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert alive == [], [w.cmdline() for w in alive]
    finally:  # only what this test started: pytest's other children (Dask's) live on
        parent.kill()
        for worker in workers:
            if worker.is_running():
                worker.kill()


def test_time_limit_and_solution_limit_together_are_refused_not_one_silently_ignored():
    r = _run("plan", EXAMPLES / "orders.csv", *DAY, "--time-limit", "5", "--solution-limit", "3")
    assert r.exit_code == 2
    assert "not both" in r.output and len(r.output.strip().splitlines()) == 1


def test_orders_at_one_address_share_one_row_of_the_matrices(example_map, tmp_path):
    """A parcel locker's 3,000 orders: a few places to plan between, not 3,000."""
    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(3000)], "lat": 52.361058,
                           "lon": 4.898321, "demand": 1})  # fmt: skip
    problem, _ = build_problem(orders, road_map=example_map, fleet=FleetSpec(
        size=60, depot=(52.369389, 4.888843), capacity=60), plan_date=PLAN_DATE)  # fmt: skip
    assert problem.n_orders == 3000 and problem.loc_lat.shape[0] == 2  # the depot, the locker
    assert problem.travel_s.shape == (2, 2)
    assert set(problem.order_loc.tolist()) == {1} and set(problem.start_loc.tolist()) == {0}


def test_a_day_that_would_not_fit_in_memory_is_refused_up_front(tmp_path, monkeypatch):
    monkeypatch.setenv("FLEETROUTE_MEMORY_GB", "0.25")
    out = tmp_path / "plan"
    r = _run("plan", EXAMPLES / "orders.csv", *DAY, "--solution-limit", "5", "--out", out)
    assert r.exit_code == 2, r.output
    line = r.output.strip()
    assert "orders.csv" in line and "GB of memory" in line and "0.2 GB is available" in line
    assert not out.exists()


@pytest.mark.parametrize("backend, workers", [("pyvrp", "2"), ("ortools", "1")])
def test_ctrl_c_during_the_search_writes_the_best_plan_so_far(tmp_path, backend, workers):
    out = tmp_path / "plan"
    command = [sys.executable, "-m", "fleetroute", "plan", str(EXAMPLES / "orders.csv"), *DAY,
               "--time-limit", "120", "--workers", workers, "--backend", backend, "--quiet",
               "--out", str(out)]  # fmt: skip
    parent = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        process, deadline = psutil.Process(parent.pid), time.monotonic() + 60
        # searching: the workers have started, or (one worker) the CPU is busy after loading
        while not (workers == "2" and len(process.children()) >= 2 or
                   workers == "1" and process.cpu_times().user > 4):  # fmt: skip
            assert time.monotonic() < deadline and parent.poll() is None, "no search started"
            time.sleep(0.1)
        time.sleep(2)
        started = time.monotonic()
        parent.send_signal(signal.SIGINT)
        _, err = parent.communicate(timeout=30)
        assert time.monotonic() - started < 15  # not the 120 s of the time limit
    finally:
        parent.kill()
    assert parent.returncode == 0, err
    assert "stopped early (Ctrl-C): wrote the best plan found so far" in err
    assert "Traceback" not in err
    doc = json.loads((out / "plan.json").read_text())
    assert doc["inputs"]["search"]["stopped_early"] is True
    assert doc["summary"]["assigned"] + doc["summary"]["unassigned"] == 40
    assert doc["summary"]["assigned"] > 30


def _plan_files(tmp_path, orders, vehicles):
    """`route plan` of orders.csv and vehicles.csv given as text, on the example city."""
    (tmp_path / "orders.csv").write_text(orders)
    (tmp_path / "vehicles.csv").write_text(vehicles)
    out = tmp_path / "plan"
    r = _run("plan", tmp_path / "orders.csv", "--map", EXAMPLES / "city.graphml", "--vehicles",
             tmp_path / "vehicles.csv", "--solution-limit", "1", "--out", out)  # fmt: skip
    assert r.exit_code == 0, r.output
    return out, r


def test_a_day_with_nothing_plannable_writes_routes_csv_with_its_header(tmp_path):
    """Found by the fuzz benchmark: no route at all crashed writing routes.csv."""
    out, _ = _plan_files(
        tmp_path, "order_id,lat,lon\no0,52.375,4.875\no1,52.375,4.875\n",
        "vehicle_id,depot_lat,depot_lon,capacity\nv1,52.375,4.875,0\n")  # fmt: skip
    routes = pd.read_csv(out / "routes.csv")
    assert len(routes) == 0 and list(routes.columns)[:3] == ["vehicle_id", "seq", "kind"]
    assert "largest vehicle holds 0" in (out / "unassigned.csv").read_text()


def test_nothing_plannable_with_extra_order_columns_keeps_them_in_the_header(tmp_path):
    """Found by the fuzz test in CI: with no stop at all, the extra columns' row index was
    an empty float array, and writing routes.csv crashed (exit 1)."""
    out, _ = _plan_files(
        tmp_path, "order_id,lat,lon,items,weight,note\no0,52.375,4.875,,,x\n",
        "vehicle_id,depot_lat,depot_lon,capacity\nv1,52.375,4.875,0\n")  # fmt: skip
    routes = pd.read_csv(out / "routes.csv")
    assert len(routes) == 0 and {"weight", "note"} <= set(routes.columns)


def test_a_window_opening_after_every_shift_ends_is_a_reason_not_a_crash(tmp_path):
    """Found by the fuzz benchmark: an open window end was filled with the fleet's last
    hour, before its start."""
    _, r = _plan_files(
        tmp_path, "order_id,lat,lon,window_start\no0,52.375,4.875,08:00\no1,52.37,4.88,\n",
        "vehicle_id,depot_lat,depot_lon,shift_end\nv0,52.375,4.875,06:00\n")  # fmt: skip
    assert "planned 1 of 2 orders" in r.output and "o0: no vehicle can deliver it" in r.output
