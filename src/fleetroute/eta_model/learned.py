"""The learned model as the planner's ETA provider: travel per time band, service per stop."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fleetroute.eta_model.features import service_features, travel_features
from fleetroute.eta_model.model import PLAN_QUANTILE, EtaModel
from fleetroute.maps.roadmap import RoadMap

__all__ = ["LearnedEta", "SPREAD_QUANTILE", "Z_SPREAD"]

#: The quantile that measures how uncertain a time is, beside the median.
SPREAD_QUANTILE = 0.9
#: A standard normal's 0.9 quantile: log(P90 / median) of a log-normal time, in its
#: standard deviations.
Z_SPREAD = 1.2815515655446004

FloatArray = npt.NDArray[np.float64]


class LearnedEta:
    """Plan with an :class:`EtaModel`: one travel matrix per band, predicted service times.

    Parameters
    ----------
    model
        A fitted model (or load one with :meth:`load`).
    quantile
        Plan on this quantile of travel and service times (0.5: the median; 0.9: every
        leg and stop as slow as one time in ten). It must be one the model learned. By
        default :data:`PLAN_QUANTILE` (0.65), or the median for a bundle trained without it.
    margin_s
        Slack the plan keeps before each window closes (seconds; see
        :attr:`fleetroute.routing.problem.Problem.margin_s`; default none). The median
        with 600 s is another way to be on time: on the suite's 400-order store day (60 s,
        3 seeds, each replayed 3 times in the true world) it kept 99.1% of the promises at
        1.069x the true cost of the free-flow plan, where the 0.65 quantile kept 99.3% at
        1.075x (the median alone 97.7% at 1.031x); on the 2,000-order day (one seed) it
        kept 96.7% at 1.061x, where 0.65 kept 98.1% at 1.073x (README, "Planning").
    late_chance
        Plan on the median (unless ``quantile`` says otherwise) and give each drop-off the
        margin that keeps its chance of starting after its window closes at most this
        (see :mod:`fleetroute.routing.punctual`); the model's 0.9 quantile tells how
        uncertain each time is. 0: no such margins.
    band_h
        Width of the time bands, hours.
    """

    def __init__(
        self,
        model: EtaModel,
        *,
        quantile: float | None = None,
        margin_s: int = 0,
        late_chance: float = 0.0,
        band_h: float = 2.0,
    ) -> None:
        if margin_s < 0:
            raise ValueError("the margin must not be negative")
        if not 0.0 <= late_chance < 1.0:
            raise ValueError("the late chance must be at least 0 and below 1")
        if late_chance > 0 and SPREAD_QUANTILE not in model.travel_boosters_:
            raise ValueError(
                f"a late chance needs the model's {SPREAD_QUANTILE:g} quantile (retrain it)"
            )
        if quantile is None:
            default = 0.5 if late_chance > 0 else PLAN_QUANTILE
            quantile = default if default in model.travel_boosters_ else 0.5
        if quantile not in model.travel_boosters_:
            have = ", ".join(f"{q:g}" for q in sorted(model.travel_boosters_))
            raise ValueError(f"the model has no {quantile:g} quantile (it has {have})")
        self.model = model
        self.quantile = quantile
        self.margin_s = int(margin_s)
        self.late_chance = float(late_chance)
        self.band_h = band_h
        self.name = (
            f"lightgbm q{quantile:g}"
            + (f" +{self.margin_s}s" if self.margin_s else "")
            + (f" late<={self.late_chance:g}" if self.late_chance else "")
        )

    @classmethod
    def load(
        cls,
        directory: str | Path,
        road_map: RoadMap,
        *,
        quantile: float | None = None,
        margin_s: int = 0,
        late_chance: float = 0.0,
    ) -> LearnedEta:
        """Load a bundle made for ``road_map`` (else :class:`ModelBundleError`)."""
        model = EtaModel.load(directory, road_map=road_map)
        return cls(model, quantile=quantile, margin_s=margin_s, late_chance=late_chance)

    def at_quantile(self, quantile: float) -> LearnedEta:
        """The same model planning on another of its quantiles (no margin)."""
        return LearnedEta(self.model, quantile=quantile, band_h=self.band_h)

    def travel_spread(
        self,
        road_map: RoadMap,
        nodes: npt.NDArray[np.int64],
        *,
        band_starts: list[datetime],
        legs: int = 2000,
        seed: int = 0,
    ) -> FloatArray:
        """How uncertain travel is in each band: the median over ``legs`` random legs
        between ``nodes`` of log(0.9 quantile / median) / 1.2816, the standard deviation
        of a log-normal time with those two quantiles. (On the suite's 400-order store day
        the legs' own values lie within 0.09-0.18 in every band.)"""
        rng = np.random.default_rng(seed)
        unique = np.unique(np.asarray(nodes, dtype=np.int64))
        o, d = rng.choice(unique, legs), rng.choice(unique, legs)
        keep = o != d
        o, d = o[keep], d[keep]
        b = len(band_starts)
        times = self.legs_in_band(
            road_map,
            np.tile(o, b),
            np.tile(d, b),
            band_starts=band_starts,
            band=np.repeat(np.arange(b), o.shape[0]),
            quantiles=(0.5, SPREAD_QUANTILE),
        )
        ratio = np.log(np.maximum(times[SPREAD_QUANTILE], 1.0) / np.maximum(times[0.5], 1.0))
        per_band = np.median(ratio.reshape(b, -1), axis=1) if o.size else np.zeros(b)
        return np.asarray(np.maximum(per_band, 0.0) / Z_SPREAD, dtype=np.float64)

    def travel_bands(
        self, road_map: RoadMap, nodes: npt.NDArray[np.int64], *, start: datetime, end: datetime
    ) -> tuple[list[datetime], FloatArray, FloatArray]:
        """Predicted seconds per band between ``start`` and ``end``; path metres."""
        unique, inverse = np.unique(np.asarray(nodes, dtype=np.int64), return_inverse=True)
        n = unique.shape[0]
        o, d = np.repeat(unique, n), np.tile(unique, n)
        width = timedelta(hours=self.band_h)
        starts = [start]
        while starts[-1] + width < end:
            starts.append(starts[-1] + width)
        bands, distance = self.leg_bands(road_map, o, d, band_starts=starts)
        bands = bands.reshape(len(starts), n, n)
        for b in range(len(starts)):
            np.fill_diagonal(bands[b], 0.0)
        distance = distance.reshape(n, n)
        grid = np.ix_(inverse, inverse)
        return starts, bands[:, grid[0], grid[1]], distance[grid]

    def leg_bands(
        self,
        road_map: RoadMap,
        origins: npt.NDArray[np.int64],
        dests: npt.NDArray[np.int64],
        *,
        band_starts: list[datetime],
    ) -> tuple[FloatArray, FloatArray]:
        """Predicted seconds of each leg for a departure in the middle of each band."""
        hours, weekdays = self._middles(band_starts)
        features = travel_features(
            road_map, origins, dests, hour=0.0, weekday=0, area_s=self.model.area_edges(road_map)
        )
        bands = np.empty((len(band_starts), len(features)), dtype=np.float64)
        for b in range(len(band_starts)):
            features["hour"], features["weekday"] = hours[b], weekdays[b]
            bands[b] = self.model.predict_travel(features, self.quantile)
        return bands, features["length_m"].to_numpy()

    def _middles(
        self, band_starts: list[datetime]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """The hour of the day (fractional) and weekday of each band's middle: the
        departure a band's legs are predicted for."""
        middles = [when + timedelta(hours=self.band_h) / 2 for when in band_starts]
        return (
            np.array([m.hour + m.minute / 60.0 for m in middles], dtype=np.float64),
            np.array([m.weekday() for m in middles], dtype=np.int64),
        )

    def legs_in_band(
        self,
        road_map: RoadMap,
        origins: npt.NDArray[np.int64],
        dests: npt.NDArray[np.int64],
        *,
        band_starts: list[datetime],
        band: npt.NDArray[np.int64],
        quantiles: tuple[float, ...],
    ) -> dict[float, FloatArray]:
        """Predicted seconds of each leg departing in its own band (``band[i]``, an index
        of ``band_starts``), for each of ``quantiles``: what :meth:`leg_bands` gives for
        that band, with the legs' paths found once for every quantile."""
        hours, weekdays = self._middles(band_starts)
        features = travel_features(
            road_map, origins, dests, hour=0.0, weekday=0, area_s=self.model.area_edges(road_map)
        )
        features["hour"], features["weekday"] = hours[band], weekdays[band]
        return {q: self.model.predict_travel(features, q) for q in quantiles}

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
        """Predicted shop or drop-off seconds of each stop."""
        code = {s: i for i, s in enumerate(self.model.stores_)}
        stores = np.asarray(store_id, dtype=object)
        features = service_features(
            road_map,
            is_shop=is_shop,
            items=items,
            store_code=[code.get(s, -1) for s in stores],
            lat=lat,
            lon=lon,
            hour=when.hour + when.minute / 60.0,
            weekday=when.weekday(),
        )
        return self.model.predict_service(features, self.quantile)
