"""Travel bands of many places: the legs near each place and to and from anchor places
are predicted; the others are scaled from them. Shop times in every band."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import fleetroute.eta_model.learned as learned
from conftest import PLAN_DATE
from days import day_orders, day_stores, day_vehicles
from fleetroute import build_problem, plan
from fleetroute.api.dispatch import with_new_order
from fleetroute.eta_model.learned import LearnedEta, anchored_pairs
from fleetroute.maps.roadmap import haversine_m

START, END = datetime(2026, 3, 2, 7), datetime(2026, 3, 2, 11)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 60),
    near=st.integers(1, 12),
    anchors=st.integers(1, 12),
    hubs=st.integers(0, 4),
    seed=st.integers(),
)
def test_a_band_predicts_each_places_nearest_legs_and_every_anchor_leg(
    tiny_city, n, near, anchors, hubs, seed
):
    rng = np.random.default_rng(seed % 2**32)
    nodes = np.sort(rng.choice(tiny_city.n_nodes, n, replace=False))
    freeflow, _ = tiny_city.matrix(nodes)
    hub = rng.choice(n, min(hubs, n), replace=False)
    chosen, label, (o, d) = anchored_pairs(
        tiny_city, nodes, freeflow, near=near, anchors=anchors, hubs=hub
    )
    wanted = np.zeros((n, n), dtype=bool)
    wanted[o, d] = True
    k = min(near + 1, n)
    for i in range(n):  # the place itself and its `near` nearest, both ways
        assert wanted[i, np.argsort(freeflow[i], kind="stable")[:k]].sum() >= k - 1
        assert wanted[np.argsort(freeflow[:, i], kind="stable")[:k], i].sum() >= k - 1
    assert chosen.size == max(min(anchors, n), hub.size) == np.unique(chosen).size
    assert set(hub) <= set(chosen)  # a depot's or store's every leg is predicted
    assert wanted[:, chosen].all() and wanted[chosen, :].all()
    assert np.array_equal(label[chosen], np.arange(chosen.size))  # an anchor is its own
    # each place belongs to the anchor nearest it as the crow flies
    lat, lon = tiny_city.lat[nodes], tiny_city.lon[nodes]
    gap = haversine_m(lat[:, None], lon[:, None], lat[chosen][None], lon[chosen][None])
    assert (gap[np.arange(n), label] <= gap.min(axis=1) * 1.001 + 1e-6).all()


def test_many_places_get_their_predicted_legs_exactly_and_the_rest_close(
    tiny_city, tiny_model, monkeypatch
):
    """Above EXACT_UP_TO places the planner's band matrices come from anchors: the legs
    predicted are the model's own seconds, and the others stay close to what the model
    would have said, without bias."""
    nodes = np.random.default_rng(7).choice(tiny_city.n_nodes, 150, replace=False)
    eta = LearnedEta(tiny_model, band_h=2.0)  # two bands
    _, every, dist_every = eta.travel_bands(tiny_city, nodes, start=START, end=END)
    monkeypatch.setattr(learned, "EXACT_UP_TO", 100)
    monkeypatch.setattr(learned, "NEAR", 10)
    monkeypatch.setattr(learned, "ANCHORS", 15)
    starts, bands, dist = eta.travel_bands(tiny_city, nodes, start=START, end=END)
    assert len(starts) == 2 and bands.shape == every.shape == (2, 150, 150)
    assert eta.name.endswith(" 2h bands")  # plan.json names bands other than the default
    assert np.allclose(dist, dist_every, atol=1.0)
    order = np.argsort(nodes)
    freeflow, _ = tiny_city.matrix(np.sort(nodes))
    _, _, (o, d) = anchored_pairs(tiny_city, np.sort(nodes), freeflow, near=10, anchors=15)
    o, d = order[o], order[d]
    assert np.allclose(bands[:, o, d], every[:, o, d])
    scaled = np.ones((150, 150), dtype=bool)
    scaled[o, d] = False
    ratio = bands[:, scaled] / every[:, scaled]
    assert abs(np.median(ratio) - 1) < 0.01
    assert np.mean(np.abs(ratio - 1)) < 0.05
    # the bands still differ as the model says (a band is not another's copy)
    off = ~np.eye(150, dtype=bool)
    change, model_change = bands[1][off] / bands[0][off], every[1][off] / every[0][off]
    assert abs(np.median(change) / np.median(model_change) - 1) < 0.02


def test_places_at_one_node_share_its_legs_in_many_places_bands(tiny_city, tiny_model, monkeypatch):
    """Two places that snap to one node (a depot beside an order) get that node's legs in
    the anchored bands, in the order the places were given, and none between them."""
    rng = np.random.default_rng(3)
    distinct = rng.choice(tiny_city.n_nodes, 120, replace=False)
    nodes = np.concatenate([distinct, distinct[[5, 0, 77]]])
    monkeypatch.setattr(learned, "EXACT_UP_TO", 100)
    monkeypatch.setattr(learned, "NEAR", 10)
    monkeypatch.setattr(learned, "ANCHORS", 15)
    eta = LearnedEta(tiny_model, band_h=2.0)
    _, bands, dist = eta.travel_bands(tiny_city, nodes, start=START, end=END)
    _, alone, alone_dist = eta.travel_bands(tiny_city, distinct, start=START, end=END)
    assert bands.shape == (2, 123, 123) and bands.dtype == np.float32
    assert np.allclose(bands[:, :120, :120], alone, rtol=1e-6)
    assert np.array_equal(dist[:120, :120], alone_dist)
    for copy, first in ((120, 5), (121, 0), (122, 77)):
        assert np.allclose(bands[:, copy, :120], alone[:, first], rtol=1e-6)
        assert np.allclose(bands[:, :120, copy], alone[:, :, first], rtol=1e-6)
        assert (bands[:, copy, first] == 0).all() and (bands[:, first, copy] == 0).all()


def test_a_learned_store_day_plans_each_shop_at_the_hour_it_is_shopped(tiny_city, tiny_model):
    """With learned times a shop takes the model's time for each travel band (predicted at
    the band's middle; 0 for orders without a store, none at all with free-flow times),
    and the plan re-times every shop to the hour its schedule makes it; an order booked
    later gets its shop times in every band too."""
    orders = day_orders(tiny_city, 12, store_share=0.5, window=(9, 15))
    vans, stores = day_vehicles(tiny_city, 3), day_stores(tiny_city)
    eta = LearnedEta(tiny_model)
    p, _ = build_problem(
        orders, vans, road_map=tiny_city, stores=stores, plan_date=PLAN_DATE, eta=eta
    )
    shopped = p.has_store
    assert p.n_bands > 1 and p.shop_band_s.shape == (12, p.n_bands)
    assert (p.shop_band_s[~shopped] == 0).all() and (p.shop_band_s[shopped] > 0).all()
    b = p.n_bands // 2
    start, end = p.band_start_s[b : b + 2].tolist()
    middle = p.origin + timedelta(seconds=(start + end) // 2)
    where = p.loc_lat[p.pickup_loc[shopped]], p.loc_lon[p.pickup_loc[shopped]]
    expect = eta.service_s(
        tiny_city,
        is_shop=np.ones(int(shopped.sum()), dtype=bool),
        items=p.items[shopped],
        store_id=np.array(p.store_id, dtype=object)[p.order_store[shopped]],
        lat=where[0],
        lon=where[1],
        when=middle,
    )
    assert p.shop_band_s[shopped, b].tolist() == np.rint(expect).astype(int).tolist()
    free, _ = build_problem(orders, vans, road_map=tiny_city, stores=stores, plan_date=PLAN_DATE)
    assert free.shop_band_s.shape == (12, 0)

    made = plan(
        orders,
        vans,
        road_map=tiny_city,
        stores=stores,
        plan_date=PLAN_DATE,
        eta=eta,
        solution_limit=5,
        workers=1,
    )
    retimed = made.inputs["search"]["shops_retimed"]
    assert made.summary()["assigned"] == 12 and retimed["orders"] == int(shopped.sum())
    # an order booked into the plan later gets its shop predicted in every band as well
    i = int(np.flatnonzero(shopped)[0])
    again = orders.iloc[[i]].assign(order_id="booked")
    bigger = with_new_order(made, again, road_map=tiny_city, eta=eta)
    assert bigger.shop_band_s[-1].tolist() == p.shop_band_s[i].tolist()


def test_stops_at_many_instants_predicted_at_once_as_one_at_a_time(tiny_city, tiny_model):
    """Planning and the slots ask for the service seconds of stops each at its own instant
    in one prediction (``service_s_each``); each stop gets what a prediction at its own
    instant alone gives, shops and drop-offs, at any hour of three days."""
    eta = LearnedEta(tiny_model)
    rng = np.random.default_rng(2)
    n = 24
    nodes = rng.choice(tiny_city.n_nodes, n, replace=False)
    stops = dict(
        is_shop=np.arange(n) % 3 == 0,
        items=rng.integers(1, 30, n),
        store_id=np.array(
            [tiny_model.stores_[0] if i % 3 == 0 else "" for i in range(n)], dtype=object
        ),  # fmt: skip
        lat=tiny_city.lat[nodes],
        lon=tiny_city.lon[nodes],
    )
    when = [START + timedelta(minutes=int(m)) for m in rng.integers(0, 3 * 24 * 60, n)]
    together = eta.service_s_each(tiny_city, **stops, when=when)
    for i in range(n):
        alone = eta.service_s(
            tiny_city, **{k: v[i : i + 1] for k, v in stops.items()}, when=when[i]
        )
        assert together[i] == alone[0]
    assert np.unique(np.round(together)).size > 1
