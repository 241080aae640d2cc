"""Synthetic cities: OSMnx-compatible road graphs of any size, for tests and benchmarks.

Three layouts share one street pattern. ``grid``: a jittered grid of streets around a
centre. ``radial``: the same streets bent into rings round the centre (every 10th ring a
ring road) crossed by spokes. ``organic``: a more irregular grid with more missing blocks
and a river across the middle that only every 8th street bridges.
In ``grid``, Every 10th street is a two-way
``primary`` arterial (50 km/h), every 5th a ``secondary`` road (40 km/h), the rest
``residential`` (30 km/h) of which a share are one-way, alternating in direction like a
real grid. A share of intersections is missing (parks, blocks, water). The graph carries
``speed_kph``, ``length``, ``highway`` and ``oneway`` per edge, so OSMnx loads it
(``osmnx.load_graphml``) and :func:`fleetroute.maps.load` keeps its speeds.
"""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np

from fleetroute.maps.roadmap import EARTH_RADIUS_M, haversine_m

__all__ = ["synthetic_city", "write_synthetic_city", "ROAD_CLASSES"]

#: (highway, speed km/h) of arterials, secondary roads and residential streets.
ROAD_CLASSES = {"primary": 50.0, "secondary": 40.0, "residential": 30.0}


def _street_class(index: np.ndarray) -> np.ndarray:
    return np.where(
        index % 10 == 0, "primary", np.where(index % 5 == 0, "secondary", "residential")
    )


def synthetic_city(
    n_nodes: int = 2_500,
    *,
    seed: int = 0,
    center: tuple[float, float] = (52.37, 4.89),
    block_m: float = 120.0,
    one_way_share: float = 0.35,
    missing_share: float = 0.05,
    layout: str = "grid",
) -> nx.MultiDiGraph:
    """Generate a synthetic city as an OSMnx-style ``MultiDiGraph``.

    Parameters
    ----------
    n_nodes
        About how many intersections (before the strongly connected part is taken).
    seed
        Seed of the random layout; the same seed gives the same city.
    center
        ``(lat, lon)`` of the city centre.
    block_m
        Distance between parallel streets, metres.
    one_way_share
        Share of residential streets that are one-way.
    missing_share
        Share of intersections removed (missing blocks); ``organic`` removes three times
        as many.
    layout
        ``grid``, ``radial`` or ``organic`` (see the module).

    Returns
    -------
    networkx.MultiDiGraph
        Unprojected (``crs`` EPSG:4326) with node ``x``, ``y`` and edge ``length``,
        ``speed_kph``, ``highway``, ``oneway``, ``osmid``.
    """
    if n_nodes < 4:
        raise ValueError("a city needs at least 4 nodes")
    if layout not in ("grid", "radial", "organic"):
        raise ValueError(f"layout must be grid, radial or organic, not {layout!r}")
    rng = np.random.default_rng(seed)
    if layout == "organic":
        missing_share = min(0.5, 3 * missing_share)
    side = max(2, math.ceil(math.sqrt(n_nodes / (1.0 - missing_share))))
    rows, cols = np.divmod(np.arange(side * side), side)
    dlat = block_m / (EARTH_RADIUS_M * math.pi / 180.0)
    dlon = dlat / math.cos(math.radians(center[0]))
    jitter = rng.normal(0.0, 0.3 if layout == "organic" else 0.12, size=(side * side, 2))
    if layout == "radial":
        # row r is ring r, column c the spoke at angle c / side; rings are spaced so the
        # disc covers the same area as the grid would
        radius = (rows + 1 + jitter[:, 0]) / math.sqrt(math.pi)
        angle = 2 * math.pi * (cols + jitter[:, 1]) / side
        lat = center[0] + radius * np.sin(angle) * dlat
        lon = center[1] + radius * np.cos(angle) * dlon
    else:
        lat = center[0] + (rows - side / 2 + jitter[:, 0]) * dlat
        lon = center[1] + (cols - side / 2 + jitter[:, 1]) * dlon
    keep = rng.random(side * side) >= missing_share
    grid = np.arange(side * side).reshape(side, side)

    # horizontal segments run along row r (street index r), vertical along column c;
    # in the radial layout rows close into rings
    wrap = layout == "radial"
    h_u = (grid if wrap else grid[:, :-1]).ravel()
    h_v = (np.roll(grid, -1, axis=1) if wrap else grid[:, 1:]).ravel()
    v_u, v_v = grid[:-1, :].ravel(), grid[1:, :].ravel()
    h_street = np.repeat(np.arange(side), side if wrap else side - 1)
    v_street = np.tile(np.arange(side), side - 1)
    seg_u = np.concatenate([h_u, v_u])
    seg_v = np.concatenate([h_v, v_v])
    street = np.concatenate([h_street, v_street + side])  # distinct ids per direction
    street_index = np.concatenate([h_street, v_street])
    highway = _street_class(street_index)
    one_way_street = rng.random(2 * side) < one_way_share
    one_way = (highway == "residential") & one_way_street[street]
    flip = one_way & (street_index % 2 == 1)  # alternate directions of one-way streets
    a = np.where(flip, seg_v, seg_u)
    b = np.where(flip, seg_u, seg_v)
    ok = keep[a] & keep[b]
    if layout == "organic":
        # a river between the middle rows: only every 8th street crosses it, on a bridge
        crossing = np.concatenate([np.zeros(h_u.shape[0], bool), v_u // side == side // 2 - 1])
        bridge = np.concatenate([np.zeros(h_u.shape[0], bool), v_street % 8 == 0])
        ok &= ~crossing | bridge
        highway = np.where(crossing & bridge, "primary", highway)
    a, b, highway, one_way = a[ok], b[ok], highway[ok], one_way[ok]

    length = haversine_m(lat[a], lon[a], lat[b], lon[b])

    G = nx.MultiDiGraph(crs="epsg:4326", simplified=True, name=f"synthetic city seed {seed}")
    nodes = np.flatnonzero(keep)
    G.add_nodes_from((int(n), {"x": float(lon[n]), "y": float(lat[n])}) for n in nodes)
    speed = np.array([ROAD_CLASSES[h] for h in highway])
    edges = []
    for i in range(a.shape[0]):
        data = {
            "osmid": i,
            "highway": str(highway[i]),
            "oneway": bool(one_way[i]),
            "length": float(length[i]),
            "speed_kph": float(speed[i]),
        }
        edges.append((int(a[i]), int(b[i]), {**data, "reversed": False}))
        if not one_way[i]:
            edges.append((int(b[i]), int(a[i]), {**data, "reversed": True}))
    G.add_edges_from(edges)
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
    return G


def write_synthetic_city(
    path: str | Path, n_nodes: int = 2_500, *, seed: int = 0, **options: float | str
) -> Path:
    """Generate a synthetic city and save it as GraphML that ``osmnx.load_graphml`` reads.

    Keyword options are those of :func:`synthetic_city`. Returns the path written.
    """
    import osmnx as ox

    G = synthetic_city(n_nodes, seed=seed, **options)  # type: ignore[arg-type]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(G, out)
    return out
