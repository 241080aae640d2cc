"""The history simulator: deterministic, and its true world has the effects it documents."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fleetroute.eta_model.world import TrueWorld, simulate_history


def test_same_seed_same_history(tiny_city, tmp_path):
    a = simulate_history(
        tiny_city, tmp_path / "a", days=1, trips_per_day=50, stops_per_day=40, seed=3
    )
    b = simulate_history(
        tiny_city, tmp_path / "b", days=1, trips_per_day=50, stops_per_day=40, seed=3
    )
    assert a["trips"].read_bytes() == b["trips"].read_bytes()
    trips = pd.read_csv(a["trips"])
    assert list(trips.columns) == [
        "trip_id",
        "origin_lat",
        "origin_lon",
        "dest_lat",
        "dest_lon",
        "departure_time",
        "duration_s",
    ]


def test_rush_hour_and_weekend_effects(tiny_city):
    w = TrueWorld()
    rng = np.random.default_rng(1)
    o, d = rng.choice(tiny_city.n_nodes, 100), rng.choice(tiny_city.n_nodes, 100)
    at = lambda stamp: pd.DatetimeIndex([pd.Timestamp(stamp)] * 100)  # noqa: E731
    rush = w.expected_travel_s(tiny_city, o, d, at("2026-03-03 17:30"))
    noon = w.expected_travel_s(tiny_city, o, d, at("2026-03-03 13:00"))
    sunday = w.expected_travel_s(tiny_city, o, d, at("2026-03-08 17:30"))
    assert (rush > noon).all() and (sunday < rush).all()
