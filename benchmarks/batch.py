"""Wall time of `route batch` (fleetroute.distributed.batch.plan_batch) with 1 and 2 Dask workers.

    python benchmarks/batch.py --days 20 --orders 500 --time-limit 5

Twenty days of 500 orders each (a third shopped at 5 stores) on the cached 50k-node grid
city of the suite, 40 vans at the centre, one search per day with the time limit given.
Also reports how many bytes go to each worker: the map once (pickled arrays), then per
task only the file paths and options.
"""

from __future__ import annotations

import argparse
import json
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np

from fleetroute.distributed.batch import plan_batch
from fleetroute.distributed.cluster import lean_map
from fleetroute.maps import load
from fleetroute.simulator.world import simulate_orders
from fleetroute.suite import PLAN_DATE, city_file, scenario_stores, vans

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "batch.json")
    args = parser.parse_args()
    sc = {"layout": "grid", "nodes": 50000, "seed": 1}
    road_map = load(city_file(sc, HERE / ".cache"))
    rng = np.random.default_rng(1)
    stores = scenario_stores(road_map, 5, rng)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        stores.to_csv(root / "stores.csv", index=False)
        vans(road_map, 40).to_csv(root / "vehicles.csv", index=False)
        (root / "days").mkdir()
        for d in range(args.days):
            orders = simulate_orders(road_map, stores, n_orders=args.orders, window_h=4, seed=d)
            orders.to_csv(root / "days" / f"day{d:02d}.csv", index=False)
        files = sorted((root / "days").glob("*.csv"))
        for workers in (1, 2):
            t0 = time.perf_counter()
            days = plan_batch(
                files, root / f"out{workers}", road_map=road_map, n_workers=workers,
                vehicles=root / "vehicles.csv", stores=root / "stores.csv",
                plan_date=PLAN_DATE, time_limit_s=args.time_limit,
            )  # fmt: skip
            wall = time.perf_counter() - t0
            planned = sum(d.status == "planned" for d in days)
            assigned = sum(d.summary.get("assigned", 0) for d in days)
            rows.append({"workers": workers, "wall_s": round(wall, 1), "days": planned,
                         "assigned": assigned})  # fmt: skip
            print(rows[-1])
    map_bytes = len(pickle.dumps(lean_map(road_map)))
    doc = {"days": args.days, "orders_per_day": args.orders, "time_limit_s": args.time_limit,
           "nodes": road_map.n_nodes, "map_bytes_per_worker": map_bytes, "runs": rows}  # fmt: skip
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"map sent once per worker: {map_bytes / 1e6:.1f} MB; wrote {args.out}")


if __name__ == "__main__":
    main()
