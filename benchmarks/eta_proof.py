"""Proof of the ETA model: learn from simulated history, plan a day with and without it, and
replay both plans in the simulator's true world.

    python benchmarks/eta_proof.py                 # ~105k trips, 300 orders, 20 s per plan
    python benchmarks/eta_proof.py --quick         # a smaller run

The city (seed 21) and its history were not used to tune the model. Reported: training time,
the model's held-out MAE next to the noise floor (the error of the true world's own expected
times), P90 coverage, the time to predict a 2,000 x 2,000 band, and for each plan the
on-time rate and lateness when replayed over several noise draws, vehicles, km and cost.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

import fleetroute
from fleetroute.eta_model.features import travel_features
from fleetroute.eta_model.learned import LearnedEta
from fleetroute.simulator.world import TrueWorld, replay, simulate_history, simulate_orders
from fleetroute.suite import vans

CACHE = Path(__file__).parent / ".cache"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    days, per_day, n_orders, limit, draws = (
        (35, 3000, 300, 20.0, 5) if not args.quick else (10, 1500, 120, 5.0, 3)
    )
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        city = CACHE / "city_eta_21.graphml"
        if not city.exists():
            fleetroute.maps.write_synthetic_city(city, 10_000, seed=21, center=(48.14, 11.58))
        road_map = fleetroute.maps.load(city)
        world = TrueWorld()
        train = simulate_history(
            road_map,
            root / "train",
            days=days,
            trips_per_day=per_day,
            stops_per_day=per_day * 2 // 3,
            seed=21,
        )
        test = simulate_history(
            road_map,
            root / "test",
            days=3,
            trips_per_day=per_day,
            stops_per_day=per_day * 2 // 3,
            seed=22,
            start=date(2026, 3, 2),
        )
        t0 = time.perf_counter()
        model = fleetroute.train_eta(road_map, train["trips"], train["stops"])
        out["train_s"] = round(time.perf_counter() - t0, 1)
        out["train_trips"] = days * per_day
        out["train_stops"] = days * (per_day * 2 // 3)
        metrics = fleetroute.evaluate_eta(model, road_map, test["trips"], test["stops"])
        floor_t, floor_s = world.noise_floor(
            road_map, pd.read_csv(test["trips"]), pd.read_csv(test["stops"])
        )
        out["travel"] = {
            **metrics["travel"],
            "noise_floor_mae_s": round(float(floor_t), 1),
            "mae_over_floor": round(metrics["travel"]["mae_s"] / floor_t, 3),
            "baseline_mae_s": metrics["baseline"]["travel"]["mae_s"],
        }
        out["service"] = {
            **metrics["service"],
            "noise_floor_mae_s": round(float(floor_s), 1),
            "mae_over_floor": round(metrics["service"]["mae_s"] / floor_s, 3),
            "baseline_mae_s": metrics["baseline"]["service"]["mae_s"],
        }

        rng = np.random.default_rng(0)
        nodes = rng.choice(road_map.n_nodes, 2000, replace=False)
        features = travel_features(
            road_map,
            np.repeat(nodes, 2000),
            np.tile(nodes, 2000),
            hour=8.0,
            weekday=1,
            area_s=model.area_edges(road_map),
        )
        t0 = time.perf_counter()
        model.predict_travel(features)
        out["predict_2000x2000_s"] = round(time.perf_counter() - t0, 2)

        stores = pd.read_csv(train["stores"])
        orders = simulate_orders(road_map, stores, n_orders=n_orders, seed=5)
        vehicles = vans(road_map, n_orders // 10)
        plans = {}
        for name, eta in (
            ("free-flow", None),
            ("model q0.5", LearnedEta(model, quantile=0.5)),
            ("model q0.9", LearnedEta(model, quantile=0.9)),
        ):
            plan = fleetroute.plan(
                orders,
                vehicles,
                road_map=road_map,
                stores=stores,
                eta=eta,
                plan_date=date(2026, 3, 3),
                time_limit_s=limit,
            )
            s = plan.summary()
            driven = pd.concat([replay(road_map, plan, world=world, seed=k) for k in range(draws)])
            late = driven[driven["order_id"] != ""]
            true_hours = driven.loc[driven["order_id"] == "", "late_s"].sum() / 3600 / draws
            used = [route.vehicle for route in plan.routes]
            true_cost = (
                float(plan.problem.fixed_cost[used].sum())
                + 0.3 * s["total_distance_m"] / 1000
                + 25.0 * true_hours
            )
            plans[name] = {
                "assigned": s["assigned"],
                "vehicles": s["vehicles_used"],
                "km": round(s["total_distance_m"] / 1000, 1),
                "hours": round(s["total_duration_s"] / 3600, 1),
                "cost": s["objective"],
                "replay_hours": round(true_hours, 1),
                "replay_cost": round(true_cost, 1),
                "replay_on_time": round(float((late["late_s"] == 0).mean()), 4),
                "replay_mean_late_s": round(float(late["late_s"].mean()), 1),
                "replay_p95_late_s": round(float(late["late_s"].quantile(0.95)), 1),
            }
        out["plans"] = plans
    print(json.dumps(out, indent=2))
    print()
    print(pd.DataFrame(plans).T.to_string())
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
