"""Does the search end within `--time-limit` + 5%, first plan included, at every size?

    python benchmarks/time_limit.py                          # as committed
    python benchmarks/time_limit.py --orders 5000 --limits 5 20 --kinds stores

Days on the example city (orders spread over its box, one van of 40 units per 10 orders
at the example depot, 08:00-20:00; ``stores``: every third order shopped at the example
stores), planned by ``fleetroute.plan`` with ``backend="auto"`` and 2 workers. The solve
time is the whole solve stage (screening, model, search, placing and explaining left-out
orders; the road matrices are built before it). Writes benchmarks/results/time_limit.json
and .md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

import fleetroute

ROOT = Path(__file__).parent.parent
RESULTS = Path(__file__).parent / "results"
DEPOT = (52.369389, 4.888843)


def _day(n: int, stores: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(n)],
                           "lat": rng.uniform(52.355, 52.390, n).round(6),
                           "lon": rng.uniform(4.870, 4.920, n).round(6), "demand": 1})  # fmt: skip
    if stores:
        ids = pd.read_csv(ROOT / "examples" / "stores.csv")["store_id"].tolist()
        orders["store_id"] = [ids[i % len(ids)] if i % 3 == 0 else "" for i in range(n)]
    k = max(5, n // 10)
    vehicles = pd.DataFrame({"vehicle_id": [f"v{i}" for i in range(k)], "depot_lat": DEPOT[0],
                             "depot_lon": DEPOT[1], "capacity": 40, "shift_start": "08:00",
                             "shift_end": "20:00"})  # fmt: skip
    return orders, vehicles


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--orders", type=int, nargs="*", default=[400, 2000, 5000])
    ap.add_argument("--limits", type=float, nargs="*", default=[5.0, 20.0, 60.0])
    ap.add_argument("--kinds", nargs="*", default=["delivery", "stores"])
    ap.add_argument("--json", type=Path, default=RESULTS / "time_limit.json")
    args = ap.parse_args()
    city = fleetroute.maps.load(ROOT / "examples" / "city.graphml")
    rows = []
    for kind in args.kinds:
        for n in args.orders:
            for limit in args.limits:
                orders, vehicles = _day(n, kind == "stores")
                t0 = time.perf_counter()
                plan = fleetroute.plan(orders, vehicles, road_map=city, time_limit_s=limit,
                                       stores=ROOT / "examples" / "stores.csv" if kind == "stores"
                                       else None)  # fmt: skip
                wall = time.perf_counter() - t0
                search = plan.inputs.get("search", {})
                row = {
                    "kind": kind,
                    "orders": n,
                    "limit_s": limit,
                    "solve_s": round(plan.solve_time_s, 2),
                    "ratio": round(plan.solve_time_s / limit, 3),
                    "within_5pct": plan.solve_time_s <= 1.05 * limit,
                    "wall_s": round(wall, 2),
                    "backend": plan.inputs.get("backend"),
                    "zones": search.get("zones", 1),
                    "assigned": plan.summary()["assigned"],
                    "objective": round(plan.objective, 1),
                }
                rows.append(row)
                print(json.dumps(row))
    args.json.write_text(json.dumps(rows, indent=1) + "\n")
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(r[k]) for k in head) + " |" for r in rows]
    args.json.with_suffix(".md").write_text(
        "# The time limit at every size\n\n`python benchmarks/time_limit.py` (2 cores)\n\n"
        + "\n".join(lines)
        + "\n"
    )


if __name__ == "__main__":
    main()
