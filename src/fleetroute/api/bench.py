"""Standard VRP instances solved by the routing core (`route bench vrplib`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetroute.routing.solve import SolveOptions, solve

if TYPE_CHECKING:
    pass


def bench_vrplib(
    paths: list[str | Path],
    *,
    time_limit_s: float = 10.0,
    solution_limit: int | None = None,
    seed: int = 0,
    backend: str = "auto",
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """Solve standard instances with the engine's routing core; one result dict per file.

    Each dict has ``instance``, ``family``, ``cost`` (in the family's convention),
    ``vehicles``, ``feasible`` (every customer served, every window, capacity and the
    depot's horizon kept), ``time_s`` and ``routes`` (node numbers as the file numbers
    them, depot left out).
    """
    from fleetroute.routing.instances import read_instance

    results = []
    for path in paths:
        inst = read_instance(path)
        t0 = time.perf_counter()
        result = solve(
            inst.problem,
            SolveOptions(
                time_limit_s=time_limit_s,
                solution_limit=solution_limit,
                seed=seed,
                backend=backend,
                workers=workers,
            ),
        )
        elapsed = time.perf_counter() - t0
        routes, cost = [], 0.0
        for route in result.routes:
            nodes = [
                int(inst.pickup_node[o] if kind == "pickup" else inst.dropoff_node[o])
                for kind, o in zip(route.kinds, route.orders, strict=True)
            ]
            path_nodes = [0, *nodes, 0]
            cost += float(
                sum(
                    inst.distance[a, b]
                    for a, b in zip(path_nodes[:-1], path_nodes[1:], strict=True)
                )
            )
            routes.append(nodes)
        late = any(int(s.late_s.sum()) > 0 for s in result.schedules)
        results.append(
            {
                "instance": inst.name,
                "family": inst.family,
                "cost": round(cost, 4),
                "vehicles": len(routes),
                "feasible": not result.unassigned and not late,
                "time_s": round(elapsed, 3),
                "backend": result.inputs["backend"],
                "routes": routes,
            }
        )
    return results
