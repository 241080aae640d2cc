"""Road shapes: curved edges keep OSMnx's geometry, and paths are drawn along it."""

from __future__ import annotations

import numpy as np

from fleetroute.maps.roadmap import haversine_m


def _length_m(lat, lon):
    return float(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum())


def test_paths_follow_the_roads_shapes_not_straight_lines(helsinki_map):
    m = helsinki_map
    curved = np.flatnonzero(np.diff(m.geom_ptr) > 0)
    assert curved.size > 0  # a real map has curved roads
    rng = np.random.default_rng(0)
    o, d = rng.choice(m.n_nodes, 20), rng.choice(m.n_nodes, 20)
    travel, _ = m.matrix(o, d)
    for i, (a, b, path) in enumerate(zip(o, d, m.paths(o, d), strict=True)):
        assert path[0] == a and path[-1] == b
        edges = m.edge_index(path[:-1], path[1:])
        assert (edges >= 0).all()
        # the same path as the matrices: same seconds (centisecond edges) and metres
        cs = np.maximum(1, np.round(m.edge_travel_s[edges] * 100)).sum()
        assert cs == round(travel[i, i] * 100)
        # drawn through the edge shapes, the line is as long as the roads it follows
        lat, lon = m.polyline(path)
        along = m.edge_length_m[edges].sum()
        assert abs(_length_m(lat, lon) - along) <= 0.03 * along + 5
    # through a curved edge the drawn line is longer than the straight one between its nodes
    e = int(curved[np.argmax(np.diff(m.geom_ptr)[curved])])
    u, v = int(m.edge_u[e]), int(m.edge_v[e])
    lat, lon = m.polyline(np.array([u, v]))
    assert lat.shape[0] == 2 + np.diff(m.geom_ptr)[e]
    assert _length_m(lat, lon) > _length_m(m.lat[[u, v]], m.lon[[u, v]])


def test_edge_index_says_minus_one_for_missing_edges(tiny_city):
    u, v = int(tiny_city.edge_u[5]), int(tiny_city.edge_v[5])
    np.testing.assert_array_equal(tiny_city.edge_index([u, u], [v, u]), [5, -1])
