"""Best-known plans of the suite's store days: long runs of every backend and of VROOM.

    python benchmarks/best_known.py store-10k-400 --seconds 300
    python benchmarks/best_known.py store-10k-400 store-50k-2000 --seconds 300 --skip-model
    python benchmarks/best_known.py store-10k-400 --seconds 180 --skip-free-flow
    python benchmarks/best_known.py store-10k-400 store-50k-2000 store-200k-5000 --replay 3

For each scenario of benchmarks/scenarios.toml named, the same day the suite plans (same
city, orders, vans; the model trained the same way), planned on free-flow times and on the
model's planning times (each place's slowest band as one static matrix for VROOM):

- the default search (``default``: PyVRP, in zones on big days), ``--seconds``;
- PyVRP alone (``--backend pyvrp``, the whole day), ``--seconds`` on both cores;
- OR-Tools alone (``--backend ortools``), ``--seconds``;
- VROOM through ``pyvroom`` (an outside reference), exploration level 5, both cores,
  ``--seconds`` at most, given the same matrices, service times, windows, capacities and
  costs (VROOM's per-hour cost is on driving time; its routes are costed here with ours).

A learned plan keeps the model's margin before each window closes: every search is given
the windows less the margin. ``--searches`` runs some of them, merged with the runs
recorded for the same times. Every plan is costed by the engine's own schedule (the
objective of plan.json). The best objective among the plans that serve the most orders
is the day's best-known plan; the suite reports its default plan's gap to it. A search's
run replaces the one recorded before for the same times only when it is better. Writes
``benchmarks/results/best_known.json`` (merged with what is there) and each plan's
routes.csv under
``benchmarks/results/best_known/<scenario>/<eta>-<search>.csv``.

``--replay DRAWS`` searches nothing: it drives the recorded plans in the simulator's true
world ``DRAWS`` times each and prints their true cost, on-time rate and the hours their
vans waited for windows to open, and the price of punctuality of the best-known plans (the
learned one's true cost over the free-flow one's): what being on time costs when neither
plan is held back by its search's time. Writes
``benchmarks/results/best_known_replayed.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import fleetroute
from fleetroute.eta_model.learned import LearnedEta
from fleetroute.routing.plan import Plan
from fleetroute.routing.problem import Problem
from fleetroute.routing.schedule import DROPOFF, PICKUP, Route
from fleetroute.suite import (
    PLAN_DATE,
    city_file,
    learned_times,
    load_scenarios,
    recorded_on,
    scenario_day,
    scenario_model,
)
from store_day import judged

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def vroom_plan(p: Problem, seconds: float) -> Plan:
    """VROOM's plan of ``p`` on the same matrices (hour bands: each row's slowest band)."""
    import vroom

    orders = p.plannable
    used = np.unique(np.concatenate([p.start_loc, p.end_loc, p.order_loc, p.store_loc]))
    at = {int(loc): i for i, loc in enumerate(used.tolist())}
    travel = p.slowest_travel_s(used).astype(np.uint32)
    inp = vroom.Input()
    inp.set_durations_matrix("car", travel)
    inp.set_distances_matrix("car", p.distance_m[np.ix_(used, used)].astype(np.uint32))
    scale = 100  # VROOM's costs are integers: cents
    most = 2**31 - 1

    def skills(mask: int) -> set[int]:
        return {b for b in range(len(p.skill_names)) if mask >> b & 1}

    def amount(i: int) -> Any:
        return vroom.Amount([int(p.demand[i]), *p.dim_demand[i].tolist()])

    for k in range(p.n_vehicles):
        limits = {}
        if p.max_route_s[k] < most:  # VROOM limits driving time only, not the whole route
            limits["max_travel_time"] = int(p.max_route_s[k])
        if p.max_distance_m[k] < most:
            limits["max_distance"] = int(p.max_distance_m[k])
        inp.add_vehicle(
            vroom.Vehicle(
                k + 1,
                start=at[int(p.start_loc[k])],
                end=at[int(p.end_loc[k])],
                capacity=vroom.Amount(
                    [int(min(c, most)) for c in (p.capacity[k], *p.dim_capacity[k].tolist())]
                ),
                skills=skills(int(p.vehicle_skills[k])),
                **limits,
                time_window=vroom.TimeWindow(int(p.shift_start_s[k]), int(p.shift_end_s[k])),
                costs=vroom.VehicleCosts(
                    fixed=int(round(p.fixed_cost[k] * scale)),
                    per_hour=int(round(p.cost_per_hour[k] * scale)),
                    per_km=int(round(p.cost_per_km[k] * scale)),
                ),
            )
        )
    for i in orders.tolist():
        # every window of the order (VROOM has several windows; soft ones are hard here)
        window = [vroom.TimeWindow(int(a), int(b)) for a, b in p.windows_of(i).tolist()]
        drop_at = at[int(p.order_loc[i])]
        if p.order_store[i] < 0:
            inp.add_job(
                vroom.Job(
                    i + 1,
                    location=drop_at,
                    default_service=int(p.dropoff_s[i]),
                    delivery=amount(i),
                    skills=skills(int(p.order_skills[i])),
                    time_windows=window,
                )
            )
            continue
        s = int(p.order_store[i])
        shop = int(p.shop_s[i])
        inp.add_shipment(
            vroom.ShipmentStep(
                i + 1,
                location=at[int(p.store_loc[s])],
                # VROOM's setup is paid only on arriving from another place: a store visit
                default_setup=int(p.store_visit_s[s]),
                default_service=shop,
                time_windows=[
                    vroom.TimeWindow(
                        int(p.store_open_s[s]),
                        int(p.store_close_s[s]) - shop - int(p.store_visit_s[s]),
                    )
                ],
            ),
            vroom.ShipmentStep(
                i + 1, location=drop_at, default_service=int(p.dropoff_s[i]), time_windows=window
            ),
            amount=amount(i),
            skills=skills(int(p.order_skills[i])),
        )
    t0 = time.perf_counter()
    sol = inp.solve(exploration_level=5, nb_threads=2, timeout=timedelta(seconds=seconds))
    elapsed = time.perf_counter() - t0
    routes = []
    table = sol.routes
    for vid, rows in table.groupby("vehicle_id", sort=False):
        kinds, seq = [], []
        for kind, job in zip(rows["type"], rows["id"], strict=True):
            if kind in ("job", "delivery"):
                kinds.append(DROPOFF)
            elif kind == "pickup":
                kinds.append(PICKUP)
            else:
                continue
            seq.append(int(job) - 1)
        if seq:
            routes.append(Route(int(vid) - 1, tuple(kinds), tuple(seq)))
    served = {o for r in routes for o in r.orders}
    left = {i: "VROOM left it out" for i in orders.tolist() if i not in served}
    return Plan(p, tuple(routes), left, elapsed, {"backend": "vroom"})


SEARCHES = ("default", "pyvrp", "ortools", "vroom")


def runs(p: Problem, seconds: float, searches: list[str]) -> dict[str, Plan]:
    """The long runs of one day (``searches`` of :data:`SEARCHES`)."""
    out = {}
    for search in searches:
        if search == "vroom":
            out[search] = vroom_plan(p, seconds)
        else:
            backend = "auto" if search == "default" else search
            out[search] = fleetroute.solve(
                p, fleetroute.SolveOptions(time_limit_s=seconds, backend=backend)
            )
    return out


#: What ``--replay`` keeps of each plan's :func:`store_day.judged` figures.
_DRIVEN = ("assigned", "vans", "km", "objective", "true_cost", "true_on_time", "true_wait_h")


def recorded_plan(p: Problem, path: Path) -> Plan:
    """The plan of ``p`` a routes.csv this script wrote describes (its pickups and
    drop-offs: the store days have no breaks or reloads)."""
    vehicle = {v: k for k, v in enumerate(p.vehicle_id)}
    order = {o: i for i, o in enumerate(p.order_id)}
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    routes = []
    for vid, rows in table.groupby("vehicle_id", sort=False):
        stops = rows[rows["kind"].isin(["pickup", "dropoff"])]
        kinds = tuple(PICKUP if k == "pickup" else DROPOFF for k in stops["kind"])
        if kinds:
            routes.append(Route(vehicle[vid], kinds, tuple(order[o] for o in stops["order_id"])))
    served = {o for r in routes for o in r.orders}
    left = {i: "not in the recorded plan" for i in p.plannable.tolist() if i not in served}
    return Plan(p, tuple(routes), left, 0.0, {"backend": path.stem})


def replay_recorded(
    sc: dict[str, Any], entry: dict[str, Any], road_map: Any, draws: int
) -> dict[str, Any]:
    """Every recorded plan of the scenario (``entry`` of best_known.json) driven ``draws``
    times in the true world, and the best-known plans' price of punctuality."""
    orders, vehicles, stores = scenario_day(sc, road_map)
    etas: dict[str, Any] = {"free_flow": None}
    if sc["model_days"]:  # trained as the suite trains it (its digest is checked)
        etas["model"] = LearnedEta(scenario_model(sc, road_map, stores)[0])
    out: dict[str, Any] = {}
    for name, eta in etas.items():
        if eta is not None and not recorded_on(entry, name, learned_times(eta)):
            print(sc["name"], name, "recorded on other times: not replayed", flush=True)
            continue
        problem, _ = fleetroute.build_problem(
            orders, vehicles, road_map=road_map, stores=stores, eta=eta, plan_date=PLAN_DATE
        )
        for search in entry.get(f"{name}_runs", {}):
            path = RESULTS / "best_known" / sc["name"] / f"{name}-{search}.csv"
            plan = recorded_plan(problem, path)
            run = {k: v for k, v in judged(road_map, plan, draws).items() if k in _DRIVEN}
            print(sc["name"], name, search, run, flush=True)
            out.setdefault(name, {})[search] = run
    best = {  # the best-known plan: the cheapest of those that serve the most
        name: min(runs.values(), key=lambda r: (-r["assigned"], r["objective"]))
        for name, runs in out.items()
    }
    if {"free_flow", "model"} <= best.keys():
        out["price_of_punctuality"] = round(
            best["model"]["true_cost"] / best["free_flow"]["true_cost"], 4
        )
        print(sc["name"], "best-known plans' price", out["price_of_punctuality"], flush=True)
    return out


def _rank(run: dict[str, Any]) -> tuple[int, float]:
    """A run's place among runs of one day: more orders served first, then cheaper."""
    return -int(run["assigned"]), float(run["objective"])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("scenarios", nargs="+")
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--skip-model", action="store_true")
    ap.add_argument(
        "--skip-free-flow",
        action="store_true",
        help="only the model's day (after the model changed; free-flow plans are as they were)",
    )
    ap.add_argument("--searches", nargs="+", choices=SEARCHES, default=list(SEARCHES))
    ap.add_argument("--cache", type=Path, default=HERE / ".cache" / "suite")
    ap.add_argument(
        "--replay",
        type=int,
        metavar="DRAWS",
        help="search nothing: drive the recorded plans in the true world DRAWS times each",
    )
    args = ap.parse_args()
    path = RESULTS / "best_known.json"
    known: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if args.replay:
        replay_all(args, known)
        return
    for sc in load_scenarios(HERE / "scenarios.toml", "full", args.scenarios):
        args.cache.mkdir(parents=True, exist_ok=True)
        road_map = fleetroute.maps.load(city_file(sc, args.cache))
        orders, vehicles, stores = scenario_day(sc, road_map)
        etas: dict[str, Any] = {} if args.skip_free_flow else {"free_flow": None}
        if sc["model_days"] and not args.skip_model:
            model, _, _ = scenario_model(sc, road_map, stores)
            etas["model"] = LearnedEta(model)  # the planning quantile, as the suite plans
        entry = dict(known.get(sc["name"], {}))
        added: dict[str, bool] = {}
        for name, eta in etas.items():
            problem, _ = fleetroute.build_problem(
                orders, vehicles, road_map=road_map, stores=stores, eta=eta, plan_date=PLAN_DATE
            )
            plans = runs(problem.for_search(), args.seconds, args.searches)
            folder = RESULTS / "best_known" / sc["name"]
            folder.mkdir(parents=True, exist_ok=True)
            times = {} if eta is None else learned_times(eta)
            same = recorded_on(entry, name, times)
            table = dict(entry.get(f"{name}_runs", {})) if same else {}
            added[name] = bool(table)  # these runs join runs recorded before
            for search, made in plans.items():
                s = made.summary()
                run = {
                    "objective": round(s["objective"], 2),
                    "assigned": s["assigned"],
                    "vehicles": s["vehicles_used"],
                }
                print(sc["name"], name, search, run, flush=True)
                before = table.get(search)
                if before and _rank(before) <= _rank(run):
                    # a best-known plan is the best known: a worse run does not replace it
                    print("  kept the run recorded before:", before, flush=True)
                    continue
                table[search] = run
                made.routes_table().to_csv(folder / f"{name}-{search}.csv", index=False)
            most = max(r["assigned"] for r in table.values())
            entry[name] = min(r["objective"] for r in table.values() if r["assigned"] == most)
            entry[f"{name}_runs"] = table
            # the suite compares only plans made on the same times
            entry.update({f"{name}_{k}": v for k, v in times.items()})
        this = f"python benchmarks/best_known.py {sc['name']} --seconds {args.seconds:g}" + (
            "" if args.searches == list(SEARCHES) else f" --searches {' '.join(args.searches)}"
        )
        # runs that join runs recorded before: their command follows the earlier ones'
        for name, key, flag in (
            ("free_flow", "command", " --skip-model" if args.skip_model else ""),
            ("model", "model_command", " --skip-free-flow" if args.skip_free_flow else ""),
        ):
            if name in etas:
                before = entry.get(key)
                kept = added[name] and before and before != this + flag
                entry[key] = f"{before}; then {this}{flag}" if kept else this + flag
        known[sc["name"]] = entry
        path.write_text(json.dumps(known, indent=1) + "\n")


def replay_all(args: argparse.Namespace, known: dict[str, Any]) -> None:
    """``--replay``: the recorded plans of ``args.scenarios`` driven in the true world."""
    out_path = RESULTS / "best_known_replayed.json"
    out: dict[str, Any] = json.loads(out_path.read_text()) if out_path.exists() else {}
    for sc in load_scenarios(HERE / "scenarios.toml", "full", args.scenarios):
        args.cache.mkdir(parents=True, exist_ok=True)
        road_map = fleetroute.maps.load(city_file(sc, args.cache))
        entry = known.get(sc["name"], {})
        out[sc["name"]] = {
            "command": f"python benchmarks/best_known.py {sc['name']} --replay {args.replay}",
            **replay_recorded(sc, entry, road_map, args.replay),
        }
        out_path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
