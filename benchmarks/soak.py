"""A soak: many plans in one process through the Python API, memory measured as it goes.
A dispatch system imports fleetroute and plans all day; its memory must stay flat.

    python benchmarks/soak.py --plans 1000

Plans the example day again and again (the map loaded once, a fixed effort of
``--solution-limit`` per plan, each plan's files written to one folder, so that writing
is soaked too) and records the process's resident memory every 50 plans. The growth
reported is the memory after the last plan over the memory after the first 50 (Python's
allocators and the solvers' caches settle in those). Writes ``benchmarks/results/soak.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

import psutil

import fleetroute

HERE = Path(__file__).parent
EXAMPLES = HERE.parent / "examples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--solution-limit", type=int, default=5)
    args = parser.parse_args()
    me = psutil.Process()
    road_map = fleetroute.maps.load(EXAMPLES / "city.graphml")
    samples, t0, seen = [], time.perf_counter(), set()
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(1, args.plans + 1):
            plan = fleetroute.plan(
                EXAMPLES / "orders.csv", EXAMPLES / "vehicles.csv", road_map=road_map,
                stores=EXAMPLES / "stores.csv", plan_date=date(2026, 3, 2), seed=k,
                solution_limit=args.solution_limit, workers=1,
            )  # fmt: skip
            fleetroute.write_plan(plan, Path(tmp) / "plan")
            s = plan.summary()
            seen.add(s["assigned"] + s["unassigned"])
            if k % 50 == 0 or k == 1:
                rss = me.memory_info().rss / 2**20
                samples.append({"plans": k, "rss_mb": round(rss, 1),
                                "seconds": round(time.perf_counter() - t0, 1)})  # fmt: skip
                print(samples[-1], flush=True)
    settled = next(s for s in samples if s["plans"] >= min(50, args.plans))
    result = {
        "plans": args.plans,
        "orders_named_every_plan": seen == {40},
        "rss_settled_mb": settled["rss_mb"],
        "rss_last_mb": samples[-1]["rss_mb"],
        "growth_mb": round(samples[-1]["rss_mb"] - settled["rss_mb"], 1),
        "seconds": samples[-1]["seconds"],
        "samples": samples,
    }
    out = HERE / "results" / "soak.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print({k: v for k, v in result.items() if k != "samples"})


if __name__ == "__main__":
    main()
