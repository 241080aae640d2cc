"""Backends on delivery days, and the dispatch operations' speed, on a synthetic city.

    python benchmarks/dispatch.py                          # 10k-node city, 100/300/500 orders
    python benchmarks/dispatch.py --orders 500 --time-limit 10

For each day (a third of the orders shopped at 5 stores, 2-hour windows, vans with fixed,
hourly and per-km costs; benchmarks/stages.py makes it): the plan's cost with OR-Tools and
with PyVRP at the same time limit and workers; then, on the ``auto`` plan, the seconds to
insert each of 20 new orders one by one (``insert_order``) and to re-plan at 12:00
(``replan``). Writes benchmarks/results/dispatch.json and .md.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from stages import city_path, day

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    import fleetroute

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--nodes", type=int, default=10_000)
    ap.add_argument("--orders", type=int, nargs="*", default=[100, 300, 500])
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--inserts", type=int, default=20)
    args = ap.parse_args()
    road_map = fleetroute.maps.load(city_path(args.nodes))
    rows = []
    for n in args.orders:
        orders, vehicles, stores = day(road_map, n)
        common = dict(
            road_map=road_map,
            stores=stores,
            plan_date=date(2026, 3, 2),
            time_limit_s=args.time_limit,
        )
        plans = {
            backend: fleetroute.plan(orders, vehicles, backend=backend, **common)
            for backend in ("ortools", "pyvrp")
        }
        row = {"orders": n, "vehicles_available": len(vehicles)}
        for backend, made in plans.items():
            s = made.summary()
            row[f"{backend}_cost"] = s["objective"]
            row[f"{backend}_assigned"] = s["assigned"]
            row[f"{backend}_vehicles"] = s["vehicles_used"]
        base = plans["pyvrp"] if plans["pyvrp"].summary()["assigned"] == n else plans["ortools"]
        rng = np.random.default_rng(7)
        nodes = rng.choice(road_map.n_nodes, args.inserts, replace=False)
        seconds = []
        current = base
        for j, node in enumerate(nodes.tolist()):
            t0 = time.perf_counter()
            current = fleetroute.insert_order(
                current,
                {
                    "order_id": f"new{j}",
                    "lat": road_map.lat[node],
                    "lon": road_map.lon[node],
                    "window_start": "13:00",
                    "window_end": "19:00",
                },
                road_map=road_map,
            )
            seconds.append(time.perf_counter() - t0)
        row["insert_median_s"] = float(np.median(seconds))
        row["insert_max_s"] = float(np.max(seconds))
        row["inserted"] = int(current.summary()["assigned"] - base.summary()["assigned"])
        t0 = time.perf_counter()
        again = fleetroute.replan(
            base, now="12:00", road_map=road_map, time_limit_s=args.time_limit
        )
        row["replan_s"] = time.perf_counter() - t0
        row["replan_orders"] = again.problem.n_orders
        row["replan_assigned"] = again.summary()["assigned"]
        row["replan_backend"] = again.inputs["backend"]
        row["replan_cost"] = again.summary()["objective"]
        rows.append(row)
        print(pd.DataFrame([row]).round(3).to_string(index=False), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dispatch.json").write_text(json.dumps(rows, indent=1) + "\n")
    table = pd.DataFrame(rows).round(3)
    (RESULTS / "dispatch.md").write_text(
        "# Backends on delivery days and dispatch speed\n\n"
        f"Command: `.venv/bin/python benchmarks/dispatch.py --nodes {args.nodes} --orders "
        f"{' '.join(map(str, args.orders))} --time-limit {args.time_limit:g}` "
        f"({args.nodes}-node synthetic city, 2 workers).\n\n"
        "```\n" + table.to_string(index=False) + "\n```\n"
    )


if __name__ == "__main__":
    main()
