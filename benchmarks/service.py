"""The HTTP service under load, on loopback: ``--plans`` small plans sent by ``--clients``
concurrent clients to a `route serve` started here, each polled until done.

    python benchmarks/service.py --plans 200 --clients 8 --workers 2

Each plan is 10 orders of the example day (a different slice each) with its 4 vans,
``time_limit`` 1 s. Reports throughput (plans done per second), the latency from POST to
done (p50, p95), errors (any answer other than 202 on POST and done at the end: target 0)
and the server's memory (its process and solver processes, after a warm-up of two plans
per solver process) before and after. Writes
``benchmarks/results/service.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import psutil

HERE = Path(__file__).parent
EXAMPLES = HERE.parent / "examples"
KEY = "bench-key-000001"


def _rows(name: str) -> list[dict[str, str]]:
    with open(EXAMPLES / f"{name}.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _memory(pid: int) -> float:
    root = psutil.Process(pid)
    return sum(p.memory_full_info().pss for p in [root, *root.children(recursive=True)]) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    orders, vehicles, stores = _rows("orders"), _rows("vehicles"), _rows("stores")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen(
            [sys.executable, "-m", "fleetroute", "serve", "--map", str(EXAMPLES / "city.graphml"),
             "--port", str(port), "--data", data, "--workers", str(args.workers)],
            env={**os.environ, "FLEETROUTE_API_KEYS": f"bench:{KEY}"},
        )  # fmt: skip
        try:
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            headers = {"Authorization": f"Bearer {KEY}"}

            def one(k: int) -> tuple[float, bool]:
                body = {"orders": [orders[(k + i) % len(orders)] for i in range(10)],
                        "vehicles": vehicles, "stores": stores, "date": "2026-03-02",
                        "options": {"time_limit": 1}}  # fmt: skip
                t0 = time.perf_counter()
                with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
                    r = c.post("/v1/plans", json=body)
                    if r.status_code != 202:
                        return time.perf_counter() - t0, False
                    job = r.json()["id"]
                    while True:
                        doc = c.get(f"/v1/plans/{job}").json()
                        if doc["status"] in ("done", "failed"):
                            return time.perf_counter() - t0, doc["status"] == "done"
                        time.sleep(0.05)

            # warm up: the solver processes start (and load the map) with the first plans
            with ThreadPoolExecutor(args.workers) as pool:
                list(pool.map(one, range(args.workers * 2)))
            before = _memory(server.pid)
            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                results = list(pool.map(one, range(args.plans)))
            wall = time.perf_counter() - t0
            after = _memory(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    latency = np.array([r[0] for r in results])
    out = {
        "plans": args.plans, "clients": args.clients, "workers": args.workers,
        "throughput_per_s": round(args.plans / wall, 2), "wall_s": round(wall, 1),
        "latency_p50_s": round(float(np.percentile(latency, 50)), 2),
        "latency_p95_s": round(float(np.percentile(latency, 95)), 2),
        "errors": sum(not ok for _, ok in results),
        "server_mb_before": round(before, 1), "server_mb_after": round(after, 1),
    }  # fmt: skip
    (HERE / "results" / "service.json").write_text(json.dumps(out, indent=1) + "\n")
    print(out)


if __name__ == "__main__":
    main()
