"""One big OR-Tools day, whole or in compass sectors (SolveOptions.zone_orders).

    python benchmarks/zones.py --nodes 50000 --orders 2000 --vehicles 150 --time-limit 30 \\
        --zone-orders none 1000 500 350 250

A day on the suite's cached grid city (5 stores; simulate_orders puts about half the
orders in them, so OR-Tools plans it), planned with each ``--zone-orders`` value; prints
wall time, stage times, zones, backend, orders assigned, vehicles and cost.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from fleetroute.api import build_problem
from fleetroute.maps import load
from fleetroute.routing.options import SolveOptions
from fleetroute.routing.solve import solve
from fleetroute.simulator.world import simulate_orders
from fleetroute.suite import PLAN_DATE, city_file, scenario_stores, vans

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=50000)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--vehicles", type=int, default=150)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--zone-orders", nargs="+", default=["none", "500"])
    args = parser.parse_args()
    road_map = load(city_file({"layout": "grid", "nodes": args.nodes, "seed": 1}, HERE / ".cache"))
    stores = scenario_stores(road_map, 5, np.random.default_rng(1))
    orders = simulate_orders(road_map, stores, n_orders=args.orders, window_h=4, seed=1)
    problem, _ = build_problem(
        orders, vans(road_map, args.vehicles), road_map=road_map, stores=stores,
        plan_date=PLAN_DATE,
    )  # fmt: skip
    print(f"{args.orders} orders, {int(problem.has_store.sum())} from stores")
    for value in args.zone_orders:
        zone_orders = None if value == "none" else int(value)
        t0 = time.perf_counter()
        plan = solve(problem, SolveOptions(time_limit_s=args.time_limit, zone_orders=zone_orders))
        s = plan.summary()
        stages = {k: round(v, 1) for k, v in plan.timings.items()}
        print(
            f"zone_orders={value}: wall {time.perf_counter() - t0:.1f} s, stages {stages}, "
            f"zones {plan.inputs.get('zones', 1)}, {plan.inputs['backend']}, "
            f"assigned {s['assigned']}, vehicles {s['vehicles_used']}, cost {s['objective']:.0f}"
        )


if __name__ == "__main__":
    main()
