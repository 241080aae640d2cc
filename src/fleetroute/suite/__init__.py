"""The benchmark suite: plan scenario days on synthetic cities and report speed and quality.

``route bench suite --profile quick --out DIR`` reads the versioned scenarios file
(benchmarks/scenarios.toml), runs every scenario of the profile in its own process (so peak
memory is per scenario), and writes ``results.json``, ``results.csv`` and ``report.md``
with plots. Each scenario: generate (and cache) the city, load it, plan a simulated day
with free-flow times, replay the plan in the simulator's true world; with ``model_days``,
also simulate that much history, train the ETA model, measure its error on two later days
and plan and replay the day with it (the planning quantile, 0.7).

It lives in the package, over the api, because it is a user command (`route bench suite`,
run by CI and by users on their machines) and its pieces (scenario days, true-world replay,
timed map loading) are what the scripts of ``benchmarks/`` build on; the scripts and the
committed results stay in ``benchmarks/``.

- :mod:`.scenarios`: the scenarios file, each scenario's city, day (orders, vans, stores)
  and ETA model.
- :mod:`.run`: one scenario per process: stage times, memory, cost, true-world replay.
- :mod:`.report`: results files, report.md and its plots, comparison with a baseline.
"""

from __future__ import annotations

from fleetroute.suite.report import HEADLINE, compare, read_results, write_report
from fleetroute.suite.run import (
    driven,
    learned_times,
    recorded_on,
    replayed,
    run_scenario,
    run_suite,
    timed_load,
)
from fleetroute.suite.scenarios import (
    PLAN_DATE,
    city_file,
    load_scenarios,
    scenario_day,
    scenario_model,
    scenario_stores,
    vans,
)

__all__ = [
    "HEADLINE",
    "PLAN_DATE",
    "city_file",
    "compare",
    "driven",
    "learned_times",
    "load_scenarios",
    "read_results",
    "recorded_on",
    "replayed",
    "run_scenario",
    "run_suite",
    "scenario_day",
    "scenario_model",
    "scenario_stores",
    "timed_load",
    "vans",
    "write_report",
]
