"""Wall time of partitioned planning (`route plan --partition depot_id`) with 1 and 2 Dask
workers, and what travels where.

    python benchmarks/depots.py --depots 20 --orders 500 --time-limit 5

Twenty depots on a 4 x 5 lattice over the suite's cached 50k-node grid city, each with 40
vans, its own store and 500 orders drawn from its part of the city (3 in 10 shopped at
its store), 4-hour windows. One day, ``fleetroute.plan_partitioned(by="depot_id")``: every
depot is one task. Reports the wall time per worker count, the sum of the partitions' own
stage times, and the bytes sent: the map once per worker, then per task its rows, and the
plan coming back.
"""

from __future__ import annotations

import argparse
import json
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fleetroute.distributed.cluster import lean_map
from fleetroute.distributed.partition import plan_partitioned, split
from fleetroute.maps import load
from fleetroute.maps.roadmap import haversine_m
from fleetroute.simulator.world import simulate_orders
from fleetroute.suite import PLAN_DATE, city_file, vans

HERE = Path(__file__).parent


def day(road_map, n_depots: int, per_depot: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Orders, vehicles and stores of ``n_depots`` depots with ``per_depot`` orders each."""
    rng = np.random.default_rng(7)
    rows = int(np.floor(np.sqrt(n_depots)))
    cols = int(np.ceil(n_depots / rows))
    lat0, lat1 = np.quantile(road_map.lat, [0.02, 0.98])
    lon0, lon1 = np.quantile(road_map.lon, [0.02, 0.98])
    grid = [
        (lat0 + (r + 0.5) * (lat1 - lat0) / rows, lon0 + (c + 0.5) * (lon1 - lon0) / cols)
        for r in range(rows) for c in range(cols)
    ][:n_depots]  # fmt: skip
    node, _ = road_map.snap([g[0] for g in grid], [g[1] for g in grid])
    d_lat, d_lon = road_map.lat[node], road_map.lon[node]
    # each node's nearest depot (straight line): the depot's part of the city
    metres = [
        haversine_m(road_map.lat, road_map.lon, a, b) for a, b in zip(d_lat, d_lon, strict=True)
    ]
    near = np.argmin(np.stack(metres), axis=0)
    pick = [int(rng.choice(np.flatnonzero(near == k))) for k in range(n_depots)]
    stores = pd.DataFrame(
        {"store_id": [f"S{k + 1:02d}" for k in range(n_depots)], "lat": road_map.lat[pick],
         "lon": road_map.lon[pick], "open": "07:00", "close": "22:00"}
    )  # fmt: skip
    orders, vehicles = [], []
    for k in range(n_depots):
        pool = simulate_orders(road_map, stores.iloc[[k]], n_orders=per_depot * n_depots * 2,
                               store_share=0.3, window_h=4, seed=100 + k)  # fmt: skip
        o_node, _ = road_map.snap(pool["lat"], pool["lon"])
        mine = pool[near[o_node] == k].head(per_depot)
        orders.append(mine.assign(order_id=[f"d{k + 1:02d}-{i:04d}" for i in range(len(mine))],
                                  depot_id=f"depot{k + 1:02d}"))  # fmt: skip
        v = vans(road_map, 40).assign(depot_lat=d_lat[k], depot_lon=d_lon[k],
                                      depot_id=f"depot{k + 1:02d}")  # fmt: skip
        v["vehicle_id"] = [f"d{k + 1:02d}-van{i + 1:02d}" for i in range(len(v))]
        vehicles.append(v)
    return pd.concat(orders, ignore_index=True), pd.concat(vehicles, ignore_index=True), stores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depots", type=int, default=20)
    parser.add_argument("--orders", type=int, default=500, help="orders per depot")
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "depots.json")
    args = parser.parse_args()
    sc = {"layout": "grid", "nodes": 50000, "seed": 1}
    road_map = load(city_file(sc, HERE / ".cache"))
    orders, vehicles, stores = day(road_map, args.depots, args.orders)
    sizes = orders.groupby("depot_id").size()
    print(f"{len(orders)} orders at {args.depots} depots ({sizes.min()}-{sizes.max()} each), "
          f"{len(vehicles)} vans, map {road_map.n_nodes} nodes")  # fmt: skip
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, table in (("orders", orders), ("vehicles", vehicles), ("stores", stores)):
            table.to_csv(root / f"{name}.csv", index=False)
        t0 = time.perf_counter()
        parts, _ = split(
            root / "orders.csv", root / "vehicles.csv", by="depot_id", road_map=road_map,
            stores=root / "stores.csv", plan_date=PLAN_DATE,
        )  # fmt: skip
        split_s = time.perf_counter() - t0
        for workers in args.workers:
            t0 = time.perf_counter()
            result = plan_partitioned(
                root / "orders.csv", root / "vehicles.csv", road_map=road_map, by="depot_id",
                stores=root / "stores.csv", plan_date=PLAN_DATE, n_workers=workers,
                time_limit_s=args.time_limit,
            )  # fmt: skip
            wall = time.perf_counter() - t0
            s = result.summary()
            stages = {k: round(v, 1) for k, v in result.timings.items() if k != "partitions_wall"}
            runs.append({"workers": workers, "wall_s": round(wall, 1), "assigned": s["assigned"],
                         "orders": s["orders"], "vehicles_used": s["vehicles_used"],
                         "objective": s["objective"], "failed": s["failed_partitions"],
                         "partition_stage_s_summed": stages})  # fmt: skip
            print(runs[-1])
        plan_bytes = [len(pickle.dumps(p)) for p in result.parts.values()]
    doc = {
        "depots": args.depots, "orders_per_depot": args.orders, "time_limit_s": args.time_limit,
        "nodes": road_map.n_nodes, "split_s": round(split_s, 2),
        "bytes": {
            "map_per_worker": len(pickle.dumps(lean_map(road_map))),
            "task_rows_mean": int(np.mean([len(pickle.dumps(p)) for p in parts])),
            "plan_back_mean": int(np.mean(plan_bytes)),
        },
        "runs": runs,
        "command": "python benchmarks/depots.py " + " ".join(
            f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in vars(args).items() if k != "out"
        ),
    }  # fmt: skip
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc["bytes"]), f"split {split_s:.1f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
