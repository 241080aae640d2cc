"""Features of the ETA model: one pure function per target, shared by training, prediction,
evaluation and planning, so training and serving cannot drift apart.

Everything here is known before the leg or stop happens: the map's fastest path and what
lies along it, where, and when.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from fleetroute.maps.load import ARTERIALS
from fleetroute.maps.roadmap import RoadMap, haversine_m

__all__ = [
    "TRAVEL_FEATURES",
    "SERVICE_FEATURES",
    "travel_features",
    "service_features",
]

TRAVEL_FEATURES = (
    "freeflow_s",
    "length_m",
    "arterial_share",
    "edges",
    "hour",
    "weekday",
    "o_lat",
    "o_lon",
    "d_lat",
    "d_lon",
    "d_centre_m",
    "m_lat",
    "m_lon",
    "area_ratio",
)
#: A drop-off's own coordinates and distance from the centre (missing for shop stops:
#: measured, a store's coordinates let the shop model overfit store locations, which the
#: store id already carries; service MAE 1.14x the noise floor with them, 1.01x without; its
#: distance from the centre did the same where the held-out stores stood elsewhere, 1.09x).
#: With them the model learns where drop-offs take long wherever that is, not only by
#: distance from the map's centre.
SERVICE_FEATURES = (
    "is_shop", "items", "store", "hour", "weekday", "drop_centre_m", "d_lat", "d_lon"
)  # fmt: skip


def _centre_m(road_map: RoadMap, lat: npt.ArrayLike, lon: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return haversine_m(lat, lon, *road_map.centre)


def _edge_values(road_map: RoadMap) -> npt.NDArray[np.float64]:
    hw = road_map.edge_highway
    art = np.isin(hw, ARTERIALS) if hw is not None else np.zeros(road_map.n_edges, bool)
    return np.column_stack(
        [road_map.edge_length_m, road_map.edge_length_m * art, np.ones(road_map.n_edges)]
    )


def _when(hour: npt.ArrayLike, weekday: npt.ArrayLike, n: int) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.broadcast_to(np.asarray(hour, dtype=np.float64), (n,)),
        np.broadcast_to(np.asarray(weekday, dtype=np.int64), (n,)),
    )


def travel_features(
    road_map: RoadMap,
    o_node: npt.ArrayLike,
    d_node: npt.ArrayLike,
    *,
    hour: npt.ArrayLike,
    weekday: npt.ArrayLike,
    area_s: npt.ArrayLike | None = None,
) -> pd.DataFrame:
    """Features of driving legs between snapped map nodes, departing at ``hour``/``weekday``.

    ``hour`` is fractional (8.5 = 08:30); ``weekday`` 0 = Monday. Both broadcast.
    ``area_s``: each edge's learned extra seconds (a model's
    :meth:`~fleetroute.eta_model.model.EtaModel.area_edges`); its sum along the path over
    the free-flow seconds is ``area_ratio`` (missing without it).
    """
    o = np.asarray(o_node, dtype=np.int64)
    d = np.asarray(d_node, dtype=np.int64)
    values = _edge_values(road_map)
    if area_s is not None:
        values = np.column_stack([values, np.asarray(area_s, dtype=np.float64)])
    freeflow, sums = road_map.legs(o, d, values)
    length = sums[:, 0]
    h, w = _when(hour, weekday, o.shape[0])
    return pd.DataFrame(
        {
            "freeflow_s": freeflow,
            "length_m": length,
            "arterial_share": np.divide(
                sums[:, 1], length, out=np.zeros_like(length), where=length > 0
            ),
            "edges": sums[:, 2],
            "hour": h,
            "weekday": w,
            "o_lat": road_map.lat[o],
            "o_lon": road_map.lon[o],
            "d_lat": road_map.lat[d],
            "d_lon": road_map.lon[d],
            "d_centre_m": _centre_m(road_map, road_map.lat[d], road_map.lon[d]),
            # the middle of the leg (as the crow flies): where it passes through
            "m_lat": (road_map.lat[o] + road_map.lat[d]) / 2,
            "m_lon": (road_map.lon[o] + road_map.lon[d]) / 2,
            # how much slower than free flow the areas its path crosses drive
            "area_ratio": (
                np.full(o.shape[0], np.nan)
                if area_s is None
                else np.divide(
                    sums[:, 3], freeflow, out=np.zeros_like(freeflow), where=freeflow > 0
                )
            ),
        },
        columns=list(TRAVEL_FEATURES),
    )


def service_features(
    road_map: RoadMap,
    *,
    is_shop: npt.ArrayLike,
    items: npt.ArrayLike,
    store_code: npt.ArrayLike,
    lat: npt.ArrayLike,
    lon: npt.ArrayLike,
    hour: npt.ArrayLike,
    weekday: npt.ArrayLike,
) -> pd.DataFrame:
    """Features of shop and drop-off stops. ``store_code`` is -1 for none or unknown
    (a missing value to LightGBM). Where a stop is (coordinates, distance from the centre)
    is a drop-off's only: a shop's store id carries where it is (see
    :data:`SERVICE_FEATURES`)."""
    n_items = np.asarray(items, dtype=np.float64)
    h, w = _when(hour, weekday, n_items.shape[0])
    shop = np.asarray(is_shop, dtype=np.int64)

    def drop_off_only(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.where(shop == 1, np.nan, values)

    lat_a = np.broadcast_to(np.asarray(lat, dtype=np.float64), n_items.shape)
    lon_a = np.broadcast_to(np.asarray(lon, dtype=np.float64), n_items.shape)
    return pd.DataFrame(
        {
            "is_shop": shop,
            "items": n_items,
            "store": np.where(
                np.asarray(store_code) >= 0, np.asarray(store_code, dtype=np.float64), np.nan
            ),
            "hour": h,
            "weekday": w,
            "drop_centre_m": drop_off_only(_centre_m(road_map, lat_a, lon_a)),
            "d_lat": drop_off_only(lat_a),
            "d_lon": drop_off_only(lon_a),
        },
        columns=list(SERVICE_FEATURES),
    )
