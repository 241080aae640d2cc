"""Standard instances read into Problems, and `route bench vrplib` end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import VRP_DIR
from fleetroute.cli import cli
from fleetroute.errors import InputError
from fleetroute.routing.instances import SCALE, read_instance


def test_solomon_reads_with_scaled_ceiled_times():
    inst = read_instance(VRP_DIR / "solomon" / "R101.txt")
    p = inst.problem
    assert (inst.name, inst.family, p.n_orders, p.n_vehicles) == ("R101", "solomon", 100, 25)
    assert int(p.capacity[0]) == 200
    # travel times rounded up, so schedules feasible on them are feasible on exact times
    assert (p.travel_s >= inst.distance * SCALE - 1e-6).all()
    assert (
        p.window_end_s[0] == 171 * SCALE and p.dropoff_s[0] == 10 * SCALE
    )  # customer 1: ready 161, due 171, service 10


def test_homberger_reads_like_solomon():
    inst = read_instance(VRP_DIR / "homberger" / "c1_2_1.txt")
    assert inst.problem.n_orders == 200 and inst.problem.n_vehicles == 50


def test_li_lim_pairs_pickups_with_deliveries():
    inst = read_instance(VRP_DIR / "lilim" / "lc101.txt")
    p = inst.problem
    assert inst.family == "lilim" and p.n_orders == 53 and p.has_store.all()
    # node 1 is a delivery (demand -10) whose pickup is node 11 in the file
    i = int(np.flatnonzero(inst.dropoff_node == 1)[0])
    assert inst.pickup_node[i] == 11 and p.demand[i] == 10


def test_cvrplib_uses_nint_distances():
    inst = read_instance(VRP_DIR / "cvrplib_x" / "X-n101-k25.vrp")
    assert inst.family == "cvrp" and inst.problem.n_orders == 100
    np.testing.assert_array_equal(inst.distance, np.round(inst.distance))


def test_unreadable_instance_is_an_input_error(tmp_path):
    bad = tmp_path / "x.txt"
    bad.write_text("not an instance\n")
    with pytest.raises(InputError, match="x.txt"):
        read_instance(bad)


def test_bench_vrplib_writes_one_scored_object_per_instance(tmp_path):
    out = tmp_path / "bench.json"
    files = [
        VRP_DIR / "solomon" / "C101.txt",
        VRP_DIR / "lilim" / "lc101.txt",
        VRP_DIR / "cvrplib_x" / "X-n101-k25.vrp",
    ]
    r = CliRunner().invoke(
        cli, ["bench", "vrplib", *map(str, files), "--solution-limit", "1", "--json", str(out)]
    )
    assert r.exit_code == 0, r.output
    results = json.loads(out.read_text())
    assert [x["instance"] for x in results] == ["C101", "lc101", "X-n101-k25"]
    for x in results:
        assert {"instance", "cost", "vehicles", "feasible", "time_s", "routes"} <= set(x)
        assert x["feasible"] and x["vehicles"] == len(x["routes"])
    # every customer (or pickup and delivery node) appears exactly once, depot left out
    assert sorted(n for route in results[0]["routes"] for n in route) == list(range(1, 101))
    assert sorted(n for route in results[1]["routes"] for n in route) == list(range(1, 107))
    # the cost is the instance's own distance of the routes (C101 BKS is 828.94)
    assert results[0]["cost"] >= 828.9
