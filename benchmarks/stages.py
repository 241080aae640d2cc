"""Time each stage of a plan (load, read, snap, matrix, model, search, write) on synthetic cities.

    python benchmarks/stages.py      # full table: 10k/100k nodes x 100/1000/2000 orders
    python benchmarks/stages.py --nodes 10000 --orders 100 --time-limit 2   # one row

Every configuration runs in its own process, so peak memory (max RSS) is per row. City
GraphML files are cached in benchmarks/.cache. "non-solver" is every stage but the solver's
search: load + read + snap + matrix + model + write, with the map loaded from the frozen
cache (``load_s``). Paid once per map file and reported apart: ``load_cold_s``, parsing the
GraphML with OSMnx, and ``prepare_s``, building the contraction hierarchy (`route map prepare`).
The solver's first complete plan (``first_s``) is reported apart: it can exceed the limit.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

CACHE = Path(__file__).parent / ".cache"


def city_path(nodes: int) -> Path:
    from fleetroute.maps import write_synthetic_city

    path = CACHE / f"city_{nodes}.graphml"
    if not path.exists():
        write_synthetic_city(path, nodes, seed=1)
    return path


def day(road_map, n_orders: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Orders (a third shopped at 5 stores), windows of 2 h, and a fleet of vans."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(road_map.n_nodes, n_orders + 6, replace=False)
    lat, lon = road_map.lat[pick], road_map.lon[pick]
    start = rng.integers(9, 17, n_orders)
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n_orders)],
            "lat": lat[:n_orders] + rng.normal(0, 2e-4, n_orders),
            "lon": lon[:n_orders] + rng.normal(0, 2e-4, n_orders),
            "store_id": np.where(
                rng.random(n_orders) < 1 / 3, rng.choice([f"S{k}" for k in range(5)], n_orders), ""
            ),
            "items": rng.integers(1, 25, n_orders),
            "demand": rng.integers(1, 4, n_orders),
            "window_start": [f"{h:02d}:00" for h in start],
            "window_end": [f"{h + 2:02d}:00" for h in start],
        }
    )
    stores = pd.DataFrame(
        {"store_id": [f"S{k}" for k in range(5)], "lat": lat[n_orders:-1], "lon": lon[n_orders:-1]}
    )
    k = max(2, n_orders // 15)
    vehicles = pd.DataFrame(
        {
            "vehicle_id": [f"van{i}" for i in range(k)],
            "depot_lat": lat[-1],
            "depot_lon": lon[-1],
            "capacity": 40,
            "shift_start": "08:00",
            "shift_end": "20:00",
            "fixed_cost": 50.0,
            "cost_per_hour": 25.0,
            "cost_per_km": 0.3,
        }
    )
    return orders, vehicles, stores


def one(nodes: int, n_orders: int, time_limit: float) -> dict:
    import fleetroute
    from fleetroute.suite import timed_load

    road_map, cold_s, prepare_s, load_s = timed_load(city_path(nodes))
    orders, vehicles, stores = day(road_map, n_orders)
    plan = fleetroute.plan(
        orders,
        vehicles,
        road_map=road_map,
        stores=stores,
        plan_date=date(2026, 3, 2),
        time_limit_s=time_limit,
    )
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        fleetroute.write_plan(plan, Path(tmp) / "out")
    write_s = time.perf_counter() - t0
    t = dict(plan.timings)
    s = plan.summary()
    non_solver = load_s + t["read"] + t["snap"] + t["matrix"] + t["model"] + write_s
    return {
        "nodes": road_map.n_nodes,
        "orders": n_orders,
        "load_cold_s": cold_s,
        "prepare_s": prepare_s,
        "load_s": load_s,
        "read_s": t["read"],
        "snap_s": t["snap"],
        "matrix_s": t["matrix"],
        "model_s": t["model"],
        "backend": plan.inputs["backend"],
        "first_s": t.get("first_solution", float("nan")),
        "search_s": t["search"],
        "write_s": write_s,
        "non_solver_s": non_solver,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "assigned": s["assigned"],
        "vehicles": s["vehicles_used"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--nodes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--orders", type=int, nargs="*", default=[100, 1000, 2000])
    ap.add_argument("--time-limit", type=float, default=5.0)
    ap.add_argument("--json", type=Path, help="also write the rows to this file")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(args.nodes[0], args.orders[0], args.time_limit)))
        return
    CACHE.mkdir(exist_ok=True)
    rows = []
    for nodes in args.nodes:
        city_path(nodes)
        for n in args.orders:
            cmd = [
                sys.executable,
                __file__,
                "--child",
                "--nodes",
                str(nodes),
                "--orders",
                str(n),
                "--time-limit",
                str(args.time_limit),
            ]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(
                pd.DataFrame(rows[-1:]).round(2).to_string(index=False, header=len(rows) == 1),
                flush=True,
            )
    table = pd.DataFrame(rows)
    print()
    print(
        table.round(2).to_markdown(index=False)
        if _has_tabulate()
        else table.round(2).to_string(index=False)
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
