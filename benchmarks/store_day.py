"""A store day planned every way we can, judged by what it costs when driven.

    python benchmarks/store_day.py                              # 400 orders, 60 s per plan
    python benchmarks/store_day.py --orders 400 --time-limit 20 --plans ff-auto ff-ortools
    python benchmarks/store_day.py --json benchmarks/results/store_day.json

The day the solver issue measures: a third of the orders shopped at 3 stores, 2-hour
windows from 08:00 to 19:00, 40 vans (fixed 40, 25 per hour, 0.25 per km), on a synthetic
10k-node city (seed 21, not tuned on) with an ETA model trained on 35 days of its
simulated history. Each plan: ``ff-`` plans on free-flow times, ``q50-``/``q90-`` on the
model's median or P90 (``qNN-`` for a quantile given with ``--quantiles``); then the
backend (``auto``, ``pyvrp``, ``ortools``). Every plan is replayed ``--draws`` times in
the simulator's true world: the true cost (fixed costs + per-km + per-hour of the hours
the routes really took) and the on-time rate. The price of punctuality is a learned
plan's true cost over the best free-flow plan's.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import fleetroute
from fleetroute.errors import ModelBundleError
from fleetroute.eta_model.learned import LearnedEta
from fleetroute.eta_model.model import EtaModel
from fleetroute.simulator.world import simulate_history, simulate_orders
from fleetroute.suite import driven

CACHE = Path(__file__).parent / ".cache"
PLAN_DATE = date(2026, 3, 3)
PLANS = ("ff-auto", "ff-pyvrp", "ff-ortools", "q50-auto", "q90-auto", "q50-ortools")


def eta_city() -> Any:
    """The 10k-node city (seed 21) the ETA benchmarks share, made once and cached."""
    city = CACHE / "city_eta_21.graphml"
    if not city.exists():
        fleetroute.maps.write_synthetic_city(city, 10_000, seed=21, center=(48.14, 11.58))
    return fleetroute.maps.load(city)


def city_and_model(quantiles: tuple[float, ...] = (0.5, 0.9)) -> tuple[Any, EtaModel, pd.DataFrame]:
    """The 10k-node city (seed 21), its stores and a model of those quantiles trained on its
    history (cached)."""
    road_map = eta_city()
    extra = "".join(f"_{q:g}" for q in quantiles if q not in (0.5, 0.9))
    bundle = CACHE / f"store_day_model{extra}"
    stores_csv = CACHE / "store_day_stores.csv"
    try:  # a cached bundle of an older fleetroute (other features, schema) is trained again
        cached = EtaModel.load(bundle, road_map=road_map) if stores_csv.exists() else None
    except ModelBundleError:
        cached = None
    if cached is None:
        with tempfile.TemporaryDirectory() as tmp:
            hist = simulate_history(
                road_map, Path(tmp), days=35, trips_per_day=3000, stops_per_day=2000, seed=21
            )
            model = fleetroute.train_eta(
                road_map, hist["trips"], hist["stops"], quantiles=quantiles
            )
            model.save(bundle)
            pd.read_csv(hist["stores"]).head(3).to_csv(stores_csv, index=False)
            cached = model
    return road_map, cached, pd.read_csv(stores_csv)


def day(road_map: Any, stores: pd.DataFrame, n_orders: int, n_vans: int) -> tuple[Any, Any]:
    """Orders (a third shopped, 2-h windows 08:00-19:00) and the costed vans."""
    orders = simulate_orders(road_map, stores, n_orders=n_orders, store_share=1 / 3, seed=5)
    rng = np.random.default_rng(5)
    start = rng.integers(8, 18, n_orders)
    orders["window_start"] = [f"{h:02d}:00" for h in start]
    orders["window_end"] = [f"{h + 1:02d}:00" if h == 18 else f"{h + 2:02d}:00" for h in start]
    lat, lon = road_map.centre
    vehicles = pd.DataFrame(
        {
            "vehicle_id": [f"van{i + 1:02d}" for i in range(n_vans)],
            "depot_lat": lat,
            "depot_lon": lon,
            "capacity": 30,
            "shift_start": "07:00",
            "shift_end": "21:00",
            "fixed_cost": 40.0,
            "cost_per_hour": 25.0,
            "cost_per_km": 0.25,
        }
    )
    return orders, vehicles


def judged(road_map: Any, plan: Any, draws: int) -> dict[str, Any]:
    """The plan's own figures and what it costs, and how punctual it is, when driven."""
    s = plan.summary()
    figures = driven(road_map, plan, draws=draws)
    return {
        "backend": plan.inputs["backend"],
        "search": plan.inputs.get("search", {}),
        "assigned": s["assigned"],
        "vans": s["vehicles_used"],
        "km": round(s["total_distance_m"] / 1000, 1),
        "objective": round(s["objective"], 1),
        "true_cost": round(figures["true_cost"], 1),
        "true_on_time": round(figures["on_time"], 4),
        "true_wait_h": round(figures["wait_h"], 1),
        "solve_s": round(s["solve_time_s"], 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--orders", type=int, default=400)
    ap.add_argument("--vans", type=int, default=40)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--plans", nargs="*", default=list(PLANS))
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quantiles", type=float, nargs="*", default=[0.5, 0.9])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    road_map, model, stores = city_and_model(tuple(args.quantiles))
    orders, vehicles = day(road_map, stores, args.orders, args.vans)
    rows: dict[str, dict[str, Any]] = {}
    for name in args.plans:
        eta_name, backend = name.split("-")
        eta = None if eta_name == "ff" else LearnedEta(model, quantile=int(eta_name[1:]) / 100)
        t0 = time.perf_counter()
        plan = fleetroute.plan(
            orders,
            vehicles,
            road_map=road_map,
            stores=stores,
            eta=eta,
            plan_date=PLAN_DATE,
            time_limit_s=args.time_limit,
            backend=backend,
            seed=args.seed,
        )
        rows[name] = {**judged(road_map, plan, args.draws), "wall_s": time.perf_counter() - t0}
        print(name, json.dumps(rows[name]), flush=True)
    ff = [r["true_cost"] for n, r in rows.items() if n.startswith("ff-")]
    for name, r in rows.items():
        if ff and not name.startswith("ff-"):
            r["price_of_punctuality"] = round(r["true_cost"] / min(ff), 3)
    table = pd.DataFrame(rows).T
    print(table.to_string())
    if args.json:
        out = {
            "command": "python benchmarks/store_day.py "
            + f"--orders {args.orders} --vans {args.vans} --time-limit {args.time_limit:g} "
            + f"--plans {' '.join(args.plans)}",
            "plans": rows,
        }
        args.json.write_text(json.dumps(out, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
