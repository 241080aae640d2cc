"""Dial's bucket-queue Dijkstra against scipy's, on real and synthetic graphs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from fleetroute.maps.dial import many_to_many


def _scipy_cs(m, sources):
    w = np.maximum(1, np.round(m.edge_travel_s * 100))
    g = csr_matrix((w, (m.edge_u, m.edge_v)), shape=(m.n_nodes, m.n_nodes))
    return dijkstra(g, indices=sources)


@pytest.mark.parametrize("method", ["dial", "hierarchy"])
@pytest.mark.parametrize("fixture", ["helsinki_map", "tiny_city"])
def test_times_equal_scipy_exactly_on_centisecond_weights(fixture, method, request):
    """Same fastest-path centiseconds as scipy, for every source-target pair, by Dial's
    search and over the contraction hierarchy alike."""
    m = request.getfixturevalue(fixture)
    rng = np.random.default_rng(1)
    src = rng.choice(m.n_nodes, 25, replace=False)
    dst = rng.choice(m.n_nodes, 40, replace=False)
    travel, _ = m.matrix(src, dst, method=method)
    np.testing.assert_array_equal(np.rint(travel * 100), _scipy_cs(m, src)[:, dst])


def test_unreachable_targets_are_inf_and_ties_take_the_shorter_path():
    # 0 -> 1 -> 3 (1 + 1 cs, 10 m + 10 m) and 0 -> 2 -> 3 (1 + 1 cs, 5 m + 5 m); 4 is cut off
    v = np.array([1, 2, 3, 3, 0])
    indptr = np.array([0, 2, 3, 4, 4, 5])
    cs, length = many_to_many(
        indptr,
        v,
        np.array([1, 1, 1, 1, 1]),
        np.array([10.0, 5, 10, 5, 1]),
        np.array([0]),
        np.array([3, 4]),
    )
    assert cs[0, 0] == 2 and length[0, 0] == 10.0
    assert np.isinf(cs[0, 1]) and np.isinf(length[0, 1])


def test_legs_equal_the_matrix_and_sum_along_the_same_path(tiny_city):
    """Pairwise legs give the matrix's times and lengths (the matrix adds lengths rounded to
    the centimetre: half a centimetre per edge at most); other sums follow the same path."""
    rng = np.random.default_rng(3)
    o = rng.choice(tiny_city.n_nodes, 60)
    d = rng.choice(tiny_city.n_nodes, 60)
    ones = np.ones(tiny_city.n_edges)
    travel, sums = tiny_city.legs(o, d, np.column_stack([tiny_city.edge_length_m, ones]))
    full_t, full_d = tiny_city.matrix(o, d)
    np.testing.assert_array_equal(travel, np.diag(full_t))
    assert (np.abs(sums[:, 0] - np.diag(full_d)) <= 0.005 * sums[:, 1] + 1e-6).all()
    hops = [len(tiny_city.path(int(a), int(b))) - 1 for a, b in zip(o[:10], d[:10], strict=True)]
    np.testing.assert_array_equal(sums[:10, 1], hops)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_legs_into_hubs_equal_the_legs_searched_from_their_origins(tiny_city, seed):
    """A band's legs: every place to a few others and to a handful of hubs (its anchors).
    The legs into the hubs are found from the hubs over the reversed roads; they are the
    legs each origin's own search finds: the same centiseconds, the same sums."""
    from fleetroute.maps.roadmap import _found_backward

    rng = np.random.default_rng(seed)
    places = rng.choice(tiny_city.n_nodes, 60, replace=False)
    hubs = places[:4]
    o = np.concatenate([np.repeat(places, 5), np.repeat(places, 4), np.repeat(hubs, 60)])
    d = np.concatenate([rng.choice(places, 300), np.tile(hubs, 60), np.tile(places, 4)])
    values = np.column_stack(
        [tiny_city.edge_length_m, np.ones(tiny_city.n_edges), rng.random(tiny_city.n_edges)]
    )
    assert _found_backward(o, d).sum() >= 200  # the legs into the hubs from the other places
    travel, sums = tiny_city.legs(o, d, values)
    for origin in np.unique(o):  # one origin at a time: its own search, nothing reversed
        mine = o == origin
        alone_t, alone_sums = tiny_city.legs(o[mine], d[mine], values)
        np.testing.assert_array_equal(travel[mine], alone_t)
        np.testing.assert_allclose(sums[mine], alone_sums, rtol=1e-12, atol=1e-9)
