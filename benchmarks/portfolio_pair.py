"""Which pair of searches should share the two cores on a store-heavy day?

    python benchmarks/portfolio_pair.py 60 0      # time limit, seed

On the acceptance store day of benchmarks/store_day.py (400 orders, free-flow and the
model's q0.65), the store-heavy search as shipped (two guided PyVRP searches, seeds
``seed`` and ``seed + 1``, :func:`fleetroute.solve`) against the pair it replaced (guided
PyVRP beside OR-Tools); each plan's objective and its true cost and on-time rate when
replayed 3 times in the simulator's true world (results in benchmarks/results/store_day.md).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import fleetroute
from fleetroute.eta_model.learned import LearnedEta
from fleetroute.routing import portfolio as pf
from fleetroute.routing.options import SolveOptions
from fleetroute.routing.plan import Plan
from fleetroute.routing.pyvrp_solver import solve_pyvrp
from fleetroute.suite import replayed
from store_day import PLAN_DATE, city_and_model, day


def _pyvrp(p: Any, orders: Any, opts: SolveOptions, seconds: float) -> Any:
    """One guided PyVRP search on one core (the pair's PyVRP side)."""
    routes, timings, how = solve_pyvrp(
        p, orders, seconds=seconds, seed=opts.seed, workers=1, guide=True, minimise=False
    )
    return routes, timings, {k: v for k, v in how.items() if k != "searches"}


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    pf._SEARCHES["pyvrp"] = _pyvrp  # the replaced pair, not a shipped one
    road_map, model, stores = city_and_model((0.5, 0.65, 0.9))
    orders, vehicles = day(road_map, stores, 400, 40)
    for label, eta in [("free-flow", None), ("q0.65", LearnedEta(model, quantile=0.65))]:
        p, _ = fleetroute.build_problem(orders, vehicles, road_map=road_map, stores=stores,
                                        plan_date=PLAN_DATE, eta=eta)  # fmt: skip
        opts = SolveOptions(time_limit_s=limit, seed=seed)
        t0 = time.perf_counter()
        routes, best, _, info = pf.portfolio(p, p.plannable, opts, 2, ("pyvrp", "ortools"))
        pair = Plan(p, tuple(routes or ()), {}, time.perf_counter() - t0, {})
        shipped = fleetroute.solve(p, opts)
        for label2, plan, kept in [("pyvrp+ortools", pair, best), ("shipped", shipped, "")]:
            on_time, true_cost = replayed(road_map, plan, draws=3)
            print(json.dumps({"times": label, "search": label2, "kept": kept,
                              "objective": round(plan.objective, 1),
                              "true_cost": round(true_cost, 1), "on_time": round(on_time, 4),
                              "how": plan.inputs.get("search") or info["portfolio"]}))  # fmt: skip


if __name__ == "__main__":
    main()
