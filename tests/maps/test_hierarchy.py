"""The contraction hierarchy's matrices against scipy's Dijkstra and Dial's search."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from fleetroute import maps
from fleetroute.maps import roadmap
from fleetroute.maps.hierarchy import Hierarchy, edge_keys

# A path's (centiseconds, centimetres) as one float scipy adds exactly: cs * _SPLIT + cm.
_SPLIT = 1e7


def _reference(n, u, v, cs, cm, sources):
    """Fastest centiseconds and, among the fastest, the fewest centimetres (scipy)."""
    best = {}
    for a, b, c, d in zip(u.tolist(), v.tolist(), cs.tolist(), cm.tolist(), strict=True):
        if a != b:  # scipy's csr_matrix would add parallel edges up: keep the best one
            w = c * _SPLIT + d
            best[(a, b)] = min(best.get((a, b), w), w)
    rows = np.array([a for a, _ in best], dtype=np.int64)
    cols = np.array([b for _, b in best], dtype=np.int64)
    g = csr_matrix((np.array(list(best.values())), (rows, cols)), shape=(n, n))
    d = dijkstra(g, indices=sources)
    time = np.floor(d / _SPLIT)
    cm = np.full_like(d, np.inf)
    reach = np.isfinite(d)
    cm[reach] = d[reach] - time[reach] * _SPLIT
    return time, cm


@st.composite
def _graphs(draw):
    n = draw(st.integers(2, 30))
    m = draw(st.integers(0, 4 * n))
    u = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    v = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    # few distinct times and lengths, so ties in time (and in both) are common
    cs = np.array(draw(st.lists(st.integers(1, 6), min_size=m, max_size=m)), dtype=np.int64)
    cm = np.array(draw(st.lists(st.integers(0, 4), min_size=m, max_size=m)), dtype=np.int64)
    return n, u, v, cs, cm


@settings(max_examples=150, deadline=None)
@given(_graphs())
def test_hierarchy_gives_the_fastest_then_shortest_path_on_any_graph(graph):
    """Random directed graphs with parallel edges, loops, ties and unreachable nodes: every
    pair gets scipy's fastest time and, among the fastest paths, the shortest length."""
    n, u, v, cs, cm = graph
    order = np.lexsort((v, u))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
    h = Hierarchy.build(indptr, v[order], edge_keys(cs[order], cm[order] / 100.0))
    nodes = np.arange(n)
    travel_cs, length_m = h.matrix(nodes, nodes)
    want_cs, want_cm = _reference(n, u, v, cs, cm, nodes)
    np.testing.assert_array_equal(travel_cs, want_cs)
    reach = np.isfinite(want_cs)
    np.testing.assert_array_equal(np.rint(length_m[reach] * 100), want_cm[reach])
    assert np.isinf(length_m[~reach]).all()


@pytest.mark.parametrize("fixture", ["helsinki_map", "tiny_city"])
def test_hierarchy_matrix_equals_dials_search_on_real_and_synthetic_maps(fixture, request):
    """The same seconds (exactly) and metres as Dial's search from every source (both are
    held to scipy's times in test_dial)."""
    m = request.getfixturevalue(fixture)
    rng = np.random.default_rng(5)
    src = rng.choice(m.n_nodes, 60, replace=False)
    dst = rng.choice(m.n_nodes, 80, replace=False)
    by_ch = m.matrix(src, dst, method="hierarchy")
    by_dial = m.matrix(src, dst, method="dial")
    np.testing.assert_array_equal(by_ch[0], by_dial[0])
    np.testing.assert_allclose(by_ch[1], by_dial[1], rtol=0, atol=1e-6)


def test_hierarchy_is_cached_on_disk_for_the_next_process(tiny_city, tmp_path, monkeypatch):
    """A small matrix on a map without a hierarchy does not build one, a big one does;
    a fresh copy of the same map finds it on disk; a damaged file is rebuilt."""
    monkeypatch.setenv("FLEETROUTE_CACHE_DIR", str(tmp_path))

    def fresh():
        return maps.RoadMap(
            tiny_city.node_id, tiny_city.lat, tiny_city.lon, tiny_city.edge_u,
            tiny_city.edge_v, tiny_city.edge_travel_s, tiny_city.edge_length_m,
        )  # fmt: skip

    monkeypatch.setattr(roadmap, "HIERARCHY_MIN_SOURCES", 4)
    first = fresh()
    first.matrix([1, 2, 3], [4, 5])
    assert first.cached_hierarchy() is None and not list(tmp_path.iterdir())
    first.matrix([1, 2, 3, 4], [4, 5])
    built = first.cached_hierarchy()
    assert built is not None
    (cached,) = tmp_path.glob("hierarchy-*.npz")
    again = fresh().cached_hierarchy()
    assert again is not None
    np.testing.assert_array_equal(again.up_key, built.up_key)
    np.testing.assert_array_equal(fresh().matrix([1], [2]), first.matrix([1], [2], method="dial"))

    cached.write_bytes(b"not an npz")
    rebuilt = fresh().hierarchy()
    np.testing.assert_array_equal(rebuilt.down_key, built.down_key)
    assert Hierarchy.read_npz(cached).n_edges == built.n_edges
