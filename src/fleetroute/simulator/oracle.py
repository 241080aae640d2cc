"""The true world's own times as an ETA provider: what a perfect model of the world would
predict, so that a plan made on them shows what being on time costs at best.

Each leg's and stop's time is the world's median (:meth:`TrueWorld.expected_travel_s`,
:meth:`TrueWorld.expected_service_s`) times its noise's ``quantile`` (the noise is
log-normal, so the quantile is ``exp(sd * z)``), per band of ``band_h`` hours for a
departure in the band's middle, as :class:`~fleetroute.eta_model.learned.LearnedEta`
predicts its bands. A learned plan's true cost over this one's, both replayed in the world,
is what the model's errors cost; this one's over the free-flow plan's is what punctuality
costs in this world whatever the model (benchmarks/punctuality.py).

Every leg between the plan's places is worked out (one path search per place): for a
benchmark's day, not for a city's.
"""

from __future__ import annotations

from datetime import datetime
from math import exp
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
import pandas as pd

from fleetroute.eta_model.baseline import BandArray
from fleetroute.eta_model.learned import BAND_H, band_middle_hours, bands_every
from fleetroute.eta_model.model import PLAN_QUANTILE
from fleetroute.maps.roadmap import RoadMap
from fleetroute.simulator.world import TrueWorld

__all__ = ["WorldEta"]

FloatArray = npt.NDArray[np.float64]


class WorldEta:
    """Plan on the true world's times (an ETA provider, like the learned model).

    Parameters
    ----------
    world
        The world (its default when not given).
    quantile
        The quantile of each time's noise to plan on (0.5: the world's median);
        :data:`~fleetroute.eta_model.model.PLAN_QUANTILE`, as the learned model, by default.
    band_h
        Width of the travel bands, hours.
    """

    def __init__(
        self,
        world: TrueWorld | None = None,
        *,
        quantile: float = PLAN_QUANTILE,
        band_h: float = BAND_H,
    ) -> None:
        if not 0.0 < quantile < 1.0:
            raise ValueError("the quantile must be above 0 and below 1")
        self.world = world or TrueWorld()
        self.quantile = quantile
        self.band_h = band_h
        self.name = f"true world q{quantile:g}"
        z = NormalDist().inv_cdf(quantile)
        self._travel_factor = exp(self.world.travel_noise * z)
        self._service_factor = exp(self.world.service_noise * z)

    def band_starts(self, start: datetime, end: datetime) -> list[datetime]:
        """Every ``band_h`` hours from ``start``."""
        return bands_every(start, end, self.band_h)

    def travel_bands(
        self,
        road_map: RoadMap,
        nodes: npt.NDArray[np.int64],
        *,
        start: datetime,
        end: datetime,
        hubs: npt.ArrayLike = (),
    ) -> tuple[list[datetime], BandArray, FloatArray]:
        """The world's seconds of every leg between ``nodes`` per band (4-byte floats, one
        band at a time: a 5,000-order day has 40 million legs); path metres."""
        del hubs
        unique, inverse = np.unique(np.asarray(nodes, dtype=np.int64), return_inverse=True)
        n = unique.shape[0]
        starts = self.band_starts(start, end)
        sums = self.world.leg_sums(road_map, np.repeat(unique, n), np.tile(unique, n))
        park = np.tile(self.world.parking_at(road_map, unique), n)
        grid = np.ix_(inverse, inverse)
        bands = np.empty((len(starts), inverse.size, inverse.size), dtype=np.float32)
        for b, when in enumerate(zip(*band_middle_hours(starts, self.band_h), strict=True)):
            band = self._band(sums, park, *when).reshape(n, n)
            np.fill_diagonal(band, 0.0)
            bands[b] = band[grid]
        return starts, bands, sums[:, 0].reshape(n, n)[grid]

    def leg_bands(
        self,
        road_map: RoadMap,
        origins: npt.NDArray[np.int64],
        dests: npt.NDArray[np.int64],
        *,
        band_starts: list[datetime],
    ) -> tuple[FloatArray, FloatArray]:
        """The world's seconds of each leg departing in the middle of each band (0 from a
        node to itself), and its metres."""
        o, d = np.asarray(origins, dtype=np.int64), np.asarray(dests, dtype=np.int64)
        sums = self.world.leg_sums(road_map, o, d)
        park = self.world.parking_at(road_map, d)
        middles = band_middle_hours(band_starts, self.band_h)
        out = np.array([self._band(sums, park, *when) for when in zip(*middles, strict=True)])
        out[:, o == d] = 0.0
        return out.reshape(len(band_starts), o.shape[0]), sums[:, 0]

    def _band(self, sums: FloatArray, park: FloatArray, hour: float, weekday: int) -> FloatArray:
        """The planned seconds of legs (their :meth:`TrueWorld.leg_sums` and parking)
        departing at ``hour`` of ``weekday``."""
        return self.world.travel_at(sums, park, hour, weekday) * self._travel_factor

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
        """The world's shop or drop-off seconds of each stop beginning at ``when``."""
        shop = np.asarray(is_shop, dtype=bool)
        at = pd.DatetimeIndex(np.full(shop.shape[0], np.datetime64(when, "s")))
        kind = np.where(shop, "shop", "dropoff")
        median = self.world.expected_service_s(road_map, kind, items, store_id, lat, lon, at)
        return np.asarray(median * self._service_factor, dtype=np.float64)
