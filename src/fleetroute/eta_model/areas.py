"""Area slowness: how much slower than free flow each part of the map drives, learned from
history, summed along each leg's path.

A city's slow parts (a business district, a centre of narrow streets) need not be at the
map's centre, and a leg is slowed by how much of its path runs through them, which neither
its ends nor its midpoint say. The map is cut into a grid of cells; the extra seconds of
sampled past trips (driven minus free-flow) are fitted, by ridge least squares, as a
constant (parking, the last metres) plus a slowness per cell times the free-flow seconds
the trip's path spends in that cell. Each edge then carries its free-flow seconds times
its cell's slowness, and a leg's ``area_ratio`` feature is the sum of that along its
fastest path over its free-flow seconds: one more value summed in the same path search
as the other features, in training and in planning alike.

Cells with few sampled seconds are drawn to the map's common slowness (the ridge acts on
each cell's difference from it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fleetroute.maps.roadmap import RoadMap

__all__ = ["AreaSlowness", "AREA_GRID", "AREA_SAMPLE"]

#: Cells per side of the grid over the map's nodes.
AREA_GRID = 12
#: Trips sampled to fit the cells (their path search with a column per cell is the cost).
AREA_SAMPLE = 20_000
#: Ridge weight per cell, in (free-flow seconds)^2 of one typical trip's share: a cell is
#: drawn to the common slowness until its sampled paths spend about this many trips' worth
#: of seconds in it.
_RIDGE_TRIPS = 20.0


@dataclass(frozen=True)
class AreaSlowness:
    """A grid over the map and each cell's extra seconds per free-flow second."""

    lat0: float
    lon0: float
    dlat: float
    dlon: float
    n: int
    slowness: npt.NDArray[np.float64]  # (n * n,), row-major from (lat0, lon0)

    @staticmethod
    def _grid(road_map: RoadMap, n: int) -> tuple[float, float, float, float]:
        lat0, lon0 = float(road_map.lat.min()), float(road_map.lon.min())
        dlat = max(float(road_map.lat.max()) - lat0, 1e-9) / n
        dlon = max(float(road_map.lon.max()) - lon0, 1e-9) / n
        return lat0, lon0, dlat, dlon

    @staticmethod
    def _cells(
        grid: tuple[float, float, float, float], n: int, lat: npt.ArrayLike, lon: npt.ArrayLike
    ) -> npt.NDArray[np.int64]:
        lat0, lon0, dlat, dlon = grid
        i = np.clip(((np.asarray(lat) - lat0) // dlat).astype(np.int64), 0, n - 1)
        j = np.clip(((np.asarray(lon) - lon0) // dlon).astype(np.int64), 0, n - 1)
        return np.asarray(i * n + j, dtype=np.int64)

    @staticmethod
    def _edge_cells(
        road_map: RoadMap, grid: tuple[float, float, float, float], n: int
    ) -> npt.NDArray[np.int64]:
        """Each edge's cell (by its midpoint)."""
        u, v = road_map.edge_u, road_map.edge_v
        lat = (road_map.lat[u] + road_map.lat[v]) / 2
        lon = (road_map.lon[u] + road_map.lon[v]) / 2
        return AreaSlowness._cells(grid, n, lat, lon)

    @classmethod
    def fit(
        cls,
        road_map: RoadMap,
        o_node: npt.ArrayLike,
        d_node: npt.ArrayLike,
        duration_s: npt.ArrayLike,
        *,
        n: int = AREA_GRID,
        sample: int = AREA_SAMPLE,
        seed: int = 0,
    ) -> AreaSlowness:
        """Fit the cells' slowness on (at most ``sample`` of) the trips ``o_node`` ->
        ``d_node`` that took ``duration_s``."""
        o = np.asarray(o_node, dtype=np.int64)
        d = np.asarray(d_node, dtype=np.int64)
        y = np.asarray(duration_s, dtype=np.float64)
        if o.shape[0] > sample:
            keep = np.sort(np.random.default_rng(seed).choice(o.shape[0], sample, replace=False))
            o, d, y = o[keep], d[keep], y[keep]
        grid = cls._grid(road_map, n)
        cell = cls._edge_cells(road_map, grid, n)
        values = np.zeros((road_map.n_edges, 1 + n * n))
        values[:, 0] = road_map.edge_length_m
        values[np.arange(road_map.n_edges), 1 + cell] = road_map.edge_travel_s
        freeflow, sums = road_map.legs(o, d, values)
        in_cell = sums[:, 1:]
        moving = freeflow > 0
        in_cell, y, freeflow = in_cell[moving], y[moving], freeflow[moving]
        # extra seconds = a + s * freeflow + sum_c delta_c * seconds in c (ridge on delta)
        X = np.column_stack([np.ones(y.shape[0]), freeflow, in_cell])
        gram = X.T @ X
        typical = float(np.median(freeflow)) if freeflow.size else 1.0
        ridge = np.zeros(X.shape[1])
        ridge[2:] = _RIDGE_TRIPS * typical**2
        ridge[:2] = 1e-9 * (np.diag(gram)[:2] + 1.0)
        beta = np.linalg.solve(gram + np.diag(ridge), X.T @ (y - freeflow))
        return cls(*grid, n=n, slowness=np.asarray(beta[1] + beta[2:], dtype=np.float64))

    def edge_seconds(self, road_map: RoadMap) -> npt.NDArray[np.float64]:
        """Each edge's expected extra seconds: its free-flow seconds times its cell's
        slowness."""
        grid = (self.lat0, self.lon0, self.dlat, self.dlon)
        cell = self._edge_cells(road_map, grid, self.n)
        return np.asarray(road_map.edge_travel_s * self.slowness[cell], dtype=np.float64)

    def save(self, path: str | Path) -> None:
        np.savez(
            path,
            grid=np.array([self.lat0, self.lon0, self.dlat, self.dlon, float(self.n)]),
            slowness=self.slowness,
        )

    @classmethod
    def load(cls, path: str | Path) -> AreaSlowness:
        with np.load(path) as f:
            grid, slowness = f["grid"], f["slowness"]
        if grid.shape != (5,) or not np.isfinite(grid).all() or grid[4] < 1:
            raise ValueError("its grid is not a grid")
        n = int(grid[4])
        if slowness.shape != (n * n,) or not np.isfinite(slowness).all():
            raise ValueError("its grid and cells do not match")
        lat0, lon0, dlat, dlon = (float(x) for x in grid[:4])
        return cls(lat0, lon0, dlat, dlon, n=n, slowness=np.asarray(slowness, dtype=np.float64))
