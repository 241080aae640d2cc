"""The ETA model's life in a new city: cold start, and a change it must notice.

    python benchmarks/eta_life.py                       # both parts, as committed
    python benchmarks/eta_life.py --skip-plans          # errors only (no planning)

On the 10k-node city (seed 21), the simulator's base world, customers shared between the
histories (``places_seed``):

* **Cold start.** The same 8 weeks of history, of which the model learns the latest 1, 2, 4
  or all 8 weeks (``route eta train --last-days``); each is scored on the next 2 weeks
  (travel and service MAE over the noise floor, P90 coverage) and plans a 300-order day (a
  third shopped, 2-hour windows, 30 vans, 20 s) that is replayed 3 times in the true
  world (promises kept, true cost) beside the free-flow plan of the same day.
* **Drift.** A model trained on 4 weeks; then 7 days of which the last 5 are a slower
  season (``SLOWER``: junctions and parking take longer). ``route eta monitor`` on those
  days' actuals: the first day it flags against the first slow day. Then the model is
  retrained on the latest 5 days (``--last-days 5``) and both are scored on the next week
  of the slower season.

Writes benchmarks/results/eta_life.json and eta_life.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

import fleetroute
from fleetroute.eta_model.learned import LearnedEta
from fleetroute.eta_model.model import EtaModel, history_features
from fleetroute.io.readers import read_stops, read_trips
from fleetroute.simulator.world import TrueWorld, simulate_history, simulate_orders
from fleetroute.suite import replayed, vans
from store_day import eta_city

RESULTS = Path(__file__).parent / "results"
START = date(2026, 1, 5)  # a Monday
#: The slower season of the drift part.
SLOWER = {"intersection_s": 8.0, "parking_s": 60.0, "parking_centre_s": 120.0}
PER_DAY = {"trips_per_day": 2000, "stops_per_day": 1300, "places_seed": 21}


def _concat(paths: list[dict[str, Path]], out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    joined = {}
    for kind in ("trips", "stops"):
        joined[kind] = out / f"{kind}.csv"
        column = "trip_id" if kind == "trips" else "stop_id"
        parts = []
        for k, p in enumerate(paths):  # each history numbers its rows from 0: made unique
            part = pd.read_csv(p[kind])
            part[column] = f"p{k}-" + part[column]
            parts.append(part)
        pd.concat(parts).to_csv(joined[kind], index=False)
    joined["stores"] = paths[0]["stores"]
    return joined


def _errors(road_map: Any, world: TrueWorld, model: EtaModel, test: dict[str, Path]) -> dict:
    """MAE over the noise floor and P90 coverage of ``model`` on ``test``."""
    trips, stops = read_trips(test["trips"]), read_stops(test["stops"])
    h = history_features(road_map, trips, stops, stores=model.stores_, areas=model.areas_)
    m = model.evaluate(h)
    floor_t, floor_s = world.noise_floor(
        road_map, pd.read_csv(test["trips"]), pd.read_csv(test["stops"])
    )
    return {
        "travel_over_floor": round(m["travel"]["mae_s"] / floor_t, 3),
        "service_over_floor": round(m["service"]["mae_s"] / floor_s, 3),
        "free_flow_travel_over_floor": round(m["baseline"]["travel"]["mae_s"] / floor_t, 3),
        "travel_p90_coverage": m["travel"]["p90_coverage"],
        "service_p90_coverage": m["service"]["p90_coverage"],
    }


def _plan(road_map: Any, stores: pd.DataFrame, eta: Any, seconds: float) -> dict:
    orders = simulate_orders(road_map, stores, n_orders=300, store_share=1 / 3, seed=5)
    plan = fleetroute.plan(orders, vans(road_map, 30), road_map=road_map, stores=stores, eta=eta,
                           plan_date=START + timedelta(weeks=9), time_limit_s=seconds)  # fmt: skip
    on_time, true_cost = replayed(road_map, plan, draws=3)
    s = plan.summary()
    return {
        "assigned": s["assigned"],
        "vehicles": s["vehicles_used"],
        "on_time": round(on_time, 4),
        "true_cost": round(true_cost, 1),
    }


def cold_start(road_map: Any, root: Path, args: argparse.Namespace) -> dict:
    world = TrueWorld()
    train = simulate_history(road_map, root / "train", days=56, start=START, seed=21, **PER_DAY)
    test = simulate_history(road_map, root / "test", days=14, start=START + timedelta(weeks=8),
                            seed=22, **PER_DAY)  # fmt: skip
    stores = pd.read_csv(train["stores"]).head(3)
    rows: dict[str, Any] = {}
    if not args.skip_plans:
        rows["free-flow"] = {"plan": _plan(road_map, stores, None, args.seconds)}
        print("free-flow", json.dumps(rows["free-flow"]), flush=True)
    for weeks in (1, 2, 4, 8):
        model = fleetroute.train_eta(road_map, train["trips"], train["stops"],
                                     last_days=7 * weeks)  # fmt: skip
        row = {"errors": _errors(road_map, world, model, test)}
        if not args.skip_plans:
            row["plan"] = _plan(road_map, stores, LearnedEta(model), args.seconds)
        rows[f"{weeks} week{'s' if weeks > 1 else ''}"] = row
        print(weeks, json.dumps(row), flush=True)
    return rows


def drift(road_map: Any, root: Path) -> dict:
    normal = TrueWorld()
    slow = dataclasses.replace(normal, **SLOWER)
    train = simulate_history(road_map, root / "d_train", days=28, start=START, seed=31, **PER_DAY)
    after = START + timedelta(weeks=4)
    calm = simulate_history(road_map, root / "d_calm", days=2, start=after, seed=32, **PER_DAY)
    season = simulate_history(road_map, root / "d_slow", days=5, start=after + timedelta(days=2),
                              seed=33, world=slow, **PER_DAY)  # fmt: skip
    later = simulate_history(road_map, root / "d_later", days=7, start=after + timedelta(days=7),
                             seed=34, world=slow, **PER_DAY)  # fmt: skip
    model = fleetroute.train_eta(road_map, train["trips"], train["stops"])
    actuals = _concat([calm, season], root / "d_actuals")
    report = fleetroute.monitor_eta(model, road_map, actuals["trips"], actuals["stops"])
    days = report["by_day"]
    flagged = days.loc[days["drift"], "day"].tolist()
    first_slow = str(after + timedelta(days=2))
    everything = _concat([train, calm, season], root / "d_all")
    again = fleetroute.train_eta(road_map, everything["trips"], everything["stops"], last_days=5)
    return {
        "slower_season": SLOWER,
        "first_slow_day": first_slow,
        "days_flagged": flagged,
        "days_to_flag": (date.fromisoformat(flagged[0]) - date.fromisoformat(first_slow)).days + 1
        if flagged
        else None,
        "false_alarms_before": [d for d in flagged if d < first_slow],
        "by_day": days[["day", "travel_ratio", "service_ratio", "p90_coverage", "drift"]]
        .round(3)
        .to_dict("records"),
        "verdict": report["verdict"],
        "old_model_on_later_week": _errors(road_map, slow, model, later),
        "retrained_last_5_days": _errors(road_map, slow, again, later),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--skip-plans", action="store_true")
    ap.add_argument("--json", type=Path, default=RESULTS / "eta_life.json")
    args = ap.parse_args()
    road_map = eta_city()
    with tempfile.TemporaryDirectory() as tmp:
        out = {"cold_start": cold_start(road_map, Path(tmp), args)}
        out["drift"] = drift(road_map, Path(tmp))
    print(json.dumps(out["drift"], indent=1, default=str))
    args.json.write_text(json.dumps(out, indent=1, default=str) + "\n")
    lines = [
        "# The ETA model's life in a new city",
        "",
        f"Command: `.venv/bin/python benchmarks/eta_life.py --seconds {args.seconds:g}`.",
        "",
        "## Cold start (latest N weeks of the same 8 learned; the next 2 weeks scored)",
        "",
        "| history | travel / floor | service / floor | P90 travel | P90 service "
        "| on time | true cost | vans |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in out["cold_start"].items():
        e = row.get("errors", {})
        p = row.get("plan", {})

        def cell(d: dict, k: str) -> str:
            return "" if k not in d else f"{d[k]}"

        lines.append(
            f"| {name} | {cell(e, 'travel_over_floor')} | {cell(e, 'service_over_floor')} "
            f"| {cell(e, 'travel_p90_coverage')} | {cell(e, 'service_p90_coverage')} "
            f"| {cell(p, 'on_time')} | {cell(p, 'true_cost')} | {cell(p, 'vehicles')} |"
        )
    d = out["drift"]
    lines += [
        "",
        "## Drift (a slower season from " + d["first_slow_day"] + ")",
        "",
        f"Days flagged by `route eta monitor`: {', '.join(d['days_flagged']) or 'none'} "
        f"(first after {d['days_to_flag']} day(s) of the slower season; false alarms before "
        f"it: {len(d['false_alarms_before'])}). Verdict: {d['verdict']}.",
        "",
        "| model, on the next week of the slower season | travel / floor | service / floor "
        "| P90 travel |",
        "|---|---:|---:|---:|",
    ]
    for name in ("old_model_on_later_week", "retrained_last_5_days"):
        e = d[name]
        lines.append(
            f"| {name.replace('_', ' ')} | {e['travel_over_floor']} | "
            f"{e['service_over_floor']} | {e['travel_p90_coverage']} |"
        )
    args.json.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
