"""Real fleets' constraints against VROOM: the same day with skills, more capacity
dimensions, route limits and shared store visits, planned by fleetroute and by VROOM.

    python benchmarks/constraints.py --scenario store-10k-400 --seconds 60

The day is a scenario of benchmarks/scenarios.toml (free-flow times) with constraint
columns added the way a grocery fleet would fill them (fixed seed):

- ``skills``: 15% of orders ``frozen`` (a third of the vans have it), 5% ``heavy`` (a
  quarter of the vans);
- ``dims``: ``demand_kg`` (1.5 kg an item) and ``demand_l`` (2 l an item); each van's
  ``capacity_kg`` holds 0.9 times and ``capacity_l`` 1.1 times what its unit
  ``capacity`` holds of an average order, so kg binds first;
- ``limits``: ``max_route_s`` 5 h and ``max_distance_m`` 60 km;
- ``visits``: each store's ``visit_s`` 420 s (VROOM's ``setup``, paid on arrival);
- ``windows``: a quarter of the orders also accept the same window 3 h later;
- ``all``: everything above at once; ``none``: the bare day, for the price of each rule;
- ``soft``: every window soft (``late_cost_per_h`` 20, ``max_late_s`` 1800). VROOM has
  no soft windows: it plans the hard day, and the saving is against our own ``none``.

Each case is planned by ``fleetroute.plan`` (default options, ``--seconds``) and by VROOM
through ``pyvroom`` (exploration level 5, both cores, ``--seconds`` at most) on the same
matrices and service times. Both plans are costed by the engine's own schedule and audited
by its independent check (``route check``'s violations: a plan with any is infeasible).
VROOM limits driving time, not route duration: it gets ``max_route_s`` as its
``max_travel_time``, and the check shows where its routes run longer. Writes
``benchmarks/results/constraints.json`` and ``constraints.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import fleetroute
from fleetroute.routing.audit import violations
from fleetroute.suite import PLAN_DATE, city_file, load_scenarios, scenario_day

HERE = Path(__file__).parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

from best_known import vroom_plan  # noqa: E402

CASES = ("none", "skills", "dims", "limits", "visits", "windows", "all", "soft")


def constrained(
    case: str, orders: pd.DataFrame, vehicles: pd.DataFrame, stores: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The day's tables with ``case``'s constraint columns added (fixed seed)."""
    rng = np.random.default_rng(7)
    o, v, s = orders.copy(), vehicles.copy(), stores.copy()
    every = case == "all"
    if case == "skills" or every:
        draw = rng.random(len(o))
        o["skills"] = np.where(draw < 0.15, "frozen", np.where(draw < 0.20, "heavy", ""))
        k = np.arange(len(v))
        v["skills"] = [
            ";".join(x for x, on in (("frozen", i % 3 == 0), ("heavy", i % 4 == 1)) if on)
            for i in k
        ]
    if case == "dims" or every:
        items = o["items"].to_numpy() if "items" in o else np.ones(len(o))
        o["demand_kg"] = np.ceil(1.5 * items).astype(int)
        o["demand_l"] = (2 * items).astype(int)
        # per van, kg a little tighter than the unit capacity and litres a little looser
        units = float(np.mean(o["demand"])) if "demand" in o else 1.0
        per_unit = v["capacity"].to_numpy(float) / units
        v["capacity_kg"] = np.floor(0.9 * per_unit * o["demand_kg"].mean()).astype(int)
        v["capacity_l"] = np.floor(1.1 * per_unit * o["demand_l"].mean()).astype(int)
    if case == "limits" or every:
        v["max_route_s"] = 5 * 3600
        v["max_distance_m"] = 60_000
    if case == "visits" or every:
        s["visit_s"] = 420
    if case == "windows" or every:
        # a quarter of the orders also accept the same window three hours later
        two = (rng.random(len(o)) < 0.25) & (o["window_start"] != "")
        o["windows"] = ""
        o.loc[two, "windows"] = [
            f"{a}-{b};{_later(a, 3)}-{_later(b, 3)}"
            for a, b in o.loc[two, ["window_start", "window_end"]].itertuples(index=False)
        ]
        o.loc[two, ["window_start", "window_end"]] = ""
    if case == "soft":
        o["late_cost_per_h"] = 20
        o["max_late_s"] = 1800
    return o, v, s


def _later(clock: str, hours: int) -> str:
    """``HH:MM`` ``hours`` later (capped at 23:59)."""
    h, m = int(clock[:2]) + hours, int(clock[3:5])
    return "23:59" if h > 23 else f"{h:02d}:{m:02d}"


def _score(made: fleetroute.Plan) -> dict[str, Any]:
    s = made.summary()
    found = violations(made)
    found = found[found["violation"] != "not_routed"]
    return {
        "objective": round(float(s["objective"]), 2),
        "assigned": int(s["assigned"]),
        "vehicles": int(s["vehicles_used"]),
        "violations": int(len(found)),
        "violation_kinds": sorted(set(found["violation"])),
        "time_s": round(made.solve_time_s, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scenario", default="store-10k-400")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    ap.add_argument("--cache", type=Path, default=HERE / ".cache" / "suite")
    args = ap.parse_args()
    (sc,) = load_scenarios(HERE / "scenarios.toml", "full", [args.scenario])
    args.cache.mkdir(parents=True, exist_ok=True)
    road_map = fleetroute.maps.load(city_file(sc, args.cache))
    base = scenario_day(sc, road_map)
    rows = []
    for case in args.cases:
        orders, vehicles, stores = constrained(case, *base)
        t0 = time.perf_counter()
        ours = fleetroute.plan(
            orders,
            vehicles,
            road_map=road_map,
            stores=stores,
            plan_date=PLAN_DATE,
            time_limit_s=args.seconds,
        )
        wall = time.perf_counter() - t0
        theirs = vroom_plan(ours.problem, args.seconds)
        row = {
            "case": case,
            "fleetroute": {**_score(ours), "backend": ours.inputs["backend"], "wall_s": wall},
            "vroom": _score(theirs),
        }
        f, v = row["fleetroute"]["objective"], row["vroom"]["objective"]
        row["ratio"] = round(f / v, 4) if v else None
        rows.append(row)
        print(json.dumps(row), flush=True)
    out = {
        "scenario": args.scenario,
        "seconds": args.seconds,
        "command": f"python benchmarks/constraints.py --scenario {args.scenario} "
        f"--seconds {args.seconds:g}",
        "cases": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "constraints.json").write_text(json.dumps(out, indent=1) + "\n")
    lines = [
        f"# Constraints against VROOM ({args.scenario}, {args.seconds:g} s, free-flow)",
        "",
        f"`{out['command']}`",
        "",
        "| case | fleetroute objective | served | violations | VROOM objective | served "
        "| violations | ours / VROOM |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        a, b = r["fleetroute"], r["vroom"]
        lines.append(
            f"| {r['case']} | {a['objective']:,.2f} | {a['assigned']} | {a['violations']} "
            f"| {b['objective']:,.2f} | {b['assigned']} | {b['violations']} "
            f"{', '.join(b['violation_kinds'])} | {r['ratio']} |"
        )
    (RESULTS / "constraints.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
