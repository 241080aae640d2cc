"""Two searches side by side on the two cores, the better plan kept.

Days PyVRP cannot express whole (locked sequences, breaks, stop limits on store routes,
:data:`REPAIR`):

- **PyVRP, then OR-Tools**: PyVRP plans the day without the rules it cannot express
  (:func:`fleetroute.routing.repair.relaxed`) for half the time; its routes, repaired to
  obey the locks and stop limits, are OR-Tools' starting plan, and OR-Tools searches the
  rest of the time with every rule (it places the breaks).
- **OR-Tools alone**: its own first plan, then guided local search, for the whole time.

OR-Tools alone (``--backend ortools``, :data:`STARTS`): its search from two first plans,
``SolveOptions.first_solution`` (parallel cheapest insertion unless set otherwise) and
routes grown arc by arc from each vehicle's start (path cheapest arc). Neither start wins
everywhere: OR-Tools alone at 60 s, free-flow, on the store-day benchmark's 400 orders
3,569-3,712 from the insertion and 3,324-3,413 from the arcs, on the suite's 400-order
store day 3,738 and 4,018; at 10 s on Solomon's 29 instances +3.31% and +3.65% mean gap,
+2.26% for the better of the two per instance.

With two workers both run at once on the whole time limit; with one they share it. The
plan that leaves out fewer orders (weighted by ``1 + priority``) wins, then the cheaper.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from fleetroute.routing.options import (
    OVERRUN_SHARE,
    SolveOptions,
    pool_context,
    pyvrp_iterations,
    side_by_side,
)
from fleetroute.routing.ortools_solver import solve_ortools
from fleetroute.routing.problem import Problem
from fleetroute.routing.pyvrp_solver import solve_pyvrp
from fleetroute.routing.repair import relaxed, repair
from fleetroute.routing.schedule import Route, plan_cost
from fleetroute.routing.zones import n_zones, solve_in_zones

__all__ = ["REPAIR", "STARTS", "portfolio"]

#: Share of the chain's time PyVRP searches the relaxed day.
_RELAXED_SHARE = 0.5

_Outcome = tuple[list[Route] | None, dict[str, float], dict[str, Any]]

#: The problem of the running portfolio, set before forking (workers inherit it).
_FORKED: tuple[Problem, np.ndarray] | None = None


def _chain(p: Problem, orders: np.ndarray, opts: SolveOptions, seconds: float) -> _Outcome:
    """PyVRP on the relaxed day, then OR-Tools from its repaired routes."""
    t0 = time.perf_counter()
    share = seconds * _RELAXED_SHARE
    iterations = pyvrp_iterations(opts, _RELAXED_SHARE)
    first, timings, how = solve_pyvrp(
        relaxed(p), orders, seconds=share, iterations=iterations, seed=opts.seed, workers=1
    )
    start = None if first is None else repair(p, first)
    rest = max(0.1, seconds - (time.perf_counter() - t0))
    routes, more = solve_ortools(p, orders, opts, initial=start, seconds=rest)
    info = {
        "relaxed_s": round(share, 3),
        "warm_start": "warm_start" in more,
        **{k: v for k, v in how.items() if k != "searches"},
    }
    return routes, {"pyvrp_" + k: v for k, v in timings.items()} | more, info


def _ortools_zone(
    p: Problem, orders: np.ndarray, opts: SolveOptions, workers: int
) -> tuple[list[Route] | None, str, dict[str, float]]:
    """OR-Tools alone on one zone (the search :func:`solve_in_zones` calls)."""
    del workers
    routes, timings = solve_ortools(p, orders, opts, bounded=True)
    return routes, "ortools", timings


def _scratch(p: Problem, orders: np.ndarray, opts: SolveOptions, seconds: float) -> _Outcome:
    """OR-Tools alone, in sectors on a big day (one after another: the other core is the
    other search's); its first plans cut off at the time limit (the other search has one)."""
    timed = dataclasses.replace(opts, time_limit_s=seconds)
    if n_zones(p, orders, timed) > 1:
        routes, _, timings = solve_in_zones(p, orders, timed, 1, _ortools_zone)
        return routes, timings, {"zones": n_zones(p, orders, timed)}
    routes, timings = solve_ortools(p, orders, opts, seconds=seconds, bounded=True)
    return routes, timings, {}


#: OR-Tools' other first plan, beside ``SolveOptions.first_solution``.
SECOND_START = "PATH_CHEAPEST_ARC"


def _second_start(p: Problem, orders: np.ndarray, opts: SolveOptions, seconds: float) -> _Outcome:
    """OR-Tools alone from its other first plan (:data:`SECOND_START`, or the options'
    default when they already start there)."""
    default = SolveOptions.first_solution
    first = default if opts.first_solution == SECOND_START else SECOND_START
    return _scratch(p, orders, dataclasses.replace(opts, first_solution=first), seconds)


_SEARCHES = {"pyvrp+ortools": _chain, "ortools": _scratch, "ortools, 2nd start": _second_start}
#: The portfolio of a day PyVRP cannot express whole.
REPAIR = ("pyvrp+ortools", "ortools")
#: OR-Tools alone on two cores: from two first plans.
STARTS = ("ortools", "ortools, 2nd start")


def _run(name: str, opts: SolveOptions, seconds: float) -> _Outcome:
    """One search of the portfolio in a forked worker."""
    assert _FORKED is not None, "a forked search needs the problem set before forking"
    p, orders = _FORKED
    return _SEARCHES[name](p, orders, opts, seconds)


def portfolio(
    p: Problem,
    orders: np.ndarray,
    opts: SolveOptions,
    workers: int,
    names: tuple[str, ...] = REPAIR,
) -> tuple[list[Route] | None, str, dict[str, float], dict[str, Any]]:
    """Two searches side by side (``names``, by default :data:`REPAIR`); the better
    plan, the search that made it, the seconds per stage (of the winner) and what
    plan.json says about the contest."""
    global _FORKED
    quiet = dataclasses.replace(opts, on_solution=None)  # callbacks stay in this process
    if workers > 1 and pool_context().get_start_method() == "fork":
        deadline = (
            None
            if opts.solution_limit is not None
            else time.perf_counter() + opts.time_limit_s * (1 + OVERRUN_SHARE)
        )
        _FORKED = (p, orders)
        try:
            calls = [(n, quiet, opts.time_limit_s) for n in names]
            done = side_by_side(_run, calls, deadline=deadline)
        finally:
            _FORKED = None
        # a search stopped at the deadline counts as having found nothing
        outcomes = [r if r is not None else (None, {}, {"stopped": True}) for r in done]
    else:
        each = opts.time_limit_s / len(names)
        outcomes = [_SEARCHES[n](p, orders, opts, each) for n in names]
    scores = [plan_cost(p, routes, orders) for routes, _, _ in outcomes]
    best = min(range(len(names)), key=lambda i: scores[i])
    routes, timings, info = outcomes[best]
    contest = {
        n: {"left_out_weight": s[0], "cost": round(s[1], 2)}
        for n, s in zip(names, scores, strict=True)
    }
    return routes, names[best], timings, {"portfolio": contest, **info}
