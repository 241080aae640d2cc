"""Run the suite: each scenario in its own process, timed, planned, replayed in the true world."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fleetroute.suite.report import write_report
from fleetroute.suite.scenarios import (
    PLAN_DATE,
    city_file,
    scenario_day,
    scenario_model,
)


def timed_load(path: Path) -> tuple[Any, float, float, float]:
    """Load a map file: the map, the seconds to parse it (no cache), to build its
    contraction hierarchy, and to load it (and its hierarchy) from the cache.

    Parsing and preparing run in a child process, which fills the cache as `route map
    prepare` does, so this process's peak memory is that of planning with the cached map,
    not of OSMnx's parse; they are paid once per map, not per plan.
    """
    import fleetroute

    cold = subprocess.run(
        [sys.executable, "-c", _PARSE, str(path)], capture_output=True, text=True, check=True
    )
    parse_s, prepare_s = map(float, cold.stdout.split()[-2:])
    t0 = time.perf_counter()
    road_map = fleetroute.maps.load(path)
    road_map.cached_hierarchy()
    return road_map, parse_s, prepare_s, time.perf_counter() - t0


_PARSE = """import sys, time
import fleetroute
t0 = time.perf_counter()
fleetroute.maps.load(sys.argv[1], cache=False)
print(time.perf_counter() - t0)
road_map = fleetroute.maps.load(sys.argv[1])
t0 = time.perf_counter()
road_map.hierarchy()
print(time.perf_counter() - t0)
"""


def replayed(road_map: Any, plan: Any, *, draws: int = 1) -> tuple[float, float]:
    """The plan driven in the simulator's true world: its on-time rate, and its true cost
    (each used vehicle's fixed cost, per-km cost and per-hour cost of the hours its route
    really took), averaged over ``draws`` noise draws (:func:`driven`)."""
    figures = driven(road_map, plan, draws=draws)
    return figures["on_time"], figures["true_cost"]


def driven(road_map: Any, plan: Any, *, draws: int = 1) -> dict[str, float]:
    """:func:`replayed`'s on-time rate and true cost (``on_time``, ``true_cost``), and the
    hours the vans waited for windows to open (``wait_h``), each averaged over ``draws``."""
    from fleetroute.routing.schedule import route_cost
    from fleetroute.simulator.world import replay

    p = plan.problem
    on_time, cost, wait = [], [], []
    for k in range(draws):
        drove = replay(road_map, plan, seed=3 + k)
        drops = drove[drove["order_id"] != ""]
        on_time.append(float((drops["late_s"] <= 0).mean()) if len(drops) else 1.0)
        ends = drove[drove["order_id"] == ""].set_index("vehicle_id")
        took = ends["late_s"]
        cost.append(
            sum(
                route_cost(p, sched, duration_s=float(took[p.vehicle_id[sched.route.vehicle]]))
                for sched in plan.schedules
            )
        )
        wait.append(float(ends["wait_s"].sum()) / 3600.0)
    return {
        "on_time": float(np.mean(on_time)),
        "true_cost": float(np.mean(cost)),
        "wait_h": float(np.mean(wait)),
    }


def learned_times(eta: Any) -> dict[str, Any]:
    """What a learned plan's times are made of, as best_known.json records it beside the
    runs made on them (``<prefix>_eta``, ``_digest``, ``_band_h``): the ETA's name, its
    model's digest (a retrained model keeps its name) and the band width."""
    return {"eta": eta.name, "digest": eta.model.digest(), "band_h": eta.band_h}


def recorded_on(entry: dict[str, Any], prefix: str, times: dict[str, Any]) -> bool:
    """Whether best_known.json's ``entry`` recorded its ``prefix`` runs on ``times``
    (:func:`learned_times`). Entries from before the band width was recorded were planned
    on 2-hour bands."""
    recorded = {k: entry.get(f"{prefix}_{k}", 2.0 if k == "band_h" else None) for k in times}
    return recorded == times


def _best_known(name: str) -> dict[str, Any]:
    """The scenario's best-known objectives (benchmarks/results/best_known.json, made by
    benchmarks/best_known.py from long runs of every backend and VROOM), if recorded."""
    path = Path(os.environ.get("FLEETROUTE_BEST_KNOWN", "benchmarks/results/best_known.json"))
    try:
        return dict(json.loads(path.read_text()).get(name, {}))
    except (OSError, ValueError):
        return {}


def _compile_kernels() -> None:
    """Run the numba kernels once (the path searches' on a three-node graph, the learned
    bands'), so a fresh checkout's one-off compilation (seconds; cached on disk after) is
    not timed as a stage."""
    from fleetroute.eta_model.learned import compile_kernels
    from fleetroute.maps.dial import many_to_many, pairs
    from fleetroute.maps.hierarchy import Hierarchy, edge_keys

    indptr = np.array([0, 1, 2, 3])
    heads, weight = np.array([1, 2, 0]), np.array([5, 5, 5])
    many_to_many(indptr, heads, weight, np.ones(3), np.array([0]), np.array([2]))
    pairs(indptr, heads, weight, np.ones((3, 1)), np.array([0]), np.array([2]))
    Hierarchy.build(indptr, heads, edge_keys(weight, np.ones(3))).matrix([0], [2])
    compile_kernels()  # the learned bands' (a learned day's first band)


def run_scenario(sc: dict[str, Any], cache: Path) -> dict[str, Any]:
    """Run one scenario in this process and return its row."""
    import fleetroute
    from fleetroute.eta_model.learned import LearnedEta

    cache.mkdir(parents=True, exist_ok=True)
    _compile_kernels()
    road_map, load_cold, prepare_s, load_s = timed_load(city_file(sc, cache))
    row: dict[str, Any] = {
        "scenario": sc["name"],
        "version": sc["version"],
        "layout": sc["layout"],
        "nodes": road_map.n_nodes,
        "orders": sc["orders"],
        "stores": sc["stores"],
        "load_cold_s": load_cold,
        "prepare_s": prepare_s,
        "load_s": load_s,
    }
    orders, vehicles, stores = scenario_day(sc, road_map)
    common: dict[str, Any] = dict(
        road_map=road_map,
        stores=stores,
        plan_date=PLAN_DATE,
        time_limit_s=float(sc["time_limit_s"]),
    )
    plan = fleetroute.plan(orders, vehicles, **common)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        fleetroute.write_plan(plan, Path(tmp) / "out")
        write_s = time.perf_counter() - t0
    t = plan.timings
    s = plan.summary()
    row.update(
        read_s=t.get("read", 0.0),
        snap_s=t.get("snap", 0.0),
        matrix_s=t.get("matrix", 0.0),
        model_s=t.get("model", 0.0),
        solve_s=s["solve_time_s"],
        write_s=write_s,
        backend=plan.inputs["backend"],
        search=json.dumps(plan.inputs.get("search", {}), default=str),
        zones=plan.inputs.get("zones", 1),
        assigned=s["assigned"],
        vehicles_used=s["vehicles_used"],
        km=s["total_distance_m"] / 1000.0,
        hours=s["total_duration_s"] / 3600.0,
        objective=s["objective"],
        cost_per_order=s["objective"] / max(1, s["assigned"]),
    )
    row["on_time_free_flow"], row["true_cost_free_flow"] = replayed(road_map, plan)
    best = _best_known(sc["name"])
    if best.get("free_flow"):
        row["gap_free_flow"] = s["objective"] / best["free_flow"] - 1.0
    row["non_solver_s"] = (
        load_s + row["read_s"] + row["snap_s"] + row["matrix_s"] + row["model_s"] + write_s
    )
    if sc["model_days"]:
        model, metrics, row["train_s"] = scenario_model(sc, road_map, stores)
        row["eta_travel_mae_s"] = metrics["travel"]["mae_s"]
        row["eta_travel_p90_coverage"] = metrics["travel"]["p90_coverage"]
        row["free_flow_travel_mae_s"] = metrics["baseline"]["travel"]["mae_s"]
        eta = LearnedEta(model)  # the planning quantile
        with_model = fleetroute.plan(orders, vehicles, eta=eta, **common)
        row["model_eta"] = eta.name
        row["eta_predict_s"] = with_model.timings.get("matrix", 0.0)
        row["objective_model"] = with_model.summary()["objective"]
        row["assigned_model"] = with_model.summary()["assigned"]
        row["solve_s_model"] = with_model.summary()["solve_time_s"]
        row["backend_model"] = with_model.inputs["backend"]
        drove = driven(road_map, with_model)
        row["on_time_model"], row["true_cost_model"] = drove["on_time"], drove["true_cost"]
        # the hours its vans wait for windows to open, ahead of a schedule made on padded
        # times: most of the price of punctuality (benchmarks/results/punctuality.md)
        row["wait_h_model"] = drove["wait_h"]
        # what planning on learned times costs in the true world over the free-flow plan
        row["price_of_punctuality"] = row["true_cost_model"] / row["true_cost_free_flow"]
        if best.get("model") and recorded_on(best, "model", learned_times(eta)):
            # plans made on the same model's times only; the best-known serves the most
            # orders any run served, then costs the least (a day the fleet cannot fully
            # serve: a plan that serves more costs more)
            row["gap_model"] = row["objective_model"] / best["model"] - 1.0
            runs = best.get("model_runs", {}).values()
            if runs:
                row["best_assigned_model"] = max(int(r["assigned"]) for r in runs)
    row["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return row


def _machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "commit": commit,
        "machine": (
            f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "command": " ".join(["route", *sys.argv[1:]]) if sys.argv else "",
        "when": datetime.now().isoformat(timespec="seconds"),
    }


def run_suite(
    scenarios: list[dict[str, Any]],
    out_dir: Path,
    *,
    cache: Path,
    echo: Any = print,
    baseline: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Run each scenario in its own process; write results and the report into ``out_dir``.

    A scenario that fails is recorded with its error and the suite goes on.
    """
    rows = []
    for sc in scenarios:
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "fleetroute.suite.run", json.dumps(sc), str(cache)],
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0:
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            row["error"] = ""
        else:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            row = {"scenario": sc["name"], "error": last}
        row["wall_s"] = time.perf_counter() - started
        rows.append(row)
        echo(_line(row))
    table = pd.DataFrame(rows)
    write_report(table, out_dir, _machine(), baseline=baseline)
    return table


def _line(row: dict[str, Any]) -> str:
    if row.get("error"):
        return f"{row['scenario']}: FAILED: {row['error']}"
    extra = f", on time with model {row['on_time_model']:.0%}" if "on_time_model" in row else ""
    return (
        f"{row['scenario']}: {row['assigned']}/{row['orders']} orders, "
        f"non-solver {row['non_solver_s']:.1f} s, solve {row['solve_s']:.1f} s, "
        f"peak {row['peak_mb']:.0f} MB, on time free-flow {row['on_time_free_flow']:.0%}{extra}"
    )


# one scenario in its own process: python -m fleetroute.suite.run JSON CACHE
if __name__ == "__main__":
    result = run_scenario(json.loads(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps(result))
