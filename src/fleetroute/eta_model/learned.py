"""The learned model as the planner's ETA provider: travel per time band, service per stop."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numba as nb
import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from fleetroute.errors import EtaOptionError
from fleetroute.eta_model.baseline import BandArray
from fleetroute.eta_model.features import service_features, travel_features
from fleetroute.eta_model.model import PLAN_QUANTILE, EtaModel
from fleetroute.maps.roadmap import RoadMap

__all__ = [
    "LearnedEta",
    "BAND_H",
    "SPREAD_QUANTILE",
    "Z_SPREAD",
    "anchored_pairs",
    "band_middle_hours",
    "bands_every",
]

#: The quantile that measures how uncertain a time is, beside the median.
SPREAD_QUANTILE = 0.9
#: A standard normal's 0.9 quantile: log(P90 / median) of a log-normal time, in its
#: standard deviations.
Z_SPREAD = 1.2815515655446004

#: The places a band's spread (:meth:`LearnedEta.travel_spread`) takes its legs from.
SPREAD_ORIGINS = 50

#: Hours per travel band. Each band's legs are predicted for a departure in its middle, so
#: a band next to a rush hour's peak misses it: on the 5,000-order store day with 2-hour
#: bands from 08:00, legs leaving at 08:00-09:00 and 18:00-19:00 were planned 5-8% faster
#: than the true world's median (09:00-10:00 and 16:00-17:00 13-17% slower), and 94.7% of
#: the drop-offs were on time; with 1-hour bands every hour's legs were within 0.99-1.04
#: and 96.0% (3 draws). The 400-order day at 60 s (seeds 1-3): true cost 4,386 -> 4,332,
#: on time 99.0% -> 99.5%; the 2,000-order day 28,970 -> 29,012 (+0.15%, the searches'
#: spread), 98.3% -> 98.2%. Building the 5,000-order day's bands: 85 -> 97 s.
BAND_H = 1.0
#: Up to this many distinct places a band predicts every leg between them.
EXACT_UP_TO = 800
#: Above :data:`EXACT_UP_TO`: legs predicted to and from each place's this many nearest.
NEAR = 100
#: ... and to and from this many anchor places spread over the plan's area. With 100, a
#: 2,000 x 2,000 band predicted 592,000 legs (2.7-3.6 s on 2 cores, LightGBM's two boosters
#: most of it); with 64, 462,000 (1.9-2.3 s), its legs 1.12% from their own prediction
#: on average instead of 0.91% (those to each place's 100th-400th nearest 1.69% instead of
#: 1.35%, bias +0.15%), and the 2,000-order store day's plans (3 seeds, 60 s,
#: replayed 3 times) cost 28,681 when driven and kept 99.2% of their promises, against
#: 28,718 and 99.5% with 100 (50 anchors: 28,809 and 99.4%).
ANCHORS = 64

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def anchored_pairs(
    road_map: RoadMap,
    nodes: npt.NDArray[np.int64],
    freeflow: FloatArray,
    *,
    near: int,
    anchors: int,
    hubs: npt.ArrayLike = (),
) -> tuple[IntArray, IntArray, tuple[IntArray, IntArray]]:
    """Which legs between ``nodes`` a band predicts when there are many of them.

    The anchors are ``hubs`` (indices into ``nodes``: depots and stores, whose legs
    routes drive most) and then, up to ``anchors`` in all, nodes chosen farthest-first
    (each the farthest, as the crow flies, from those already chosen; without hubs,
    beginning nearest their middle); every node belongs to its nearest anchor. Returns
    the anchors (indices into ``nodes``), each node's anchor (an index into the
    anchors), and the (origin, destination) index pairs to predict: each node's legs to
    its ``near`` nearest by ``freeflow`` and from the ``near`` nodes nearest to it, and
    every leg to and from an anchor.
    """
    n = nodes.shape[0]
    lat, lon = road_map.lat[nodes], road_map.lon[nodes]
    xy = np.column_stack([lat, lon * np.cos(np.radians(float(np.mean(lat))))])
    picked = list(dict.fromkeys(int(h) for h in np.asarray(hubs, dtype=np.int64).ravel()))
    if not picked:
        picked = [int(np.argmin(((xy - xy.mean(axis=0)) ** 2).sum(axis=1)))]
    gap = np.min([((xy - xy[c]) ** 2).sum(axis=1) for c in picked], axis=0)
    while len(picked) < min(anchors, n):
        picked.append(int(np.argmax(gap)))
        gap = np.minimum(gap, ((xy - xy[picked[-1]]) ** 2).sum(axis=1))
    k = len(picked)
    chosen = np.asarray(picked, dtype=np.int64)
    _, label = cKDTree(xy[chosen]).query(xy)
    label = np.asarray(label, dtype=np.int64)
    label[chosen] = np.arange(k)  # an anchor is its own (ties at equal distance aside)
    m = min(near + 1, n)  # +1: the node itself is among its nearest
    wanted = np.zeros((n, n), dtype=bool)
    rows = np.argpartition(freeflow, m - 1, axis=1)[:, :m]
    wanted[np.repeat(np.arange(n), m), rows.ravel()] = True
    cols = np.argpartition(freeflow, m - 1, axis=0)[:m, :]
    wanted[cols.ravel(), np.tile(np.arange(n), m)] = True
    wanted[:, chosen] = True
    wanted[chosen, :] = True
    o, d = np.nonzero(wanted)
    return chosen, label, (o.astype(np.int64), d.astype(np.int64))


def bands_every(start: datetime, end: datetime, band_h: float) -> list[datetime]:
    """When each band of ``band_h`` hours from ``start`` begins, up to the last that
    begins before ``end`` (``start`` itself always)."""
    width = timedelta(hours=band_h)
    starts = [start]
    while starts[-1] + width < end:
        starts.append(starts[-1] + width)
    return starts


def band_middle_hours(
    band_starts: list[datetime], band_h: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """The hour of the day (fractional) and weekday of the middle of each band of
    ``band_h`` hours: the departure a band's legs are predicted for."""
    middles = [when + timedelta(hours=band_h) / 2 for when in band_starts]
    return (
        np.array([m.hour + m.minute / 60.0 for m in middles], dtype=np.float64),
        np.array([m.weekday() for m in middles], dtype=np.int64),
    )


@nb.njit(parallel=True, cache=True)
def _scaled(
    freeflow: FloatArray,
    to_anchor: FloatArray,
    from_anchor: FloatArray,
    between: FloatArray,
    label: IntArray,
    band: FloatArray,
) -> None:  # pragma: no cover
    """``band[i, j]``: the free-flow seconds of leg i -> j times its slowdown made of
    anchor legs (log slowdowns: i to j's anchor, plus i's anchor to j, less anchor to
    anchor), row by row on every core (what numpy did in six passes over the matrix)."""
    n = freeflow.shape[0]
    for i in nb.prange(n):
        a = label[i]
        for j in range(n):
            c = label[j]
            band[i, j] = freeflow[i, j] * np.exp(
                to_anchor[i, c] + from_anchor[a, j] - between[a, c]
            )


@nb.njit(parallel=True, cache=True)
def _gathered(
    band: FloatArray, index: IntArray, out: npt.NDArray[np.float32]
) -> None:  # pragma: no cover
    """``out[r, c] = band[index[r], index[c]]`` (4-byte floats), row by row on every core."""
    for r in nb.prange(index.shape[0]):
        row = band[index[r]]
        for c in range(index.shape[0]):
            out[r, c] = row[index[c]]


def compile_kernels() -> None:
    """Run the band kernels once on arrays of the types planning passes them, so a fresh
    checkout's one-off compilation (cached on disk after) is not timed as a band's
    prediction (the suite's first learned day)."""
    slow, label = np.zeros((2, 2)), np.zeros(2, dtype=np.int64)
    to_anchor = np.ascontiguousarray(slow[:, label[:1]])
    band = np.empty((2, 2))
    _scaled(np.ones((2, 2)), to_anchor, slow[label[:1], :], to_anchor[label[:1]], label, band)
    _gathered(band, np.arange(2, dtype=np.int64), np.empty((1, 2, 2), dtype=np.float32)[0])


class LearnedEta:
    """Plan with an :class:`EtaModel`: one travel matrix per band, predicted service times.

    Parameters
    ----------
    model
        A fitted model (or load one with :meth:`load`).
    quantile
        Plan on this quantile of travel and service times (0.5: the median; 0.9: every
        leg and stop as slow as one time in ten), from the lowest the model learned to its
        highest; one between two learned ones blends their predictions
        (:func:`fleetroute.eta_model.model.blend_weights`). By default
        :data:`PLAN_QUANTILE` (0.7, blended from the learned 0.65 and 0.9), or the learned
        quantile nearest to it for a bundle that cannot blend it (the median for a bundle
        trained with the median alone).
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
        Width of the time bands, hours (:data:`BAND_H`).
    """

    def __init__(
        self,
        model: EtaModel,
        *,
        quantile: float | None = None,
        margin_s: int = 0,
        late_chance: float = 0.0,
        band_h: float = BAND_H,
    ) -> None:
        if margin_s < 0:
            raise EtaOptionError("margin_s", "the margin must not be negative")
        if not 0.0 <= late_chance < 1.0:
            raise EtaOptionError("late_chance", "the late chance must be at least 0 and below 1")
        if late_chance > 0 and SPREAD_QUANTILE not in model.travel_boosters_:
            raise EtaOptionError(
                "late_chance",
                f"a late chance needs the model's {SPREAD_QUANTILE:g} quantile (retrain it)",
            )
        learned = sorted(model.travel_boosters_)
        if quantile is None:
            default = 0.5 if late_chance > 0 else PLAN_QUANTILE
            quantile = min(max(default, learned[0]), learned[-1])
        if not learned[0] <= quantile <= learned[-1]:
            have = ", ".join(f"{q:g}" for q in learned)
            raise EtaOptionError(
                "quantile",
                f"the model learned quantiles {have}: plan on one from {learned[0]:g} to "
                f"{learned[-1]:g}",
            )
        self.model = model
        self.quantile = quantile
        self.margin_s = int(margin_s)
        self.late_chance = float(late_chance)
        self.band_h = band_h
        self.name = (
            f"lightgbm q{quantile:g}"
            + (f" +{self.margin_s}s" if self.margin_s else "")
            + (f" late<={self.late_chance:g}" if self.late_chance else "")
            + (f" {band_h:g}h bands" if band_h != BAND_H else "")
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
        between ``nodes`` (from :data:`SPREAD_ORIGINS` of them) of log(0.9 quantile /
        median) / 1.2816, the standard deviation of a log-normal time with those two
        quantiles. (On the suite's 400-order store day the legs' own values lie within
        0.09-0.18 in every band.)"""
        rng = np.random.default_rng(seed)
        unique = np.unique(np.asarray(nodes, dtype=np.int64))
        # from SPREAD_ORIGINS places (one path search each) to random places: on a
        # 200k-node map 2,000 legs from 2,000 places took 10 s of the 5,000-order day's
        # bands
        origins = rng.choice(unique, min(SPREAD_ORIGINS, unique.shape[0]), replace=False)
        o = np.repeat(origins, -(-legs // origins.shape[0]))[:legs]
        d = rng.choice(unique, o.shape[0])
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

    def band_starts(self, start: datetime, end: datetime) -> list[datetime]:
        """When each band :meth:`travel_bands` predicts between ``start`` and ``end``
        begins: every ``band_h`` hours from ``start``."""
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
        """Predicted seconds per band between ``start`` and ``end``; path metres.

        Up to :data:`EXACT_UP_TO` distinct places every leg is predicted. Above it
        (see :func:`anchored_pairs`) each place's legs to and from its :data:`NEAR`
        nearest places and to and from :data:`ANCHORS` anchor places (``hubs`` first:
        map nodes among ``nodes``, depots and stores) are predicted, and every other leg
        gets the free-flow seconds of its own path times a slowdown made of those
        predictions: its origin's to the destination's anchor, times the origin's
        anchor's to the destination, over the two anchors' own (over the typical one
        between two places of that anchor when both share it).
        """
        unique, inverse = np.unique(np.asarray(nodes, dtype=np.int64), return_inverse=True)
        n = unique.shape[0]
        starts = self.band_starts(start, end)
        if n <= EXACT_UP_TO:
            grid = np.ix_(inverse, inverse)
            o, d = np.repeat(unique, n), np.tile(unique, n)
            bands, distance = self.leg_bands(road_map, o, d, band_starts=starts)
            bands = bands.reshape(len(starts), n, n)
            for b in range(len(starts)):
                np.fill_diagonal(bands[b], 0.0)
            return starts, bands[:, grid[0], grid[1]], distance.reshape(n, n)[grid]
        hub_nodes = np.asarray(hubs, dtype=np.int64).ravel()
        if not np.isin(hub_nodes, unique).all():
            raise ValueError("every hub must be one of the nodes")
        hub = np.searchsorted(unique, hub_nodes)
        anchored, distance = self._anchored_bands(road_map, unique, starts, hub, inverse)
        return starts, anchored, distance[np.ix_(inverse, inverse)]

    def _anchored_bands(
        self,
        road_map: RoadMap,
        unique: npt.NDArray[np.int64],
        starts: list[datetime],
        hubs: npt.NDArray[np.int64],
        inverse: npt.NDArray[np.intp],
    ) -> tuple[BandArray, FloatArray]:
        """:meth:`travel_bands` of many places: near and anchor legs predicted, the rest
        scaled from them (log slowdowns add: origin-to-anchor plus anchor-to-destination
        minus anchor-to-anchor). The bands come out indexed by ``inverse`` (the places,
        from the distinct nodes), one band at a time: a big day's bands are its biggest array,
        and a second copy of all of them doubled the day's peak memory. They are 4-byte
        floats (to a thousandth of a second at 5 hours; the planner rounds them to whole
        seconds)."""
        freeflow, distance = road_map.matrix(unique)
        anchor, label, (o, d) = anchored_pairs(
            road_map, unique, freeflow, near=NEAR, anchors=ANCHORS, hubs=hubs
        )
        exact, _ = self.leg_bands(road_map, unique[o], unique[d], band_starts=starts)
        n = unique.shape[0]
        index = np.asarray(inverse, dtype=np.int64).ravel()
        bands = np.empty((len(starts), index.size, index.size), dtype=np.float32)
        slow = np.zeros((n, n), dtype=np.float64)
        band = np.empty((n, n), dtype=np.float64)
        ff = freeflow[o, d]
        inside = (label[o] == label[d]) & (o != d)
        count = np.bincount(label[o][inside], minlength=anchor.size)
        for b in range(len(starts)):
            known = np.log(
                np.divide(
                    exact[b],
                    ff,
                    out=np.ones_like(ff),
                    where=(ff > 0) & (exact[b] > 0) & np.isfinite(ff),
                )
            )
            slow[o, d] = known
            total = np.bincount(label[o][inside], weights=known[inside], minlength=anchor.size)
            within = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
            to_anchor = np.ascontiguousarray(slow[:, anchor])
            from_anchor = slow[anchor, :]
            between = to_anchor[anchor]
            # two places of one anchor: the typical slowdown of legs between its places
            # (its leg to itself has none, and theirs would be counted twice)
            np.fill_diagonal(between, within)
            _scaled(freeflow, to_anchor, from_anchor, between, label, band)
            band[o, d] = exact[b]
            np.fill_diagonal(band, 0.0)
            _gathered(band, index, bands[b])
        return bands, distance

    def leg_bands(
        self,
        road_map: RoadMap,
        origins: npt.NDArray[np.int64],
        dests: npt.NDArray[np.int64],
        *,
        band_starts: list[datetime],
    ) -> tuple[FloatArray, FloatArray]:
        """Predicted seconds of each leg for a departure in the middle of each band."""
        hours, weekdays = band_middle_hours(band_starts, self.band_h)
        features = travel_features(
            road_map, origins, dests, hour=0.0, weekday=0, area_s=self.model.area_edges(road_map)
        )
        bands = np.empty((len(band_starts), len(features)), dtype=np.float64)
        for b in range(len(band_starts)):
            features["hour"], features["weekday"] = hours[b], weekdays[b]
            bands[b] = self.model.predict_travel(features, self.quantile)
        return bands, features["length_m"].to_numpy()

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
        hours, weekdays = band_middle_hours(band_starts, self.band_h)
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
        return self.service_s_each(
            road_map,
            is_shop=is_shop,
            items=items,
            store_id=store_id,
            lat=lat,
            lon=lon,
            when=[when],
        )

    def service_s_each(
        self,
        road_map: RoadMap,
        *,
        is_shop: npt.ArrayLike,
        items: npt.ArrayLike,
        store_id: npt.ArrayLike,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        when: list[datetime],
    ) -> FloatArray:
        """:meth:`service_s` of stops each at its own instant (``when``: one per stop, or
        one for all), in one prediction: what planning and the slots ask of many
        instants at once."""
        code = {s: i for i, s in enumerate(self.model.stores_)}
        stores = np.asarray(store_id, dtype=object)
        features = service_features(
            road_map,
            is_shop=is_shop,
            items=items,
            store_code=[code.get(s, -1) for s in stores],
            lat=lat,
            lon=lon,
            hour=np.array([t.hour + t.minute / 60.0 for t in when], dtype=np.float64),
            weekday=np.array([t.weekday() for t in when], dtype=np.int64),
        )
        return self.model.predict_service(features, self.quantile)
