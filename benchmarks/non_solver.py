"""Non-solver overhead of one suite scenario: load, read, snap, matrix, with peak memory.

    python benchmarks/non_solver.py grid-200k-5000-stores

Runs everything `route bench suite` runs before the solver's search (the cached map load,
the day's orders, reading, snapping and the travel matrices) for the named scenario of
benchmarks/scenarios.toml, then prints the stage times and peak RSS as JSON. The issue's
target for 5,000 orders on a 200k-node city: under 60 s and 8 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from fleetroute.api import build_problem
from fleetroute.eta_model.world import simulate_orders
from fleetroute.maps import load
from fleetroute.suite import PLAN_DATE, _city, _stores, load_scenarios, vans

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--scenarios", type=Path, default=HERE / "scenarios.toml")
    args = parser.parse_args()
    by_name = {sc["name"]: sc for sc in load_scenarios(args.scenarios, "full")}
    sc = by_name[args.scenario]
    rng = np.random.default_rng(sc["seed"])
    path = _city(sc, HERE / ".cache")
    # parse the GraphML (and freeze it into the map cache) in another process, so this
    # one's peak memory is the cached load and what follows
    warm = f"import fleetroute.maps as m; m.load({str(path)!r})"
    subprocess.run([sys.executable, "-c", warm], check=True)
    t0 = time.perf_counter()
    road_map = load(path)
    load_s = time.perf_counter() - t0
    stores = _stores(road_map, sc["stores"], rng)
    orders = simulate_orders(
        road_map, stores, n_orders=sc["orders"], window_h=sc["window_h"], seed=sc["seed"]
    )
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    problem, _ = build_problem(
        orders,
        vans(road_map, sc["vehicles"]),
        road_map=road_map,
        stores=stores,
        plan_date=PLAN_DATE,
        timings=timings,
    )
    total = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "scenario": sc["name"],
                "nodes": road_map.n_nodes,
                "locations": int(problem.travel_s.shape[0]),
                "load_s": round(load_s, 2),
                **{f"{k}_s": round(v, 2) for k, v in timings.items()},
                "non_solver_s": round(load_s + total, 2),
                "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    main()
