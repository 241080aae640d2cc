"""Training the ETA model on a million trips: how long each stage takes on this machine.

    python benchmarks/eta_scale.py                     # 1,000,000 trips (50 days x 20,000)
    python benchmarks/eta_scale.py --trips-per-day 2000 --days 10

On the 10k-node city (seed 21), the simulator's base world: ``--days`` of history with
``--trips-per-day`` trips and 1,300 stops a day. Timed as ``fleetroute.train_eta`` runs
them: reading the files, the area slowness (its sample's path search with a column per
cell), the features of every trip and stop (one path search per trip's origin or
destination), and the boosters (three quantiles of travel and of service, early stopping,
calibration, place histories). The issue's target: under 2 minutes on 2 cores.

Writes benchmarks/results/eta_scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from fleetroute.api.eta import _history
from fleetroute.eta_model.model import EtaModel, fit_areas, history_features
from fleetroute.simulator.world import simulate_history
from store_day import eta_city

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--days", type=int, default=50)
    ap.add_argument("--trips-per-day", type=int, default=20_000)
    ap.add_argument("--json", type=Path, default=RESULTS / "eta_scale.json")
    args = ap.parse_args()
    road_map = eta_city()
    out: dict[str, float | int | str] = {"cores": os.cpu_count() or 0}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        hist = simulate_history(
            road_map,
            Path(tmp),
            days=args.days,
            trips_per_day=args.trips_per_day,
            stops_per_day=1300,
            start=date(2026, 1, 5),
            seed=21,
        )
        out["simulate_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        trips, stops = _history(hist["trips"], hist["stops"], need_duration=True)
        out["read_s"] = round(time.perf_counter() - t0, 1)
    out["trips"], out["stops"] = len(trips), len(stops)
    t0 = time.perf_counter()
    areas = fit_areas(road_map, trips)
    out["areas_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    h = history_features(road_map, trips, stops, areas=areas)
    out["features_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    model = EtaModel().fit(road_map, h)
    out["boosters_s"] = round(time.perf_counter() - t0, 1)
    out["train_s"] = round(
        float(out["read_s"]) + float(out["areas_s"]) + float(out["features_s"])
        + float(out["boosters_s"]),
        1,
    )  # fmt: skip
    out["trees_travel_q50"] = int(model.travel_boosters_[0.5].num_trees())
    out["command"] = (
        f"python benchmarks/eta_scale.py --days {args.days} --trips-per-day {args.trips_per_day}"
    )
    print(json.dumps(out, indent=1), flush=True)
    args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
