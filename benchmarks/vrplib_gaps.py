"""Gaps to best-known solutions on the standard instances in data/vrp.

    python benchmarks/vrplib_gaps.py --time-limit 10 [--family solomon_vrptw_100 ...]
        [--instance X-n1001-k43 ...] [--backend auto|pyvrp|ortools] [--workers N] [--out FILE]

Solves each instance with the same core as `route bench vrplib` and compares with bks.csv:
VRPTW and PDPTW are lexicographic (vehicles first, then distance), so the vehicle
difference is reported next to the distance gap; CVRP X compares cost only.
Writes benchmarks/results/vrplib.json and prints a per-family summary.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from fleetroute.api import bench_vrplib

ROOT = Path(__file__).resolve().parents[1]
VRP = ROOT / "data" / "vrp"
FOLDERS = {
    "solomon_vrptw_100": "solomon",
    "gehring_homberger_vrptw_200": "homberger",
    "gehring_homberger_vrptw_400": "homberger",
    "gehring_homberger_vrptw_1000": "homberger",
    "li_lim_pdptw_100": "lilim",
    "cvrplib_x": "cvrplib_x",
}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--backend", default="auto", choices=("auto", "pyvrp", "ortools"))
    ap.add_argument("--workers", type=int, default=None, help="parallel searches (default 2)")
    ap.add_argument("--family", nargs="*", default=list(FOLDERS))
    ap.add_argument("--instance", nargs="*", help="only these instances (default: all)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "vrplib.json")
    args = ap.parse_args()
    bks = pd.read_csv(VRP / "bks.csv")
    rows = []
    chosen = bks["family"].isin(args.family)
    if args.instance:
        chosen &= bks["instance"].isin(args.instance)
    for _, ref in bks[chosen].iterrows():
        folder = VRP / FOLDERS[ref["family"]]
        path = next(
            (
                p
                for p in folder.iterdir()
                if p.stem == ref["instance"] and p.suffix in (".txt", ".vrp")
            ),
            None,
        )
        if path is None:
            continue
        r = bench_vrplib(
            [path], time_limit_s=args.time_limit, backend=args.backend, workers=args.workers
        )[0]
        rows.append(
            {
                "instance": ref["instance"],
                "family": ref["family"],
                "cost": r["cost"],
                "vehicles": r["vehicles"],
                "feasible": r["feasible"],
                "time_s": r["time_s"],
                "backend": r["backend"],
                "bks_cost": ref["bks_cost"],
                "bks_vehicles": ref["bks_vehicles"],
                "gap_pct": round(100 * (r["cost"] - ref["bks_cost"]) / ref["bks_cost"], 2),
                "extra_vehicles": r["vehicles"] - int(ref["bks_vehicles"]),
            }
        )
        print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    table = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1) + "\n")
    summary = (
        table.groupby("family")
        .agg(
            instances=("instance", "count"),
            mean_gap_pct=("gap_pct", "mean"),
            mean_extra_vehicles=("extra_vehicles", "mean"),
            feasible=("feasible", "mean"),
            mean_time_s=("time_s", "mean"),
        )
        .round(2)
    )
    print()
    print(summary.to_string())


if __name__ == "__main__":
    main()
