"""Faults: Dask workers killed in the middle of a partitioned plan. The plan must still name
every order: planned, or unassigned with the reason its partition failed.

    python benchmarks/faults.py --rounds 5

Each round plans a day of ``--orders`` orders cut into 8 zones (one van per 10 orders,
``--time-limit`` per zone) on a local cluster of two worker processes, and kills a
worker process (SIGKILL) while partitions run, ``--kills`` times a round. Dask's nannies
start new workers and its scheduler runs the lost partitions again (or gives up on one
after Dask's allowed failures, and we report it failed). Writes
``benchmarks/results/faults.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from fleetroute.api import load_map
from fleetroute.distributed.partition import plan_partitioned

HERE = Path(__file__).parent
CITY = HERE.parent / "examples" / "city.graphml"
DEPOT = (52.369389, 4.888843)


def _day(tmp: Path, n: int, seed: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    orders = pd.DataFrame({"order_id": [f"o{i}" for i in range(n)],
                           "lat": rng.uniform(52.355, 52.39, n).round(6),
                           "lon": rng.uniform(4.87, 4.92, n).round(6),
                           "zone": [f"z{i % 8}" for i in range(n)]})  # fmt: skip
    vans = max(8, n // 10)
    vehicles = pd.DataFrame({"vehicle_id": [f"v{i}" for i in range(vans)],
                             "depot_lat": DEPOT[0], "depot_lon": DEPOT[1], "capacity": 40,
                             "shift_start": "08:00", "shift_end": "20:00",
                             "zone": [f"z{i % 8}" for i in range(vans)]})  # fmt: skip
    orders.to_csv(tmp / "orders.csv", index=False)
    vehicles.to_csv(tmp / "vehicles.csv", index=False)
    return tmp / "orders.csv", tmp / "vehicles.csv"


def _workers() -> list[psutil.Process]:
    """The Dask worker processes (spawned by the nannies of this process)."""
    return [p for p in psutil.Process().children(recursive=True)
            if "spawn_main" in " ".join(p.cmdline())]  # fmt: skip


def _killer(kills: int, every: float, done: threading.Event, log: list[float]) -> None:
    t0 = time.monotonic()
    for _ in range(kills):
        if done.wait(every):
            return
        alive = _workers()
        if alive:
            os.kill(alive[0].pid, signal.SIGKILL)
            log.append(round(time.monotonic() - t0, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=3.0)
    args = parser.parse_args()
    from distributed import LocalCluster

    road_map = load_map(CITY)
    rounds = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=50) as cluster:  # fmt: skip
        for r in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                orders, vehicles = _day(Path(tmp), args.orders, seed=r)
                done, killed = threading.Event(), []
                plan = (args.kills, args.time_limit, done, killed)
                killer = threading.Thread(target=_killer, args=plan, daemon=True)
                t0 = time.perf_counter()
                killer.start()
                result = plan_partitioned(
                    orders, vehicles, road_map=road_map, by="zone", plan_date=None,
                    scheduler=cluster.scheduler_address, time_limit_s=args.time_limit,
                )  # fmt: skip
                done.set()
                killer.join()
                s = result.summary()
                table = pd.concat([result.routes_table(), result.unassigned_table()])
                named = set(table["order_id"]) - {""}
                rounds.append({
                    "round": r, "kills_at_s": killed, "seconds": round(time.perf_counter() - t0, 1),
                    "orders": s["orders"], "assigned": s["assigned"], "unassigned": s["unassigned"],
                    "failed_partitions": sorted(result.failed),
                    "orders_lost": args.orders - len(named & {f"o{i}" for i in range(args.orders)}),
                })  # fmt: skip
                print(rounds[-1], flush=True)
    total = {"rounds": len(rounds), "kills": sum(len(r["kills_at_s"]) for r in rounds),
             "orders_lost": sum(r["orders_lost"] for r in rounds),
             "failed_partitions": sum(len(r["failed_partitions"]) for r in rounds),
             "rounds_detail": rounds}  # fmt: skip
    (HERE / "results" / "faults.json").write_text(json.dumps(total, indent=1) + "\n")
    print({k: v for k, v in total.items() if k != "rounds_detail"})


if __name__ == "__main__":
    main()
