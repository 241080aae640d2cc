"""The free-flow baseline: OSMnx travel times and default service times.

It answers the same :class:`EtaProvider` protocol as the learned model, so the planner never
asks which one it has.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from fleetroute.maps.roadmap import RoadMap

__all__ = [
    "EtaProvider",
    "FreeFlow",
    "DROPOFF_BASE_S",
    "DROPOFF_PER_ITEM_S",
    "SHOP_BASE_S",
    "SHOP_PER_ITEM_S",
]

#: Default drop-off time: a fixed part (park, walk, hand over) plus a part per item.
DROPOFF_BASE_S = 120.0
DROPOFF_PER_ITEM_S = 10.0
#: Default shop time at a store: a fixed part plus a part per item picked.
SHOP_BASE_S = 300.0
SHOP_PER_ITEM_S = 20.0

FloatArray = npt.NDArray[np.float64]
#: Travel seconds per band: 4-byte floats where they are many (a big day's bands).
BandArray = npt.NDArray[np.floating[Any]]


class EtaProvider(Protocol):
    """What the planner asks of an ETA source (free-flow baseline or learned model).

    A provider may also have ``service_s_each`` (:meth:`service_s`'s arguments with
    ``when`` one instant per stop): the planner then predicts stops at many instants in
    one call (:class:`~fleetroute.eta_model.learned.LearnedEta` has it), else one call
    per instant."""

    name: str

    def band_starts(self, start: datetime, end: datetime) -> list[datetime]:
        """When each band :meth:`travel_bands` gives between ``start`` and ``end`` begins
        (the planner sizes its memory by them before any matrix is built)."""
        ...

    def travel_bands(
        self,
        road_map: RoadMap,
        nodes: npt.NDArray[np.int64],
        *,
        start: datetime,
        end: datetime,
        hubs: npt.ArrayLike = (),
    ) -> tuple[list[datetime], BandArray, FloatArray]:
        """Travel seconds between map nodes per time band from ``start`` to ``end``.

        Returns the band start times, a ``(bands, n, n)`` array of seconds for legs that
        depart in each band, and the ``(n, n)`` metres of the paths. ``hubs``: nodes
        whose legs routes drive most (depots, stores); a provider that estimates some
        legs from others (:class:`~fleetroute.eta_model.learned.LearnedEta` on many
        places) works out every leg of theirs.
        """
        ...

    def leg_bands(
        self,
        road_map: RoadMap,
        origins: npt.NDArray[np.int64],
        dests: npt.NDArray[np.int64],
        *,
        band_starts: list[datetime],
    ) -> tuple[FloatArray, FloatArray]:
        """Travel seconds of single legs: ``(bands, legs)`` seconds for departures in each of
        ``band_starts``' bands, and the ``(legs,)`` metres (for a few legs, not a matrix)."""
        ...

    def service_s(
        self,
        road_map: RoadMap,
        *,
        is_shop: npt.ArrayLike,
        items: npt.ArrayLike,
        store_id: npt.ArrayLike,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        when: datetime,
    ) -> FloatArray:
        """Shop (``is_shop``) or drop-off seconds of each stop, around ``when``."""
        ...


class FreeFlow:
    """Free-flow travel times of the map and default service times (no learning)."""

    name = "free-flow"

    def band_starts(self, start: datetime, end: datetime) -> list[datetime]:
        """One band from ``start``: free-flow times do not depend on the hour."""
        del end
        return [start]

    def travel_bands(
        self,
        road_map: RoadMap,
        nodes: npt.NDArray[np.int64],
        *,
        start: datetime,
        end: datetime,
        hubs: npt.ArrayLike = (),
    ) -> tuple[list[datetime], BandArray, FloatArray]:
        """One band: free-flow seconds and metres of the fastest paths, at any hour."""
        del hubs
        travel, distance = road_map.matrix(nodes)
        return self.band_starts(start, end), travel[None, :, :], distance

    def leg_bands(
        self,
        road_map: RoadMap,
        origins: npt.NDArray[np.int64],
        dests: npt.NDArray[np.int64],
        *,
        band_starts: list[datetime],
    ) -> tuple[FloatArray, FloatArray]:
        """Free-flow seconds of each leg, the same in every band, and its metres."""
        travel, sums = road_map.legs(origins, dests)
        return np.repeat(travel[None, :], len(band_starts), axis=0), sums[:, 0]

    @staticmethod
    def default_service_s(is_shop: npt.ArrayLike, items: npt.ArrayLike) -> FloatArray:
        """Shop: ``SHOP_BASE_S + SHOP_PER_ITEM_S * items``; drop-off likewise with DROPOFF_*."""
        n = np.asarray(items, dtype=np.float64)
        shop = np.asarray(is_shop, dtype=bool)
        return np.where(
            shop, SHOP_BASE_S + SHOP_PER_ITEM_S * n, DROPOFF_BASE_S + DROPOFF_PER_ITEM_S * n
        )

    def service_s(
        self,
        road_map: RoadMap,
        *,
        is_shop: npt.ArrayLike,
        items: npt.ArrayLike,
        store_id: npt.ArrayLike,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        when: datetime,
    ) -> FloatArray:
        """The default service times, whatever the store, place or hour."""
        del road_map, store_id, lat, lon, when
        return self.default_service_s(is_shop, items)
