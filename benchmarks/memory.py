"""What a day of N orders needs: the peak memory and wall time of `route plan`, for orders
at distinct addresses and for all orders at one address (a parcel locker), against the
estimate with which `route plan` refuses a day that would not fit.

    python benchmarks/memory.py --orders 1000 2000 4000 --colocated 10000 20000

Each day is planned by `route plan` in its own process (the example city, free-flow
times, vans of 40 units at the example depot, one van per 10 orders, 08:00-20:00,
`--time-limit 5`); the peak is the largest memory of the process and its solver workers
together (proportional set sizes), sampled every 50 ms. Writes
``benchmarks/results/memory.json`` and ``memory.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

from fleetroute.api.planning import memory_needed

HERE = Path(__file__).parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DEPOT = (52.369389, 4.888843)


def _orders(n: int, colocated: bool, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    if colocated:
        lat, lon = np.full(n, 52.361058), np.full(n, 4.898321)
    else:  # spread over the example city's box
        lat, lon = rng.uniform(52.355, 52.390, n), rng.uniform(4.870, 4.920, n)
    return pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "lat": lat.round(6),
                         "lon": lon.round(6), "demand": 1})  # fmt: skip


def _peak(command: list[str], log: Path) -> tuple[int, float, int]:
    """Peak bytes of the process tree (proportional set sizes: pages the forked solver
    workers share with their parent count once), wall seconds and exit status."""
    t0 = time.perf_counter()
    with open(log, "w") as err:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        root, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_full_info().pss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.05)
    return peak, time.perf_counter() - t0, proc.returncode


def run(n: int, colocated: bool, time_limit: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        _orders(n, colocated).to_csv(path, index=False)
        vans = max(1, n // 10)
        command = [sys.executable, "-m", "fleetroute", "plan", str(path),
                   "--map", str(ROOT / "examples" / "city.graphml"),
                   "--fleet-size", str(vans), "--depot", f"{DEPOT[0]},{DEPOT[1]}",
                   "--capacity", "40", "--shift", "08:00-20:00", "--date", "2026-03-02",
                   "--time-limit", str(time_limit), "--quiet",
                   "--out", str(Path(tmp) / "out")]  # fmt: skip
        peak, wall, status = _peak(command, Path(tmp) / "stderr.txt")
        if status != 0:
            print(f"{n} orders: exit {status}: {(Path(tmp) / 'stderr.txt').read_text()[-500:]}")
        doc = json.loads((Path(tmp) / "out" / "plan.json").read_text()) if status == 0 else {}
    places = 2 if colocated else n + 1
    estimate = memory_needed(n, places, vans)
    return {
        "orders": n, "colocated": colocated, "vans": vans, "exit": status,
        "peak_gb": round(peak / 2**30, 3), "estimate_gb": round(estimate / 2**30, 3),
        "wall_s": round(wall, 1), "solve_s": doc.get("summary", {}).get("solve_time_s"),
        "assigned": doc.get("summary", {}).get("assigned"),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, nargs="*", default=[1000, 2000, 4000])
    parser.add_argument("--colocated", type=int, nargs="*", default=[10000, 20000])
    parser.add_argument("--time-limit", type=float, default=5.0)
    args = parser.parse_args()
    rows = [run(n, False, args.time_limit) for n in args.orders]
    rows += [run(n, True, args.time_limit) for n in args.colocated]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "memory.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = ["| orders | at | vans | peak GB | estimate GB | wall s | solve s | assigned |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        lines.append(
            f"| {r['orders']:,} | {'one address' if r['colocated'] else 'distinct'} | "
            f"{r['vans']} | {r['peak_gb']} | {r['estimate_gb']} | {r['wall_s']} | "
            f"{r['solve_s']} | {r['assigned']} |"
        )
    table = "\n".join(lines)
    (RESULTS / "memory.md").write_text(
        "# Memory and time of `route plan` by day size\n\n"
        f"`python benchmarks/memory.py` (time limit {args.time_limit:g} s)\n\n{table}\n"
    )
    print(table)


if __name__ == "__main__":
    main()
