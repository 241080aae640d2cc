"""The frozen road map: node arrays and scipy CSR graphs of seconds and metres.

A :class:`RoadMap` is built once per map (see :func:`fleetroute.maps.load`) and then only
read: snapping, travel-time and distance matrices, and path geometry all work on its arrays.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from fleetroute.maps._arrays import csr_order, save_npz
from fleetroute.maps.dial import many_to_many, pairs
from fleetroute.maps.hierarchy import Hierarchy, edge_keys

__all__ = ["RoadMap", "EARTH_RADIUS_M", "HIERARCHY_MIN_SOURCES", "cache_dir", "haversine_m"]

EARTH_RADIUS_M = 6_371_008.8

# path() runs scipy's Dijkstra on one weight that orders paths as the matrices do: by
# travel time in whole centiseconds, ties broken by length:
# w = round(100 * seconds) + metres / _LENGTH_SCALE (the fraction stays below 1).
_LENGTH_SCALE = 1.0e7

#: A matrix with at least this many sources builds the map's contraction hierarchy when
#: it has none yet (~25 s once for a 200k-node city, then cached), rather than searching
#: the whole city from every source (~12 ms a source there).
HIERARCHY_MIN_SOURCES = 1000

# Bumped when the hierarchy's layout or build changes, so old cache entries are ignored.
_HIERARCHY_VERSION = "ch-1"

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def cache_dir() -> Path:
    """Where maps' frozen arrays and hierarchies are cached (``$FLEETROUTE_CACHE_DIR``,
    default ``~/.cache/fleetroute``)."""
    return Path(os.environ.get("FLEETROUTE_CACHE_DIR", Path.home() / ".cache" / "fleetroute"))


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in metres between points (WGS84 degrees; broadcasts)."""
    la1, lo1, la2, lo2 = (
        np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lon1, lat2, lon2)
    )
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h)), dtype=np.float64)


def _unit_vectors(lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
    la = np.radians(np.asarray(lat, dtype=np.float64))
    lo = np.radians(np.asarray(lon, dtype=np.float64))
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


@dataclass(frozen=True, eq=False)
class RoadMap:
    """A drivable, strongly connected road graph frozen into arrays.

    Attributes
    ----------
    node_id
        The OSM (or synthetic) id of each node; position in this array is the node index.
    lat, lon
        Node coordinates, WGS84 degrees.
    edge_u, edge_v
        Node indices of each directed edge, sorted by ``(u, v)``; parallel edges are
        reduced to the fastest one.
    edge_travel_s, edge_length_m
        Free-flow travel time and length of each edge.
    source
        Where the map came from (a path, or a description).
    geom_ptr, geom_lat, geom_lon
        The shape of curved edges (OSMnx's edge ``geometry``): the points between edge
        ``e``'s two nodes are ``geom_lat/lon[geom_ptr[e]:geom_ptr[e + 1]]``. Empty: every
        edge is straight.
    """

    node_id: IntArray
    lat: FloatArray
    lon: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    edge_travel_s: FloatArray
    edge_length_m: FloatArray
    source: str = "memory"
    edge_highway: npt.NDArray[np.str_] | None = field(default=None, repr=False)
    geom_ptr: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    geom_lat: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)
    geom_lon: FloatArray = field(default_factory=lambda: np.zeros(0), repr=False)

    def __post_init__(self) -> None:
        if self.geom_ptr.shape[0] == 0:
            object.__setattr__(self, "geom_ptr", np.zeros(self.n_edges + 1, dtype=np.int64))
        if self.geom_ptr.shape != (self.n_edges + 1,) or self.geom_ptr[-1] != self.geom_lat.size:
            raise ValueError("geom_ptr must have one entry per edge, plus one")
        for name in (*self._ARRAYS, *self._GEOMETRY):
            getattr(self, name).setflags(write=False)

    _ARRAYS: ClassVar[tuple[str, ...]] = (
        "node_id",
        "lat",
        "lon",
        "edge_u",
        "edge_v",
        "edge_travel_s",
        "edge_length_m",
    )
    _GEOMETRY: ClassVar[tuple[str, ...]] = ("geom_ptr", "geom_lat", "geom_lon")

    def write_npz(self, path: str | Path) -> None:
        """Save the frozen arrays (atomically) for :meth:`read_npz`."""
        arrays = {name: getattr(self, name) for name in (*self._ARRAYS, *self._GEOMETRY)}
        if self.edge_highway is not None:
            arrays["edge_highway"] = np.asarray(self.edge_highway, dtype=str)
        save_npz(path, arrays)

    @classmethod
    def read_npz(cls, path: str | Path, *, source: str | None = None) -> RoadMap:
        """Load arrays saved by :meth:`write_npz`."""
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in cls._ARRAYS}
            arrays.update({name: data[name] for name in cls._GEOMETRY if name in data})
            highway = data.get("edge_highway")
        return cls(**arrays, source=source or str(path), edge_highway=highway)

    @cached_property
    def centre(self) -> tuple[float, float]:
        """``(lat, lon)`` of the map's centre: the median of its nodes."""
        return float(np.median(self.lat)), float(np.median(self.lon))

    @property
    def n_nodes(self) -> int:
        """The number of nodes."""
        return int(self.node_id.shape[0])

    @property
    def n_edges(self) -> int:
        """The number of directed edges."""
        return int(self.edge_u.shape[0])

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of the graph's nodes, edges and travel times."""
        h = hashlib.sha256()
        for arr in (self.node_id, self.edge_u, self.edge_v):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(np.round(self.edge_travel_s, 1).tobytes())
        return h.hexdigest()[:16]

    @cached_property
    def _search_graph(self) -> sp.csr_matrix:
        weight = np.round(self.edge_travel_s * 100.0) + self.edge_length_m / _LENGTH_SCALE
        weight = np.maximum(weight, 1e-12)  # scipy treats an explicit zero as no edge
        n = self.n_nodes
        return sp.csr_matrix((weight, (self.edge_u, self.edge_v)), shape=(n, n))

    @cached_property
    def _kdtree(self) -> cKDTree:
        return cKDTree(_unit_vectors(self.lat, self.lon))

    def snap(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[IntArray, FloatArray]:
        """Snap points to their nearest graph node, all in one vectorized query.

        Parameters
        ----------
        lat, lon
            Point coordinates, WGS84 degrees (array-likes of equal length).

        Returns
        -------
        node, distance_m
            The nearest node index of each point and its great-circle distance in metres.
        """
        chord, node = self._kdtree.query(_unit_vectors(lat, lon))
        distance_m = 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0, 1))
        return np.asarray(node, dtype=np.int64), distance_m

    @cached_property
    def _search_rank(self) -> IntArray:
        """Node order for the searches: along a Z-order (Morton) curve of the coordinates.

        Nodes near each other on the ground sit near each other in memory, so a search's
        wavefront reads few cache lines (1.4x faster on a 200k-node city than the file's
        order, 3x faster than a random one). Returns each node's position in that order.
        """
        scale = (1 << 16) - 1
        z = np.zeros(self.n_nodes, dtype=np.uint64)
        for shift, coord in enumerate((self.lon, self.lat)):
            span = max(float(np.ptp(coord)), 1e-12) if self.n_nodes else 1.0
            q = np.rint((coord - coord.min(initial=0.0)) / span * scale).astype(np.uint64)
            for bit in range(16):
                z |= ((q >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + shift)
        rank = np.empty(self.n_nodes, dtype=np.int64)
        rank[np.argsort(z, kind="stable")] = np.arange(self.n_nodes)
        return rank

    def _csr_of(self, tail: IntArray, head: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """CSR (in search order) of the edges ``tail -> head`` and each CSR slot's edge."""
        rank = self._search_rank
        indptr, order = csr_order(self.n_nodes, rank[tail], rank[head])
        return indptr, rank[head[order]], order

    @cached_property
    def _weight_cs(self) -> IntArray:
        return np.maximum(1, np.round(self.edge_travel_s * 100.0)).astype(np.int64)

    @cached_property
    def _csr(self) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """The graph in search order: indptr, heads, centiseconds, each slot's edge index."""
        indptr, heads, order = self._csr_of(self.edge_u, self.edge_v)
        return indptr, heads, self._weight_cs[order], order

    @cached_property
    def _length_cm(self) -> FloatArray:
        """Edge lengths to the centimetre: the matrices add these, whichever search runs."""
        return np.rint(self.edge_length_m * 100.0) / 100.0

    @cached_property
    def _edge_keys(self) -> IntArray:
        """The hierarchy's edge keys (time, then length) of :attr:`_csr`'s slots."""
        _, _, weight_cs, order = self._csr
        return edge_keys(weight_cs, self._length_cm[order])

    @cached_property
    def hierarchy_path(self) -> Path:
        """Where this map's contraction hierarchy is cached: in :func:`cache_dir`, named
        by a hash of the search graph (so a changed map never finds a stale one)."""
        indptr, heads, _, _ = self._csr
        h = hashlib.sha256(_HIERARCHY_VERSION.encode())
        for arr in (indptr, heads, self._edge_keys):
            h.update(np.ascontiguousarray(arr).tobytes())
        return cache_dir() / f"hierarchy-{h.hexdigest()[:32]}.npz"

    def cached_hierarchy(self) -> Hierarchy | None:
        """The map's contraction hierarchy if it is already made: kept with the map, or
        in the disk cache (:attr:`hierarchy_path`); else None."""
        found: Hierarchy | None = self.__dict__.get("_hierarchy")
        if found is None and self.hierarchy_path.is_file():
            with contextlib.suppress(OSError, ValueError, KeyError):  # damaged: rebuilt
                found = Hierarchy.read_npz(self.hierarchy_path)
                self.__dict__["_hierarchy"] = found
        return found

    def hierarchy(self) -> Hierarchy:
        """The map's contraction hierarchy (:mod:`fleetroute.maps.hierarchy`) over the
        nodes in search order: found as :meth:`cached_hierarchy` does, or built (about
        25 s for a 200k-node city) and written to the disk cache for the next process."""
        found = self.cached_hierarchy()
        if found is None:
            indptr, heads, _, _ = self._csr
            found = Hierarchy.build(indptr, heads, self._edge_keys)
            with contextlib.suppress(OSError):  # a read-only cache only costs speed
                found.write_npz(self.hierarchy_path)
            self.__dict__["_hierarchy"] = found
        return found

    @cached_property
    def _reverse_csr(self) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """The graph with every edge turned round, in search order, as :attr:`_csr`."""
        indptr, heads, order = self._csr_of(self.edge_v, self.edge_u)
        return indptr, heads, self._weight_cs[order], order

    def matrix(
        self,
        sources: npt.ArrayLike,
        targets: npt.ArrayLike | None = None,
        *,
        method: Literal["auto", "hierarchy", "dial"] = "auto",
    ) -> tuple[FloatArray, FloatArray]:
        """Travel-time and distance matrices between nodes, along fastest paths.

        Edge times are rounded to centiseconds and lengths to centimetres; the time is
        exact on those, ties in time go to the shorter path.

        Parameters
        ----------
        sources, targets
            Node indices; ``targets`` defaults to ``sources``.
        method
            ``"hierarchy"``: over the map's contraction hierarchy (:meth:`hierarchy`),
            built first if it has none yet. ``"dial"``: one Dial search of the city from each
            source (:mod:`fleetroute.maps.dial`), in parallel on all cores. ``"auto"``
            (default): the hierarchy when the map has one in memory or on disk, or when
            there are at least :data:`HIERARCHY_MIN_SOURCES` sources; else Dial. Both
            give the same matrices.

        Returns
        -------
        travel_s, distance_m
            ``(len(sources), len(targets))`` arrays: the free-flow seconds of the fastest
            path and the metres of that same path; ``inf`` where no path exists.
        """
        src = np.asarray(sources, dtype=np.int64)
        dst = src if targets is None else np.asarray(targets, dtype=np.int64)
        usrc, src_inv = np.unique(src, return_inverse=True)
        rank = self._search_rank
        ch = None
        if method == "hierarchy" or (method == "auto" and usrc.shape[0] >= HIERARCHY_MIN_SOURCES):
            ch = self.hierarchy()
        elif method == "auto":
            ch = self.cached_hierarchy()
        if ch is not None:  # a row per distinct source, the columns as asked, in seconds
            travel_s, distance_m = ch.matrix(rank[usrc], rank[dst], cs_per_unit=100.0)
            if np.array_equal(src, usrc):
                return travel_s, distance_m
            return travel_s[src_inv], distance_m[src_inv]
        udst, dst_inv = np.unique(dst, return_inverse=True)
        indptr, heads, weight_cs, order = self._csr
        travel_cs, distance_m = many_to_many(
            indptr, heads, weight_cs, self._length_cm[order], rank[usrc], rank[udst]
        )
        rows, cols = src_inv[:, None], dst_inv[None, :]
        return travel_cs[rows, cols] / 100.0, distance_m[rows, cols]

    def legs(
        self,
        origins: npt.ArrayLike,
        dests: npt.ArrayLike,
        edge_values: npt.ArrayLike | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """Fastest path of each (origin, destination) node pair, with sums along it.

        Parameters
        ----------
        origins, dests
            Node indices, one per leg.
        edge_values
            ``(n_edges, K)`` per-edge quantities to sum along each path; column 0 must be
            length (it breaks ties). Default: length only.

        Returns
        -------
        travel_s, sums
            Free-flow seconds of each leg and the ``(legs, K)`` sums along its path.
        """
        values = (
            self.edge_length_m[:, None]
            if edge_values is None
            else np.asarray(edge_values, dtype=np.float64).reshape(self.n_edges, -1)
        )
        o = np.asarray(origins, dtype=np.int64)
        d = np.asarray(dests, dtype=np.int64)
        rank = self._search_rank
        back = _found_backward(o, d)
        if not back.any():
            return _searched(self._csr, values, rank[o], rank[d])
        if back.all():
            return _searched(self._reverse_csr, values, rank[d], rank[o])
        travel_s = np.empty(o.shape[0], dtype=np.float64)
        sums = np.empty((o.shape[0], values.shape[1]), dtype=np.float64)
        into, rest = rank[d[back]], rank[o[back]]
        travel_s[back], sums[back] = _searched(self._reverse_csr, values, into, rest)
        travel_s[~back], sums[~back] = _searched(self._csr, values, rank[o[~back]], rank[d[~back]])
        return travel_s, sums

    def edge_index(self, u: npt.ArrayLike, v: npt.ArrayLike) -> IntArray:
        """The index of edge ``u -> v`` for each pair of node indices (-1: no such edge)."""
        a = np.asarray(u, dtype=np.int64)
        b = np.asarray(v, dtype=np.int64)
        keys = self.edge_u * self.n_nodes + self.edge_v  # edges are sorted by (u, v)
        want = a * self.n_nodes + b
        at = np.minimum(np.searchsorted(keys, want), max(self.n_edges - 1, 0))
        return np.where(keys[at] == want, at, -1)

    def paths(self, origins: npt.ArrayLike, dests: npt.ArrayLike) -> list[IntArray]:
        """The node indices of the fastest path of each ``(origin, destination)`` pair.

        One scipy Dijkstra (with predecessors) per distinct origin, 64 origins per call.
        """
        o = np.asarray(origins, dtype=np.int64)
        d = np.asarray(dests, dtype=np.int64)
        out: list[IntArray] = [np.zeros(0, dtype=np.int64)] * o.shape[0]
        sources = np.unique(o)
        for start in range(0, sources.shape[0], 64):
            chunk = sources[start : start + 64]
            _, pred = dijkstra(
                self._search_graph, directed=True, indices=chunk, return_predecessors=True
            )
            row = {int(s): i for i, s in enumerate(chunk.tolist())}
            for i in np.flatnonzero(np.isin(o, chunk)).tolist():
                out[i] = _walk_back(pred[row[int(o[i])]], int(o[i]), int(d[i]))
        return out

    def polyline(self, nodes: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """``(lat, lon)`` of a path of node indices along the roads' own shapes."""
        path = np.asarray(nodes, dtype=np.int64)
        if path.shape[0] < 2:
            return self.lat[path], self.lon[path]
        edges = self.edge_index(path[:-1], path[1:])
        if (edges < 0).any():
            raise ValueError("consecutive path nodes must be joined by an edge")
        lat, lon = [self.lat[path[:1]]], [self.lon[path[:1]]]
        for e, node in zip(edges.tolist(), path[1:].tolist(), strict=True):
            a, b = self.geom_ptr[e], self.geom_ptr[e + 1]
            lat += [self.geom_lat[a:b], self.lat[node : node + 1]]
            lon += [self.geom_lon[a:b], self.lon[node : node + 1]]
        return np.concatenate(lat), np.concatenate(lon)

    def path(self, source: int, target: int) -> IntArray:
        """The node indices of the fastest path from ``source`` to ``target``."""
        return self.paths([source], [target])[0]


def _walk_back(pred: npt.NDArray[np.int32], source: int, target: int) -> IntArray:
    """The path to ``target`` from a predecessor row of a search from ``source``."""
    nodes = [target]
    while nodes[-1] != source:
        prev = int(pred[nodes[-1]])
        if prev < 0:
            raise ValueError(f"no path from node {source} to node {target}")
        nodes.append(prev)
    return np.array(nodes[::-1], dtype=np.int64)


def _searched(
    csr: tuple[IntArray, IntArray, IntArray, IntArray],
    values: FloatArray,
    sources: IntArray,
    targets: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """:func:`~fleetroute.maps.dial.pairs` on one of a map's graphs (``(indptr, heads,
    weight_cs, order)``, forward or reversed): seconds and sums of each pair."""
    indptr, heads, weight_cs, order = csr
    travel_cs, sums = pairs(indptr, heads, weight_cs, values[order], sources, targets)
    return travel_cs / 100.0, sums


def _found_backward(o: IntArray, d: IntArray) -> npt.NDArray[np.bool_]:
    """The legs better found by a search from their destination over the reversed roads
    than from their origin. Every leg when there are fewer distinct destinations than
    origins (legs into a new order, say). Else the legs into a hub (a destination at
    least half the distinct origins go to) from an origin that goes to under half the
    distinct destinations: a search from an origin runs until its farthest destination,
    and a hub far away makes every origin's search cover the city (a planning band's legs
    to its anchors: a minute of the 5,000-order store day's bands, against a few seconds
    searched from the 100 anchors)."""
    origins, o_at = np.unique(o, return_inverse=True)
    dests, d_at = np.unique(d, return_inverse=True)
    if dests.shape[0] < origins.shape[0]:
        return np.ones(o.shape[0], dtype=bool)
    hub = np.bincount(d_at, minlength=dests.shape[0]) * 2 >= origins.shape[0]
    spread = np.bincount(o_at, minlength=origins.shape[0]) * 2 >= dests.shape[0]
    back = hub[d_at] & ~spread[o_at]
    if np.unique(d[back]).shape[0] >= np.unique(o[back]).shape[0]:
        return np.zeros(o.shape[0], dtype=bool)  # as many searches either way
    return back
