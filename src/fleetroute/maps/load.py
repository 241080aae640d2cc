"""Load a road map once: read it, keep the drivable strongly connected part, add speeds.

Follows OSMnx: ``add_edge_speeds`` with its default imputation (unless the map already
carries ``speed_kph``), then ``add_edge_travel_times``. For maps with no ``maxspeed`` at all,
where OSMnx refuses to guess, the road-class speeds of SPEC.md are used.
"""

from __future__ import annotations

import contextlib
import hashlib
import warnings
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from fleetroute.errors import MapError
from fleetroute.maps.roadmap import RoadMap, cache_dir

__all__ = [
    "load",
    "from_graph",
    "ARTERIALS",
    "HWY_SPEEDS_KPH",
    "FALLBACK_SPEED_KPH",
    "MAP_SUFFIXES",
]

#: Road-class speeds (km/h) for maps that carry no ``maxspeed`` at all (SPEC.md).
HWY_SPEEDS_KPH: dict[str, float] = {
    "motorway": 100,
    "motorway_link": 60,
    "trunk": 80,
    "trunk_link": 50,
    "primary": 60,
    "primary_link": 40,
    "secondary": 50,
    "secondary_link": 40,
    "tertiary": 40,
    "tertiary_link": 30,
    "unclassified": 30,
    "residential": 30,
    "living_street": 10,
    "service": 20,
}
FALLBACK_SPEED_KPH = 30.0

#: Road classes counted as arterials (main roads) by the ETA features and the simulator.
ARTERIALS = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
)

MAP_SUFFIXES = (".osm", ".osm.bz2", ".xml", ".osm.pbf", ".graphml")
# Bump when loading rules change, so cached frozen maps are rebuilt.
_CACHE_VERSION = "fleetroute-map-2"  # 2: edge geometry

# OSMnx's "drive" network: these road classes, without the service ways and access
# restrictions its Overpass filter leaves out. Needed here because an OSM XML file holds
# every way, footpaths included.
_DRIVABLE = set(HWY_SPEEDS_KPH) | {"road"}
_NOT_DRIVABLE_SERVICE = {"parking", "parking_aisle", "driveway", "private", "emergency_access"}
_NO_ACCESS = {"no", "private"}


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _is_drivable(data: dict[str, Any]) -> bool:
    highways = _values(data.get("highway"))
    if not highways or not any(h in _DRIVABLE for h in highways):
        return False
    if any(s in _NOT_DRIVABLE_SERVICE for s in _values(data.get("service"))):
        return False
    if any(a in _NO_ACCESS for a in _values(data.get("access"))):
        return False
    return "yes" not in _values(data.get("area"))


def _read_graph(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    name = path.name.lower()
    if name.endswith(".graphml"):
        return ox.load_graphml(path)
    if name.endswith(".osm.pbf"):
        return _read_pbf(path)
    if name.endswith((".osm", ".osm.bz2", ".xml")):
        G = ox.graph_from_xml(path, simplify=False, retain_all=True)
        drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if not _is_drivable(d)]
        G.remove_edges_from(drop)
        G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
        if G.number_of_edges() == 0:
            raise MapError(f"{path}: no drivable roads in this map")
        return ox.simplify_graph(G)
    raise MapError(f"{path}: unknown map format (expected one of {', '.join(MAP_SUFFIXES)})")


def _read_pbf(path: Path) -> nx.MultiDiGraph:
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyrosm and its geopandas calls warn on import/parse
        osm = pyrosm.OSM(str(path))
        nodes, edges = osm.get_network(network_type="driving", nodes=True)
        if edges is None or len(edges) == 0:
            raise MapError(f"{path}: no drivable roads in this map")
        return osm.to_graph(nodes, edges, graph_type="networkx")


def _add_speeds(G: nx.MultiDiGraph) -> None:
    import osmnx as ox

    has_speed = all("speed_kph" in d for _, _, d in G.edges(data=True))
    if not has_speed:
        has_maxspeed = any(d.get("maxspeed") is not None for _, _, d in G.edges(data=True))
        if has_maxspeed:
            ox.add_edge_speeds(G)
        else:
            ox.add_edge_speeds(G, hwy_speeds=HWY_SPEEDS_KPH, fallback=FALLBACK_SPEED_KPH)
    ox.add_edge_travel_times(G)


def _largest_strong_component(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A node mask of the largest strongly connected component (scipy, on arrays)."""
    g = sp.csr_matrix((np.ones(u.shape[0]), (u, v)), shape=(n, n))
    _, label = connected_components(g, directed=True, connection="strong")
    return label == np.bincount(label).argmax()


def from_graph(G: nx.MultiDiGraph, *, source: str = "memory", copy: bool = True) -> RoadMap:
    """Freeze an OSMnx graph (unprojected, drivable) into a :class:`RoadMap`.

    Adds speeds and travel times as OSMnx does, keeps the largest strongly connected
    component, and reduces parallel edges to the fastest one.

    Parameters
    ----------
    G
        The graph; unprojected, or projected with a ``crs`` OSMnx can undo.
    source
        What to call the map in messages and in plan.json.
    copy
        Work on a copy, leaving ``G`` untouched (speeds are added to the graph).

    Raises
    ------
    MapError
        When the graph has no edges.
    """
    import osmnx as ox

    if G.number_of_edges() == 0:
        raise MapError(f"{source}: the road graph has no edges")
    crs = str(G.graph.get("crs", "epsg:4326")).lower()
    if crs not in ("epsg:4326", "wgs84"):
        G = ox.project_graph(G, to_latlong=True)
    elif copy:
        G = G.copy()
    _add_speeds(G)

    node_ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
    index = {n: i for i, n in enumerate(node_ids.tolist())}
    lat = np.array([G.nodes[n]["y"] for n in node_ids.tolist()], dtype=np.float64)
    lon = np.array([G.nodes[n]["x"] for n in node_ids.tolist()], dtype=np.float64)
    m = G.number_of_edges()
    u = np.empty(m, dtype=np.int64)
    v = np.empty(m, dtype=np.int64)
    t = np.empty(m, dtype=np.float64)
    length = np.empty(m, dtype=np.float64)
    highway = np.empty(m, dtype=object)
    shape = np.empty(m, dtype=object)  # the points between each edge's two nodes, (lon, lat)
    for i, (a, b, d) in enumerate(G.edges(data=True)):
        u[i] = index[a]
        v[i] = index[b]
        t[i] = float(d["travel_time"])
        length[i] = float(d["length"])
        hw = d.get("highway", "")
        highway[i] = hw[0] if isinstance(hw, list) else str(hw)
        geometry = d.get("geometry")
        shape[i] = list(geometry.coords)[1:-1] if geometry is not None else []

    keep = _largest_strong_component(node_ids.shape[0], u, v)
    new_index = np.cumsum(keep) - 1
    inside = keep[u] & keep[v]
    u, v = new_index[u[inside]], new_index[v[inside]]
    t, length, highway, shape = t[inside], length[inside], highway[inside], shape[inside]
    if u.shape[0] == 0:
        raise MapError(f"{source}: the road graph has no two-way connected part")
    # keep the fastest of parallel edges; sort by (u, v)
    order = np.lexsort((length, t, v, u))
    u, v, t, length, highway = u[order], v[order], t[order], length[order], highway[order]
    first = np.ones(u.shape[0], dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    points = [p for pts in shape[order][first] for p in pts]
    coords = np.array(points, dtype=np.float64).reshape(-1, 2)
    ptr = np.zeros(int(first.sum()) + 1, dtype=np.int64)
    np.cumsum([len(pts) for pts in shape[order][first]], out=ptr[1:])
    return RoadMap(
        node_id=node_ids[keep],
        lat=lat[keep],
        lon=lon[keep],
        edge_u=u[first],
        edge_v=v[first],
        edge_travel_s=t[first],
        edge_length_m=length[first],
        source=source,
        edge_highway=highway[first].astype(str),
        geom_ptr=ptr,
        geom_lat=coords[:, 1],
        geom_lon=coords[:, 0],
    )


def _digest(path: Path) -> str:
    h = hashlib.sha256(_CACHE_VERSION.encode())
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:32]


def load(path: str | Path, *, cache: bool = True) -> RoadMap:
    """Load a road map file once, ready for snapping and matrices.

    The frozen arrays are cached by the file's SHA-256 (in ``$FLEETROUTE_CACHE_DIR``,
    default ``~/.cache/fleetroute``), so the same map loads in well under a second the
    next time, as OSMnx caches its downloads. A changed file gets a new entry.

    Parameters
    ----------
    path
        An OSM XML file (``.osm``, ``.osm.bz2``), an ``.osm.pbf`` extract (read with
        pyrosm), or an OSMnx ``.graphml`` file (for example one saved by
        ``osmnx.save_graphml`` or by :func:`fleetroute.maps.write_synthetic_city`).
    cache
        Read and write the frozen-array cache.

    Returns
    -------
    RoadMap

    Raises
    ------
    MapError
        When the file is missing, unreadable, or has no drivable roads.
    """
    p = Path(path)
    if not p.is_file():
        raise MapError(f"{p}: no such map file")
    cached = cache_dir() / f"{_digest(p)}.npz" if cache else None
    if cached is not None and cached.is_file():
        try:
            return RoadMap.read_npz(cached, source=str(p))
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is rebuilt below
    try:
        G = _read_graph(p)
    except MapError:
        raise
    except Exception as exc:  # a corrupt file surfaces as many different library errors
        raise MapError(f"{p}: cannot read this map ({type(exc).__name__}: {exc})") from exc
    road_map = from_graph(G, source=str(p), copy=False)
    if cached is not None:
        with contextlib.suppress(OSError):  # a read-only cache only costs speed
            road_map.write_npz(cached)
    return road_map
