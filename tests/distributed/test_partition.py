"""Partitioned planning on a Dask LocalCluster of two workers: each zone or depot planned as
its own problem gives the same routes as planning it alone, a failing partition is named
while the others complete, and bad input is refused before any task runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import fleetroute
from conftest import EXAMPLE_DAY, EXAMPLES, PLAN_DATE
from fleetroute.cli import cli
from fleetroute.distributed.partition import plan_partitioned, split
from fleetroute.routing.combined import PlanTables

#: A deterministic search: OR-Tools stops after this many solutions, one search each.
SEARCH = {"backend": "ortools", "solution_limit": 10, "workers": 1}


@pytest.fixture(scope="module")
def zoned(tmp_path_factory):
    """The example day cut into west and east zones (two vans each), plus a south zone
    whose van is based 60 km off the map."""
    root = tmp_path_factory.mktemp("zoned")
    orders = pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False)
    lon = orders["lon"].astype(float)
    orders["zone"] = np.where(lon < lon.median(), "west", "east")
    orders.loc[orders.index[-3:], "zone"] = "south"
    vehicles = pd.read_csv(EXAMPLES / "vehicles.csv", dtype=str, keep_default_na=False)
    vehicles["zone"] = ["west", "east", "west", "east"]
    far = vehicles.iloc[[0]].assign(vehicle_id="van9", depot_lat="51.8", zone="south")
    pd.concat([vehicles, far]).to_csv(root / "vehicles.csv", index=False)
    orders.to_csv(root / "orders.csv", index=False)
    return root


def test_each_partition_planned_on_the_cluster_equals_planning_it_alone(
    zoned, dask_cluster, example_map
):
    result = plan_partitioned(
        zoned / "orders.csv", zoned / "vehicles.csv", road_map=example_map, by="zone",
        stores=EXAMPLES / "stores.csv", plan_date=PLAN_DATE,
        scheduler=dask_cluster.scheduler_address, **SEARCH,
    )  # fmt: skip
    assert list(result.parts) == ["east", "west"] or list(result.parts) == ["west", "east"]
    orders = pd.read_csv(zoned / "orders.csv", dtype=str, keep_default_na=False)
    vehicles = pd.read_csv(zoned / "vehicles.csv", dtype=str, keep_default_na=False)
    table = result.routes_table()
    for zone, part in result.parts.items():
        alone = fleetroute.plan(
            orders[orders["zone"] == zone], vehicles[vehicles["zone"] == zone],
            road_map=example_map, stores=EXAMPLES / "stores.csv", plan_date=PLAN_DATE, **SEARCH,
        )  # fmt: skip
        pd.testing.assert_frame_equal(part.routes_table(), alone.routes_table())
        assert part.summary() == {**alone.summary(), "solve_time_s": part.summary()["solve_time_s"]}
        assert isinstance(part, PlanTables)  # only the tables came back from the worker
        mine = table[table["partition"] == zone].drop(columns="partition")
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), alone.routes_table())
        assert set(mine["vehicle_id"]) <= set(vehicles.loc[vehicles["zone"] == zone, "vehicle_id"])

    # the south zone failed on its worker: named, its orders unassigned with the reason
    assert list(result.failed) == ["south"]
    # ... with the row of the whole vehicles.csv, not of the zone's slice of it
    assert "vehicles.csv: row 6, column 'depot_lat'" in result.failed["south"]
    lost = result.unassigned_table().set_index("order_id")
    south = orders.loc[orders["zone"] == "south", "order_id"]
    for order_id in south:
        assert lost.loc[order_id, "partition"] == "south"
        assert "its partition 'south' could not be planned" in lost.loc[order_id, "reason"]
    s = result.summary()
    assert s["orders"] == 40 and s["assigned"] + s["unassigned"] == 40
    assert s["failed_partitions"] == ["south"] and s["partitions"] == 3
    assert s["objective"] == pytest.approx(sum(p.objective for p in result.parts.values()))


def test_keep_plans_brings_each_whole_plan_back(zoned, dask_cluster, example_map):
    kept = plan_partitioned(
        zoned / "orders.csv", zoned / "vehicles.csv", road_map=example_map, by="zone",
        stores=EXAMPLES / "stores.csv", plan_date=PLAN_DATE, keep_plans=True,
        scheduler=dask_cluster.scheduler_address, **SEARCH,
    )  # fmt: skip
    west = kept.parts["west"]
    assert isinstance(west, fleetroute.Plan)
    # a whole plan can be worked on further: one more order into the west zone
    first = west.routes_table().query("kind == 'dropoff'").iloc[0]
    more = fleetroute.insert_order(
        west, {"order_id": "N1", "lat": first["lat"], "lon": first["lon"]}, road_map=example_map
    )
    assert more.summary()["assigned"] == west.summary()["assigned"] + 1
    pd.testing.assert_frame_equal(
        kept.routes_table(), pd.concat(
            [p.routes_table().assign(partition=n) for n, p in kept.parts.items()],
            ignore_index=True,
        ),
    )  # fmt: skip


def test_auto_sends_each_order_to_its_nearest_depot(tmp_path, example_map):
    vehicles = pd.read_csv(EXAMPLES / "vehicles.csv", dtype=str, keep_default_na=False)
    orders = pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False)
    # a second depot at the example's north-eastern-most order
    north = orders.iloc[int(np.argmax(orders["lat"].astype(float) + orders["lon"].astype(float)))]
    vehicles.loc[2:, ["depot_lat", "depot_lon"]] = [north["lat"], north["lon"]]
    parts, left_out = split(
        orders, vehicles, by="auto", road_map=example_map, stores=EXAMPLES / "stores.csv",
        plan_date=PLAN_DATE,
    )  # fmt: skip
    assert [p.name for p in parts] and left_out.empty
    assert {p.name for p in parts} == {"depot-1", "depot-2"}
    depots = {"depot-1": vehicles.iloc[0], "depot-2": vehicles.iloc[2]}
    d_node, _ = example_map.snap(
        [float(depots[k]["depot_lat"]) for k in sorted(depots)],
        [float(depots[k]["depot_lon"]) for k in sorted(depots)],
    )
    for part in parts:
        assert set(part.vehicles["vehicle_id"]) == (
            {"van1", "van2"} if part.name == "depot-1" else {"van3", "van4"}
        )
        o_node, _ = example_map.snap(
            part.orders["lat"].astype(float), part.orders["lon"].astype(float)
        )
        travel, _ = example_map.matrix(d_node, o_node)
        mine = sorted(depots).index(part.name)
        assert (travel[mine] <= travel[1 - mine]).all()
        # an order's store comes with it, and only the stores its orders use
        used = set(part.orders["store_id"]) - {""}
        assert set(part.stores["store_id"]) == used


def test_a_bad_cell_is_named_with_its_row_before_any_partition_runs(zoned, tmp_path, example_map):
    def refusal(orders, by="zone"):
        """The InputError split raises for these orders (written to a file first)."""
        path = tmp_path / "orders.csv"
        orders.to_csv(path, index=False)
        with pytest.raises(fleetroute.InputError) as err:
            split(path, zoned / "vehicles.csv", by=by, road_map=example_map,
                  stores=EXAMPLES / "stores.csv", plan_date=PLAN_DATE)  # fmt: skip
        return err.value

    orders = pd.read_csv(zoned / "orders.csv", dtype=str, keep_default_na=False)
    orders.loc[30, "window_end"] = "25:00"
    err = refusal(orders)
    assert err.row == 32 and err.column == "window_end"
    orders.loc[30, "window_end"] = ""
    orders.loc[7, "zone"] = ""
    assert "row 9, column 'zone'" in str(refusal(orders))
    orders.loc[7, "zone"] = "west"
    orders.loc[11, "store_id"] = "S9"
    assert "row 13, column 'store_id'" in str(refusal(orders))
    orders.loc[11, "store_id"] = ""
    assert "has no 'depot_id' column" in str(refusal(orders, by="depot_id"))


def test_route_plan_partition_writes_one_plan_and_names_the_failed_zone(zoned, tmp_path):
    out = tmp_path / "out"
    args = ["plan", str(zoned / "orders.csv"), *EXAMPLE_DAY[2:4], "--vehicles",
            str(zoned / "vehicles.csv"), *EXAMPLE_DAY[6:], "--partition", "zone",
            "--dask-workers", "2", "--backend", "ortools", "--solution-limit", "10",
            "--format", "geojson", "--out", str(out)]  # fmt: skip
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert "partition south: FAILED:" in r.output and "row 6, column 'depot_lat'" in r.output
    assert "partition west: " in r.output and "partition east: " in r.output
    routes = pd.read_csv(out / "routes.csv", dtype=str, keep_default_na=False)
    assert set(routes["partition"]) == {"west", "east"}
    doc = json.loads((out / "plan.json").read_text())
    assert doc["summary"]["orders"] == 40 and doc["summary"]["failed_partitions"] == ["south"]
    assert doc["inputs"]["partitions"]["south"]["status"] == "failed"
    drops = routes[routes["kind"] == "dropoff"]
    assert len(drops) == doc["summary"]["assigned"]
    unassigned = pd.read_csv(out / "unassigned.csv", dtype=str, keep_default_na=False)
    assert (unassigned["partition"] == "south").sum() == 3
    geo = json.loads((out / "routes.geojson").read_text())
    grey = [f for f in geo["features"] if f["properties"]["feature"] == "unassigned"]
    assert len(grey) == len(unassigned)


@settings(max_examples=25, deadline=None)
@given(
    order_zone=st.lists(st.sampled_from("abcd"), min_size=40, max_size=40),
    van_zone=st.lists(st.sampled_from("abc"), min_size=4, max_size=4),
)
def test_every_order_and_van_lands_in_exactly_one_partition(example_map, order_zone, van_zone):
    orders = pd.read_csv(EXAMPLES / "orders.csv", dtype=str, keep_default_na=False)
    vehicles = pd.read_csv(EXAMPLES / "vehicles.csv", dtype=str, keep_default_na=False)
    orders["zone"], vehicles["zone"] = order_zone, van_zone
    parts, left_out = split(orders, vehicles, by="zone", road_map=example_map,
                            stores=EXAMPLES / "stores.csv", plan_date=PLAN_DATE)  # fmt: skip
    planned = [o for p in parts for o in p.orders["order_id"]]
    assert sorted(planned + left_out["order_id"].tolist()) == sorted(orders["order_id"])
    assert len(set(planned)) == len(planned)
    for p in parts:
        assert set(p.orders["zone"]) == {p.name} and set(p.vehicles["zone"]) == {p.name}
        # rows keep their spreadsheet numbers (header is row 1)
        assert (orders.loc[p.orders.index - 2, "order_id"].to_numpy() == p.orders["order_id"]).all()
    no_van = set(order_zone) - set(van_zone)
    assert set(left_out["partition"]) == no_van
    assert set(left_out["order_id"]) == set(orders.loc[orders["zone"].isin(no_van), "order_id"])


def test_a_failed_partition_under_quiet_is_our_one_line_not_dasks_log(zoned, tmp_path):
    """The workers are other processes: what they log reaches the terminal directly."""
    args = [sys.executable, "-m", "fleetroute", "plan", str(zoned / "orders.csv"),
            *EXAMPLE_DAY[2:4], "--vehicles", str(zoned / "vehicles.csv"), *EXAMPLE_DAY[6:],
            "--partition", "zone", "--dask-workers", "2", "--backend", "ortools",
            "--solution-limit", "10", "--quiet", "--out", str(tmp_path / "out")]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("partition south: FAILED:") and "depot_lat" in lines[0]


def test_killing_a_partitioned_plan_ends_its_dask_cluster(zoned, tmp_path):
    """The local cluster's worker processes end with `route plan`, kill -9 included."""
    import psutil

    args = [sys.executable, "-m", "fleetroute", "plan", str(zoned / "orders.csv"),
            *EXAMPLE_DAY[2:4], "--vehicles", str(zoned / "vehicles.csv"), *EXAMPLE_DAY[6:],
            "--partition", "zone", "--dask-workers", "2", "--time-limit", "60", "--quiet",
            "--out", str(tmp_path / "out")]  # fmt: skip
    parent = subprocess.Popen(args)
    workers: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 90
        while len(workers) < 2:
            assert time.monotonic() < deadline and parent.poll() is None, "no cluster started"
            time.sleep(0.2)
            workers = [p for p in psutil.Process(parent.pid).children(recursive=True)
                       if "spawn_main" in " ".join(p.cmdline())]  # fmt: skip
        time.sleep(2)  # partitions running
        workers = psutil.Process(parent.pid).children(recursive=True)
        parent.kill()
        parent.wait(10)
        _, alive = psutil.wait_procs(workers, timeout=15)
        assert alive == [], [p.cmdline() for p in alive]
    finally:
        parent.kill()
        for p in workers:
            if p.is_running():
                p.kill()
