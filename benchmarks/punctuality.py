"""What being on time costs: the suite's store days planned on free-flow times, on the
learned model's and on the true world's own (a perfect model), each plan driven in the
simulator's true world.

    python benchmarks/punctuality.py                                   # 400 and 2,000 orders
    python benchmarks/punctuality.py --scenarios store-10k-400 --seeds 1 --plans ff world0.65
    python benchmarks/punctuality.py --json benchmarks/results/punctuality.json
    python benchmarks/punctuality.py --scenarios store-50k-2000 --plans learned --anchors 50

Issue 14's price of punctuality is a learned plan's true cost over the free-flow plan's
(the suite's ``price_of_punctuality``). The free-flow plan's true cost counts the hours its
vans really drive, not how late they are; the learned plan pays for its promises with more
vans and hours. Planned on the world's own times (``worldQ``: each time's median in the
world times its noise's ``Q`` quantile, :class:`fleetroute.simulator.oracle.WorldEta`), a
plan shows what punctuality costs whatever the model: the price no ETA model can beat at
that on-time rate. A plan: ``ff`` (free-flow), ``learned`` (the suite's model at its
planning quantile, the default), ``learnedQ`` (another quantile), ``chanceP`` (the model's
median with each drop-off's risk margin for a late chance ``P``: ``--eta-late-chance``),
``worldQ``. Each plan is
made at every seed and replayed ``--draws`` times; prices are paired (each seed's plan over
the free-flow plan of the same seed).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import fleetroute
from fleetroute.errors import ModelBundleError
from fleetroute.eta_model import learned
from fleetroute.eta_model.learned import LearnedEta
from fleetroute.eta_model.model import EtaModel
from fleetroute.simulator.oracle import WorldEta
from fleetroute.suite.scenarios import (
    PLAN_DATE,
    city_file,
    load_scenarios,
    scenario_day,
    scenario_model,
)
from store_day import judged

CACHE = Path(__file__).parent / ".cache"
SCENARIOS = Path(__file__).parent / "scenarios.toml"


def model_for(sc: dict[str, Any], road_map: Any, stores: pd.DataFrame) -> EtaModel:
    """The scenario's model (:func:`scenario_model`), trained once and kept in the cache."""
    bundle = CACHE / f"punctuality_{sc['name']}"
    try:
        return EtaModel.load(bundle, road_map=road_map)
    except (ModelBundleError, OSError):
        model, _, _ = scenario_model(sc, road_map, stores)
        model.save(bundle)
        return model


def eta_of(plan: str, model: EtaModel) -> Any:
    """The ETA provider a plan's name asks for (None: free-flow)."""
    if plan == "ff":
        return None
    if plan == "learned":
        return LearnedEta(model)
    if plan.startswith("learned"):
        return LearnedEta(model, quantile=float(plan.removeprefix("learned")))
    if plan.startswith("world"):
        return WorldEta(quantile=float(plan.removeprefix("world")))
    if plan.startswith("chance"):
        return LearnedEta(model, late_chance=float(plan.removeprefix("chance")))
    raise SystemExit(f"unknown plan {plan!r}: ff, learned, learnedQ, chanceP or worldQ")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scenarios", nargs="*", default=["store-10k-400", "store-50k-2000"])
    ap.add_argument("--plans", nargs="*", default=["ff", "learned", "world0.5", "world0.65"])
    ap.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--time-limit", type=float, help="seconds (default: the scenario's)")
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--anchors",
        type=int,
        help="anchor places of the learned bands of a day of many places "
        f"(default: {learned.ANCHORS}; see fleetroute.eta_model.learned.ANCHORS)",
    )
    args = ap.parse_args()
    if args.anchors is not None:
        learned.ANCHORS = args.anchors
    CACHE.mkdir(exist_ok=True)
    rows = []
    for sc in load_scenarios(SCENARIOS, "", args.scenarios):
        road_map = fleetroute.maps.load(city_file(sc, CACHE))
        orders, vehicles, stores = scenario_day(sc, road_map)
        model = model_for(sc, road_map, stores)
        secs = args.time_limit or float(sc["time_limit_s"])
        for name in args.plans:
            for seed in args.seeds:
                t0 = time.perf_counter()
                plan = fleetroute.plan(
                    orders,
                    vehicles,
                    road_map=road_map,
                    stores=stores,
                    eta=eta_of(name, model),
                    plan_date=PLAN_DATE,
                    time_limit_s=secs,
                    seed=seed,
                )
                row = {
                    "scenario": sc["name"],
                    "plan": name,
                    "seed": seed,
                    **judged(road_map, plan, args.draws),
                    "wall_s": round(time.perf_counter() - t0, 1),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    table = pd.DataFrame(rows)
    ff = table[table["plan"] == "ff"].set_index(["scenario", "seed"])["true_cost"]
    table["price"] = [
        r.true_cost / ff.get((r.scenario, r.seed), np.nan) for r in table.itertuples()
    ]
    summary = table.groupby(["scenario", "plan"], sort=False).agg(
        served=("assigned", "mean"),
        vans=("vans", "mean"),
        true_cost=("true_cost", "mean"),
        on_time=("true_on_time", "mean"),
        wait_h=("true_wait_h", "mean"),
        price=("price", "mean"),
    )
    print(summary.round(3).to_string())
    if args.json:
        command = (
            "python benchmarks/punctuality.py --scenarios " + " ".join(args.scenarios)
            + " --plans " + " ".join(args.plans)
            + " --seeds " + " ".join(map(str, args.seeds))
            + f" --draws {args.draws}"
            + (f" --time-limit {args.time_limit:g}" if args.time_limit else "")
        )  # fmt: skip
        out = {
            "command": command,
            "runs": rows,
            "summary": [  # no price without a free-flow plan of the seed
                {k: None if pd.isna(v) else v for k, v in r.items()}
                for r in summary.round(4).reset_index().to_dict(orient="records")
            ],
        }
        args.json.write_text(json.dumps(out, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
