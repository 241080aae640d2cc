"""The chance of lateness of a dispatcher's routes, from the ETA model's quantiles."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import PLAN_DATE
from days import day_orders, day_vehicles
from fleetroute import late_risk, plan


def test_tight_windows_are_risky_and_loose_ones_are_safe(tiny_city, tiny_model, tmp_path):
    orders = day_orders(tiny_city, 8)
    vehicles = day_vehicles(tiny_city, 1)
    made = plan(
        orders, vehicles, road_map=tiny_city, plan_date=PLAN_DATE, solution_limit=10, workers=1
    )
    routes = made.routes_table()
    drops = routes[routes["kind"] == "dropoff"]
    # promise the last stop exactly at its median start, the first one with hours to spare
    last, first = drops.iloc[-1], drops.iloc[0]
    start = pd.Timestamp(last["arrival"]) + pd.Timedelta(seconds=int(last["wait_s"]))
    orders.loc[orders["order_id"] == last["order_id"], "window_end"] = start.strftime("%H:%M")
    orders.loc[orders["order_id"] == first["order_id"], "window_end"] = "17:00"
    orders.to_csv(tmp_path / "orders.csv", index=False)
    routes.to_csv(tmp_path / "routes.csv", index=False)
    vehicles.to_csv(tmp_path / "vehicles.csv", index=False)

    risk = late_risk(
        tmp_path / "routes.csv",
        tmp_path / "orders.csv",
        tmp_path / "vehicles.csv",
        road_map=tiny_city,
        model=tiny_model,
        plan_date=PLAN_DATE,
    ).set_index("order_id")
    assert risk["p_late"].between(0, 1).all()
    assert (pd.to_datetime(risk["start_p90"]) >= pd.to_datetime(risk["start"])).all()
    assert risk.loc[last["order_id"], "p_late"] > 0.3
    assert risk.loc[first["order_id"], "p_late"] < 0.01


def test_a_model_without_an_upper_quantile_is_refused(tiny_city, tiny_model, tmp_path):
    import copy

    from fleetroute import InputError

    median_only = copy.copy(tiny_model)
    median_only.travel_boosters_ = {0.5: tiny_model.travel_boosters_[0.5]}
    with pytest.raises(InputError, match="0.9 quantile"):
        late_risk("r.csv", "o.csv", road_map=tiny_city, model=median_only)


def test_legs_in_their_own_band_are_the_bands_predictions(tiny_city, tiny_model):
    """``route slots`` reckons each leg of a route in the band it departs in, with its path
    found once for both quantiles: the seconds must be those of that band's matrix."""
    from datetime import datetime, timedelta

    import numpy as np

    from fleetroute.eta_model.learned import LearnedEta

    rng = np.random.default_rng(4)
    o = rng.integers(0, tiny_city.n_nodes, 40)
    d = rng.integers(0, tiny_city.n_nodes, 40)
    starts = [datetime(2026, 3, 2, 7) + timedelta(hours=2 * b) for b in range(6)]
    band = rng.integers(0, len(starts), 40)
    got = LearnedEta(tiny_model).legs_in_band(
        tiny_city, o, d, band_starts=starts, band=band, quantiles=(0.5, 0.9)
    )
    for q in (0.5, 0.9):
        every, _ = LearnedEta(tiny_model, quantile=q).leg_bands(tiny_city, o, d, band_starts=starts)
        assert np.allclose(got[q], every[band, np.arange(40)])
    assert (got[0.9] >= got[0.5]).mean() > 0.9
