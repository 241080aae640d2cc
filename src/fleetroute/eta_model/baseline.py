"""The free-flow baseline: OSMnx travel times and default service times.

It answers the same :class:`EtaProvider` protocol as the learned model, so the planner never
asks which one it has.
"""

from __future__ import annotations

from typing import Protocol

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


class EtaProvider(Protocol):
    """What the planner asks of an ETA source (free-flow baseline or learned model)."""

    name: str

    def travel(
        self, road_map: RoadMap, nodes: npt.NDArray[np.int64], *, departure_s: int
    ) -> tuple[FloatArray, FloatArray]:
        """Seconds and metres between map nodes for a departure at ``departure_s``."""
        ...

    def dropoff_s(
        self, items: npt.NDArray[np.int64], *, when_s: npt.NDArray[np.int64]
    ) -> FloatArray:
        """Drop-off seconds per order."""
        ...

    def shop_s(
        self,
        items: npt.NDArray[np.int64],
        store_id: npt.NDArray[np.object_],
        *,
        when_s: npt.NDArray[np.int64],
    ) -> FloatArray:
        """Shop seconds per order at its store."""
        ...


class FreeFlow:
    """Free-flow travel times of the map and default service times (no learning)."""

    name = "free-flow"

    def travel(
        self, road_map: RoadMap, nodes: npt.NDArray[np.int64], *, departure_s: int
    ) -> tuple[FloatArray, FloatArray]:
        """Free-flow seconds and metres of the fastest paths; the same at any hour."""
        del departure_s
        return road_map.matrix(nodes)

    def dropoff_s(
        self, items: npt.NDArray[np.int64], *, when_s: npt.NDArray[np.int64]
    ) -> FloatArray:
        """``DROPOFF_BASE_S + DROPOFF_PER_ITEM_S * items``."""
        del when_s
        return DROPOFF_BASE_S + DROPOFF_PER_ITEM_S * np.asarray(items, dtype=np.float64)

    def shop_s(
        self,
        items: npt.NDArray[np.int64],
        store_id: npt.NDArray[np.object_],
        *,
        when_s: npt.NDArray[np.int64],
    ) -> FloatArray:
        """``SHOP_BASE_S + SHOP_PER_ITEM_S * items``, whatever the store."""
        del store_id, when_s
        return SHOP_BASE_S + SHOP_PER_ITEM_S * np.asarray(items, dtype=np.float64)
