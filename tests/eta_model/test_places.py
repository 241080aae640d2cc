"""Place histories: what each address and neighbourhood's past drop-offs took beyond what
their own features say, learned from history and read when planning."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import fleetroute
from fleetroute.eta_model.features import service_features
from fleetroute.eta_model.places import FOLDS, PlaceHistory, out_of_fold
from fleetroute.simulator.world import TrueWorld, simulate_history


@st.composite
def _drop_offs(draw):
    n = draw(st.integers(1, 60))
    places = draw(st.integers(1, 8))
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    at = rng.integers(0, places, n)
    lat = 48.1 + at * 0.01  # a building geocoded to the same point every time
    lon = 11.5 + at * 0.01
    lat = np.where(rng.random(n) < 0.1, np.nan, lat)  # shop stops: no drop-off coordinates
    return lat, lon, rng.normal(0, 1, n), rng.integers(0, FOLDS, n)


@settings(max_examples=60, deadline=None)
@given(_drop_offs())
def test_a_training_row_never_reads_its_own_time(rows):
    """Out of fold: each row's place features come from the other folds only, so a row
    whose place has no drop-off in another fold has no value; partitions' sums add up."""
    lat, lon, y, fold = rows
    oof = out_of_fold(lat, lon, y, fold)
    for i in range(len(y)):
        if np.isnan(lat[i]):
            assert np.isnan(oof["address_log_s"][i])
            continue
        same = (lat == lat[i]) & (lon == lon[i]) & (fold != fold[i])
        if same.any():
            assert np.isclose(oof["address_log_s"][i], y[same].mean())
            assert oof["address_n"][i] == same.sum()
        else:
            assert np.isnan(oof["address_log_s"][i]) and oof["address_n"][i] == 0
    half = len(y) // 2
    whole = PlaceHistory.of(lat, lon, y).columns(lat, lon)
    parts = PlaceHistory.of(lat[:half], lon[:half], y[:half]).plus(
        PlaceHistory.of(lat[half:], lon[half:], y[half:])
    )
    for name, values in parts.columns(lat, lon).items():
        assert np.allclose(values, whole[name], equal_nan=True)


def test_a_place_history_survives_the_bundle(tmp_path):
    rng = np.random.default_rng(0)
    lat, lon, y = 48 + rng.random(200) / 10, 11 + rng.random(200) / 10, rng.normal(0, 1, 200)
    history = PlaceHistory.of(lat, lon, y)
    history.save(tmp_path / "p.npz")
    again = PlaceHistory.load(tmp_path / "p.npz")
    for name, values in again.columns(lat, lon).items():
        assert np.array_equal(values, history.columns(lat, lon)[name], equal_nan=True)


def test_a_building_that_always_takes_long_is_predicted_to(tiny_city, tmp_path):
    """In a world where every address has its own drop-off factor, the model trained on its
    history predicts the slowest addresses slower than the fastest, for the same basket at
    the same hour; the map's features alone cannot tell them apart."""
    world = dataclasses.replace(TrueWorld(), address_sd=0.5)
    hist = simulate_history(tiny_city, tmp_path, days=14, trips_per_day=200,
                            stops_per_day=400, n_customers=60, seed=3, world=world)  # fmt: skip
    model = fleetroute.train_eta(tiny_city, hist["trips"], hist["stops"])
    stops = pd.read_csv(hist["stops"])
    drops = stops[stops["kind"] == "dropoff"].drop_duplicates(["lat", "lon"])
    factor = world.address_factor(drops["lat"], drops["lon"])
    order = np.argsort(factor)
    slow, fast = drops.iloc[order[-10:]], drops.iloc[order[:10]]

    def predicted(rows: pd.DataFrame) -> np.ndarray:
        f = service_features(tiny_city, is_shop=np.zeros(len(rows)), items=np.full(len(rows), 10),
                             store_code=np.full(len(rows), -1), lat=rows["lat"], lon=rows["lon"],
                             hour=11.0, weekday=2)  # fmt: skip
        return model.predict_service(f)

    assert np.median(factor[order[-10:]]) / np.median(factor[order[:10]]) > 2
    assert np.median(predicted(slow)) > 1.5 * np.median(predicted(fast))
