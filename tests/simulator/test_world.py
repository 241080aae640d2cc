"""The history simulator: deterministic, and its true world has the effects it documents."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fleetroute.simulator.world import TrueWorld, simulate_history


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


def test_a_history_shops_at_the_stores_it_is_given(tiny_city, tmp_path):
    """The shops of a history made for a business's own stores happen there, under their
    ids, and nowhere else."""
    given = pd.DataFrame(
        {
            "store_id": ["north", "south"],
            "lat": tiny_city.lat[[3, 40]],
            "lon": tiny_city.lon[[3, 40]],
        }
    )
    h = simulate_history(
        tiny_city, tmp_path, days=1, trips_per_day=20, stops_per_day=200, seed=4, stores=given
    )
    stores = pd.read_csv(h["stores"])
    assert stores["store_id"].tolist() == ["north", "south"]
    assert np.allclose(stores[["lat", "lon"]].to_numpy(), given[["lat", "lon"]].to_numpy())
    shops = pd.read_csv(h["stops"]).query("kind == 'shop'")
    assert len(shops) > 20 and set(shops["store_id"]) == {"north", "south"}
    at = given.set_index("store_id").loc[shops["store_id"]]
    assert np.allclose(shops[["lat", "lon"]].to_numpy(), at[["lat", "lon"]].to_numpy())


def test_a_store_shops_alike_whichever_stores_are_asked_about_with_it(tiny_city):
    """A history's day asks the world about all its stores at once, a replay about one
    stop at a time: each store's shop takes the same time either way, and the stores
    differ from each other."""
    w = TrueWorld()
    ids = ["S1", "S2", "S3", "S10", "north"]
    at = pd.DatetimeIndex([pd.Timestamp("2026-03-03 10:00")] * len(ids))
    zeros = np.zeros(len(ids))
    together = w.expected_service_s(tiny_city, ["shop"] * 5, [10] * 5, ids, zeros, zeros, at)
    alone = [
        w.expected_service_s(tiny_city, ["shop"], [10], [s], [0.0], [0.0], at[:1])[0] for s in ids
    ]
    assert together.tolist() == alone
    assert len(set(alone)) == len(ids)


def test_rush_hour_and_weekend_effects(tiny_city):
    w = TrueWorld()
    rng = np.random.default_rng(1)
    o, d = rng.choice(tiny_city.n_nodes, 100), rng.choice(tiny_city.n_nodes, 100)
    at = lambda stamp: pd.DatetimeIndex([pd.Timestamp(stamp)] * 100)  # noqa: E731
    rush = w.expected_travel_s(tiny_city, o, d, at("2026-03-03 17:30"))
    noon = w.expected_travel_s(tiny_city, o, d, at("2026-03-03 13:00"))
    sunday = w.expected_travel_s(tiny_city, o, d, at("2026-03-08 17:30"))
    assert (rush > noon).all() and (sunday < rush).all()


def test_replay_drives_every_route_once_per_stop(tiny_city):
    """A replay has one row per drop-off and one per route end, repeatable by seed."""
    import fleetroute
    from fleetroute.simulator.world import replay, simulate_orders

    orders = simulate_orders(
        tiny_city, pd.DataFrame(columns=["store_id", "lat", "lon"]), n_orders=12
    )
    depot = (float(tiny_city.lat.mean()), float(tiny_city.lon.mean()))
    plan = fleetroute.plan(
        orders,
        fleet=fleetroute.FleetSpec(size=3, depot=depot, shift=(8 * 3600, 22 * 3600)),
        road_map=tiny_city,
        time_limit_s=5,
        solution_limit=10,
    )
    a = replay(tiny_city, plan, seed=1)
    b = replay(tiny_city, plan, seed=1)
    pd.testing.assert_frame_equal(a, b)
    drops = a[a["order_id"] != ""]
    assert sorted(drops["order_id"]) == sorted(orders["order_id"])
    assert (a["order_id"] == "").sum() == len(plan.routes)
    assert (drops["late_s"] >= 0).all()
    # a route's end counts its waiting (here, with no stores or breaks: its drop-offs'),
    # which is part of the time it took
    ends = a[a["order_id"] == ""].set_index("vehicle_id")
    at_drops = drops.groupby("vehicle_id")["wait_s"].sum()
    assert (drops["wait_s"] >= 0).all()
    assert (ends.loc[at_drops.index, "wait_s"] == at_drops).all()
    assert (ends["wait_s"] <= ends["late_s"]).all()
