"""Which pair of searches should share the two cores on a store-heavy day?

    python benchmarks/portfolio_pair.py 60 0      # time limit, seed

On the acceptance store day of benchmarks/store_day.py (400 orders, free-flow and the
model's q0.65), the store-heavy portfolio as shipped (guided PyVRP beside OR-Tools)
against two guided PyVRP searches with seeds ``seed`` and ``seed + 1``; each plan's
objective and its true cost and on-time rate when replayed 3 times in the simulator's
true world (results in benchmarks/results/store_day.md).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from typing import Any

import fleetroute
from fleetroute.eta_model.learned import LearnedEta
from fleetroute.routing import portfolio as pf
from fleetroute.routing.options import SolveOptions
from fleetroute.routing.plan import Plan
from fleetroute.suite import replayed
from store_day import PLAN_DATE, city_and_model, day


def _second_pyvrp(p: Any, orders: Any, opts: SolveOptions, seconds: float) -> Any:
    return pf._pyvrp(p, orders, dataclasses.replace(opts, seed=opts.seed + 1), seconds)


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    pf._SEARCHES["pyvrp2"] = _second_pyvrp  # an experiment's pair, not a shipped one
    road_map, model, stores = city_and_model((0.5, 0.65, 0.9))
    orders, vehicles = day(road_map, stores, 400, 40)
    for label, eta in [("free-flow", None), ("q0.65", LearnedEta(model))]:
        p, _ = fleetroute.build_problem(orders, vehicles, road_map=road_map, stores=stores,
                                        plan_date=PLAN_DATE, eta=eta)  # fmt: skip
        for names in [("pyvrp", "ortools"), ("pyvrp", "pyvrp2")]:
            t0 = time.perf_counter()
            opts = SolveOptions(time_limit_s=limit, seed=seed)
            routes, best, _, info = pf.portfolio(p, p.plannable, opts, 2, names)
            plan = Plan(p, tuple(routes or ()), {}, time.perf_counter() - t0, {})
            on_time, true_cost = replayed(road_map, plan, draws=3)
            print(json.dumps({"times": label, "pair": names, "kept": best,
                              "objective": round(plan.objective, 1),
                              "true_cost": round(true_cost, 1), "on_time": round(on_time, 4),
                              "contest": info["portfolio"]}))  # fmt: skip


if __name__ == "__main__":
    main()
