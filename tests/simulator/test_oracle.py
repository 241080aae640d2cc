"""The true world's own times as an ETA provider: the planning floor of benchmarks."""

from __future__ import annotations

from datetime import datetime, timedelta
from math import exp
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

import fleetroute
from fleetroute.simulator.oracle import WorldEta
from fleetroute.simulator.world import TrueWorld, replay, simulate_orders

MORNING = datetime(2026, 3, 3, 8, 0)


def test_legs_are_the_worlds_median_times_its_noise_quantile(tiny_city):
    """Each band's leg is the world's median for a departure in the band's middle, times
    exp(noise sd x z(q)); the median itself at q = 0.5; 0 from a node to itself."""
    world = TrueWorld()
    rng = np.random.default_rng(2)
    o, d = rng.choice(tiny_city.n_nodes, 30), rng.choice(tiny_city.n_nodes, 30)
    o[0] = d[0]
    starts = [MORNING, MORNING + timedelta(hours=1), MORNING + timedelta(hours=9)]
    for q in (0.5, 0.8):
        seconds, metres = WorldEta(world, quantile=q).leg_bands(tiny_city, o, d, band_starts=starts)
        factor = exp(world.travel_noise * NormalDist().inv_cdf(q))
        for b, begin in enumerate(starts):
            at = pd.DatetimeIndex([begin + timedelta(minutes=30)] * o.size)
            want = world.expected_travel_s(tiny_city, o, d, at) * factor
            want[o == d] = 0.0
            np.testing.assert_allclose(seconds[b], want)
        np.testing.assert_allclose(metres, world.leg_sums(tiny_city, o, d)[:, 0])
    rush = WorldEta(world).leg_bands(
        tiny_city, o, d, band_starts=[MORNING, MORNING + timedelta(hours=4)]
    )[0]
    assert (rush[0, 1:] > rush[1, 1:]).all()  # 08:30 is the morning rush, 12:30 is not


def test_bands_hold_every_leg_between_the_places_as_legs_do(tiny_city):
    """The matrix of every place to every place (a place listed twice included) equals its
    legs one by one."""
    eta = WorldEta(quantile=0.65)
    nodes = np.array([5, 17, 5, 230, 399], dtype=np.int64)
    starts, bands, metres = eta.travel_bands(
        tiny_city, nodes, start=MORNING, end=MORNING + timedelta(hours=2, minutes=30)
    )
    assert starts == [MORNING + timedelta(hours=h) for h in range(3)]
    o, d = np.repeat(nodes, 5), np.tile(nodes, 5)
    legs, leg_m = eta.leg_bands(tiny_city, o, d, band_starts=starts)
    np.testing.assert_allclose(bands, legs.reshape(3, 5, 5), rtol=1e-6)
    np.testing.assert_allclose(metres, leg_m.reshape(5, 5))
    assert (bands[:, 0, 2] == 0).all()  # the same place twice


def test_stops_are_the_worlds_median_times_its_noise_quantile(tiny_city):
    world = TrueWorld()
    lat, lon = tiny_city.lat[[3, 40, 41]], tiny_city.lon[[3, 40, 41]]
    noon = datetime(2026, 3, 3, 12, 0)
    got = WorldEta(world, quantile=0.9).service_s(
        tiny_city,
        is_shop=[True, False, False],
        items=[10, 4, 30],
        store_id=["S1", "", ""],
        lat=lat,
        lon=lon,
        when=noon,
    )
    want = world.expected_service_s(
        tiny_city, ["shop", "dropoff", "dropoff"], [10, 4, 30], ["S1", "", ""], lat, lon,
        pd.DatetimeIndex([noon] * 3),
    )  # fmt: skip
    np.testing.assert_allclose(got, want * exp(world.service_noise * NormalDist().inv_cdf(0.9)))


def test_a_quantile_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="quantile"):
        WorldEta(quantile=1.0)


def test_a_plan_on_the_worlds_times_keeps_more_promises_than_free_flow(tiny_city):
    """What it is for: planned on the world's own times (slower than free-flow), a busy
    day of one-hour windows keeps its promises when driven in the world; the free-flow
    plan of the same day does not."""
    orders = simulate_orders(
        tiny_city, pd.DataFrame(columns=["store_id", "lat", "lon"]), n_orders=60, window_h=1,
        seed=4,
    )  # fmt: skip
    depot = (float(tiny_city.lat.mean()), float(tiny_city.lon.mean()))
    fleet = fleetroute.FleetSpec(size=4, depot=depot, shift=(8 * 3600, 22 * 3600))
    on_time = {}
    for name, eta in (("free-flow", None), ("world", WorldEta(quantile=0.8))):
        plan = fleetroute.plan(
            orders, fleet=fleet, road_map=tiny_city, eta=eta, time_limit_s=10,
            solution_limit=20, plan_date=MORNING.date(),
        )  # fmt: skip
        assert plan.summary()["assigned"] == 60
        drops = pd.concat([replay(tiny_city, plan, seed=k) for k in range(3)])
        drops = drops[drops["order_id"] != ""]
        on_time[name] = float((drops["late_s"] <= 0).mean())
    assert on_time["free-flow"] < 0.95 <= on_time["world"]
