"""The learned ETA model: LightGBM quantile models of travel and service time.

Travel models predict ``log(actual / free-flow)`` of a leg (a correction of the map's
free-flow time); service models predict ``log(seconds)`` of a stop. Each target gets one
booster per quantile (LightGBM's ``quantile`` objective; 0.5 is the median), trained with
early stopping on a time-based split: the latest ``validation_share`` of the history
validates, the rest trains.

Upper quantiles (0.8 and above: P90 and late risk) are then calibrated, conformal, per
two-hour band of the day: each band's prediction is shifted (in log space) by the quantile
of the residuals that makes that share of the band's rows fall at or below it. The
residuals are the validation rows' and the training rows' out of fold (cross-fitted: each
training day predicted by a booster that did not learn it). The residuals are the city's
own, so a model trained in a city unlike ours still promises what it says. The median and
the planning quantile are left as LightGBM learned them.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fleetroute.errors import ModelBundleError, NotFittedError
from fleetroute.eta_model.areas import AreaSlowness
from fleetroute.eta_model.bundle import (
    KIND,
    MANIFEST,
    SCHEMA_VERSION,
    load_boosters,
    read_manifest,
)
from fleetroute.eta_model.features import (
    SERVICE_FEATURES,
    TRAVEL_FEATURES,
    service_features,
    travel_features,
)
from fleetroute.eta_model.metrics import error_sums, from_sums
from fleetroute.eta_model.places import PLACE_FEATURES, PlaceHistory, fold_of, out_of_fold
from fleetroute.io.readers import HISTORY_ORIGIN
from fleetroute.maps.roadmap import RoadMap

__all__ = [
    "DEFAULT_QUANTILES",
    "blend_weights",
    "PLAN_QUANTILE",
    "EtaModel",
    "HistoryFeatures",
    "history_features",
    "trip_features",
    "first_kept_s",
    "stop_features",
    "SCHEMA_VERSION",
]


def _covered_by_band(
    actual_s: npt.ArrayLike, p90_s: npt.ArrayLike, hour: Any
) -> dict[str, dict[str, float]]:
    """Rows at or below the P90, and rows, per calibration band (every band, so that
    partitions' sums add up)."""
    band = band_of(np.asarray(hour, dtype=np.float64))
    within = np.asarray(actual_s, dtype=np.float64) <= np.asarray(p90_s, dtype=np.float64)
    n = np.bincount(band, minlength=24 // CALIBRATION_BAND_H)
    covered = np.bincount(band, weights=within, minlength=24 // CALIBRATION_BAND_H)
    return {
        name: {"covered": float(covered[b]), "n": float(n[b])}
        for b, name in enumerate(band_names())
    }


@dataclass(frozen=True)
class HistoryFeatures:
    """Features and actuals of a history, built once by :func:`history_features`."""

    travel: pd.DataFrame
    travel_when: pd.DatetimeIndex
    travel_actual_s: npt.NDArray[np.float64]
    service: pd.DataFrame
    service_when: pd.DatetimeIndex
    service_actual_s: npt.NDArray[np.float64]
    stores: tuple[str, ...]
    areas: AreaSlowness | None = None  # the area slowness its travel features summed


def _times(seconds: pd.Series) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(
        np.datetime64(HISTORY_ORIGIN) + seconds.to_numpy(dtype=np.int64).astype("timedelta64[s]")
    )


def _hour(when: pd.DatetimeIndex) -> npt.NDArray[np.float64]:
    return np.asarray(when.hour + when.minute / 60.0, dtype=np.float64)


def _trip_nodes(road_map: RoadMap, trips: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    o, _ = road_map.snap(trips["origin_lat"], trips["origin_lon"])
    d, _ = road_map.snap(trips["dest_lat"], trips["dest_lon"])
    return o, d


def trip_features(
    road_map: RoadMap, trips: pd.DataFrame, areas: AreaSlowness | None = None
) -> pd.DataFrame:
    """Snap trips (as :func:`~fleetroute.io.readers.read_trips` returns them) to the map
    and build their :func:`travel_features` (with ``areas``' slowness along each path)."""
    o, d = _trip_nodes(road_map, trips)
    when = _times(trips["departure_time"])
    area_s = None if areas is None else areas.edge_seconds(road_map)
    return travel_features(
        road_map, o, d, hour=_hour(when), weekday=when.day_of_week, area_s=area_s
    )


def first_kept_s(newest_s: int, last_days: int) -> int:
    """The first second of the latest ``last_days`` days of a history whose newest row is at
    ``newest_s`` (the newest row's day counts as one): what ``--last-days`` keeps."""
    return (int(newest_s) // 86400 - (last_days - 1)) * 86400


def fit_areas(road_map: RoadMap, trips: pd.DataFrame, seed: int = 0) -> AreaSlowness:
    """The area slowness of ``trips`` (a history to train on; see :mod:`.areas`)."""
    o, d = _trip_nodes(road_map, trips)
    return AreaSlowness.fit(road_map, o, d, trips["duration_s"].to_numpy(), seed=seed)


def stop_features(road_map: RoadMap, stops: pd.DataFrame, stores: tuple[str, ...]) -> pd.DataFrame:
    """The :func:`service_features` of stops (as ``read_stops`` returns them); ``stores``
    are the store codes (a store not among them is unknown to the model)."""
    code = {s: i for i, s in enumerate(stores)}
    when = _times(stops["arrival_time"])
    return service_features(
        road_map,
        is_shop=(stops["kind"] == "shop").to_numpy(),
        items=stops["items"].to_numpy(),
        store_code=[code.get(s, -1) for s in stops["store_id"]],
        lat=stops["lat"].to_numpy(),
        lon=stops["lon"].to_numpy(),
        hour=_hour(when),
        weekday=when.day_of_week,
    )


def history_features(
    road_map: RoadMap,
    trips: pd.DataFrame,
    stops: pd.DataFrame,
    *,
    stores: tuple[str, ...] | None = None,
    areas: AreaSlowness | None = None,
) -> HistoryFeatures:
    """Snap the history to the map and build the features of every trip and stop.

    ``trips`` and ``stops`` are as :func:`fleetroute.io.readers.read_trips` and
    ``read_stops`` return them. ``stores`` fixes the store codes (a model's own list);
    by default they are the stores of this history, sorted. ``areas`` is the area slowness
    summed along each trip's path: a model's own (``model.areas_``) to evaluate it, or
    :func:`fit_areas` of these trips to train on them (without it, ``area_ratio`` is
    missing).
    """
    known = stores if stores is not None else tuple(sorted(s for s in set(stops["store_id"]) if s))
    return HistoryFeatures(
        travel=trip_features(road_map, trips, areas),
        travel_when=_times(trips["departure_time"]),
        travel_actual_s=trips["duration_s"].to_numpy(dtype=np.float64),
        service=stop_features(road_map, stops, known),
        service_when=_times(stops["arrival_time"]),
        service_actual_s=stops["duration_s"].to_numpy(dtype=np.float64),
        stores=known,
        areas=areas,
    )


#: The quantile plans are made on unless told otherwise: the cheapest of those measured that
#: keeps 98% of the promises on each of the suite's store days (benchmarks/punctuality.py,
#: replayed in the true world; 60 s, seeds 1-3; the 5,000-order day at 120 s, seed 0).
#: 0.65 kept 98.7% on 400 orders, 98.6% on 2,000 but 97.7% on 5,000; 0.7 keeps 99.6%,
#: 99.2% and 98.7% at +0.3%, +2.6% and +1.5% true cost. It is planned from the learned 0.65
#: and 0.9 (:func:`blend_weights`). (The median with a margin before each window is another
#: way to be on time: see ``LearnedEta``'s ``margin_s``.)
PLAN_QUANTILE = 0.7
#: The quantiles a model learns by default: the median, the two the planning quantile is
#: blended from, and P90 (late risk and calibration).
DEFAULT_QUANTILES = (0.5, 0.65, 0.9)

#: The service boosters' columns: the stop's features, then its place's history.
_SERVICE_COLUMNS = [*SERVICE_FEATURES, *PLACE_FEATURES]
#: The features of the model whose residuals the place histories sum: none that says
#: where (with coordinates its trees fit the places' effects and leave them out of the
#: residuals: an address's summed residuals then matched its true effect at correlation
#: 0.80, without them at 0.97).
UNPLACED = ("is_shop", "items", "store", "hour", "weekday")
#: The place history's file in a bundle.
PLACES_FILE = "places.npz"
#: The area slowness's file in a bundle.
AREAS_FILE = "areas.npz"

#: Fewest rows a booster learns from (trips, stops; a calibration fold's training rows).
MIN_ROWS = 50
#: What training says of a history with fewer.
TOO_SHORT = (
    f"the history is too short to learn from (at least {MIN_ROWS} trips and {MIN_ROWS} stops)"
)
#: Quantiles at or above this are calibrated (conformal, per band).
CALIBRATED_FROM = 0.8
#: Hours per calibration band (12 bands a day, by the hour the leg departs or the stop
#: begins).
CALIBRATION_BAND_H = 2
#: The training rows are calibrated on too, out of fold: their days dealt into this many
#: folds, each predicted by a booster of the others' (4 more boosters per calibrated
#: quantile). On benchmarks/eta_worlds.py's five worlds (seed 21) the travel bands' P90
#: coverage went from 0.877-0.914 to 0.888-0.913 (the 20-22 band in ``rush``: 0.877 ->
#: 0.889); the validation weeks alone are one draw of each band's days.
CALIBRATION_FOLDS = 4
#: A band with fewer calibration rows than this takes the whole day's shift.
CALIBRATION_MIN_ROWS = 200
#: A band's own shift counts ``n / (n + this)`` against the whole day's (``n`` its rows):
#: a thin band's quantile is noisy. Taken alone, the 06-08 band's shift (840 rows) covered
#: 0.92-0.93 of the next two weeks' legs in benchmarks/eta_worlds.py, 20-22 down to 0.873.
CALIBRATION_BLEND_ROWS = 1000


def band_of(hour: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The calibration band (0 to 11) of each hour of the day."""
    h = np.asarray(hour, dtype=np.float64)
    return (np.floor(h).astype(np.int64) // CALIBRATION_BAND_H) % (24 // CALIBRATION_BAND_H)


def band_names() -> list[str]:
    """The bands' names, ``"00-02"`` to ``"22-24"``."""
    step = CALIBRATION_BAND_H
    return [f"{h:02d}-{h + step:02d}" for h in range(0, 24, step)]


def blend_weights(learned: list[float], q: float) -> list[tuple[float, float]]:
    """How a quantile ``q`` is made from the ``learned`` ones (sorted): ``[(q, 1.0)]`` when
    it was learned, else the two learned around it with weights on their log predictions
    in proportion to where ``q`` falls between them on the standard normal's scale (exact
    when a time is log-normal, as the spread of the planner's risk margins assumes).
    Between the median and 0.65, 0.55 takes 0.33 of the 0.65 prediction and 0.6 takes 0.66.
    A ``ValueError`` when ``q`` is outside the learned ones."""
    if q in learned:
        return [(q, 1.0)]
    above = [k for k in learned if k > q]
    below = [k for k in learned if k < q]
    if not above or not below:
        have = ", ".join(f"{k:g}" for k in learned)
        raise ValueError(f"quantile {q:g} is outside the trained ones (this model has {have})")
    lo, hi = below[-1], above[0]
    z = NormalDist().inv_cdf
    w = (z(q) - z(lo)) / (z(hi) - z(lo))
    return [(lo, 1.0 - w), (hi, w)]


def calibration_shifts(
    residual: npt.NDArray[np.float64],
    hour: npt.ArrayLike,
    q: float,
    weekday: npt.ArrayLike | None = None,
) -> list[float]:
    """Split-conformal shifts (log space), one per band: the ``q`` quantile of the
    residuals (log actual - log predicted) of the band's rows, with the finite-sample
    correction (``q (n + 1) / n``), drawn towards the whole day's by
    :data:`CALIBRATION_BLEND_ROWS`; the whole day's for a band with fewer than
    :data:`CALIBRATION_MIN_ROWS` rows; 0 when there are none at all.

    With ``weekday``, every day of the week weighs the same: the validation weeks rarely
    hold whole weeks (the latest 15% of 8 weeks is 8.4 days, two weekends), and a weekend's
    residuals differ from a weekday's."""
    r = np.asarray(residual, dtype=np.float64)
    if r.size == 0:
        return [0.0] * (24 // CALIBRATION_BAND_H)
    if weekday is None:
        w = np.ones(r.shape)
    else:
        day = np.asarray(weekday, dtype=np.int64) % 7
        w = 1.0 / np.bincount(day, minlength=7)[day]

    def shift(mine: npt.NDArray[np.bool_]) -> float:
        x, weight = r[mine], w[mine]
        order = np.argsort(x, kind="stable")
        cum = np.cumsum(weight[order])
        level = min(1.0, q * (x.size + 1) / x.size)
        at = min(x.size - 1, int(np.searchsorted(cum, level * cum[-1] * (1 - 1e-12))))
        return float(x[order[at]])

    whole = shift(np.ones(r.shape, dtype=bool))
    band = band_of(hour)
    out = []
    for b in range(24 // CALIBRATION_BAND_H):
        mine = band == b
        n = int(mine.sum())
        if n < CALIBRATION_MIN_ROWS:
            out.append(round(whole, 6))
            continue
        # a band's own shift, drawn towards the whole day's as its rows are few
        weight = n / (n + CALIBRATION_BLEND_ROWS)
        out.append(round(whole + weight * (shift(mine) - whole), 6))
    return out


class EtaModel:
    """LightGBM quantile models of travel and service times.

    Parameters
    ----------
    quantiles
        The quantiles to learn; 0.5 (the median) is always among them.
    n_estimators, learning_rate, num_leaves, min_child_samples
        LightGBM hyperparameters (``learning_rate`` of the travel boosters).
    service_learning_rate
        The service boosters' learning rate: their rows are few (a stop, not a leg), so
        they learn slower at little cost (measured on benchmarks/eta_worlds.py's ``base``
        world: service MAE 1.012x the noise floor at 0.2, 1.008x at 0.05).
    early_stopping_rounds
        Stop adding trees when validation loss has not improved for this many.
    validation_share
        The latest share of the history (by time) used for early stopping and metrics.
    seed
        LightGBM's seed.
    """

    def __init__(
        self,
        quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
        n_estimators: int = 2000,
        learning_rate: float = 0.2,
        num_leaves: int = 31,
        min_child_samples: int = 40,
        early_stopping_rounds: int = 50,
        validation_share: float = 0.15,
        seed: int = 0,
        service_learning_rate: float = 0.05,
    ) -> None:
        self.quantiles = quantiles
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_share = validation_share
        self.seed = seed
        self.service_learning_rate = service_learning_rate

    # -- fitting ----------------------------------------------------------------------
    def _params(self, alpha: float, learning_rate: float) -> dict[str, Any]:
        return {
            "objective": "quantile",
            "alpha": alpha,
            "learning_rate": learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "seed": self.seed,
            "verbosity": -1,
            "num_threads": 0,
        }

    def _fit_target(
        self,
        X: pd.DataFrame,
        y: npt.NDArray[np.float64],
        when: pd.DatetimeIndex,
        categorical: list[str],
        learning_rate: float,
    ) -> tuple[dict[float, Any], npt.NDArray[np.bool_]]:
        valid = self._validation_rows(when)
        boosters = {
            q: self._booster(X, y, valid, q, categorical, learning_rate)
            for q in sorted(set(self.quantiles) | {0.5})
        }
        return boosters, valid

    def _booster(
        self,
        X: pd.DataFrame,
        y: npt.NDArray[np.float64],
        valid: npt.NDArray[np.bool_],
        q: float,
        categorical: list[str],
        learning_rate: float,
    ) -> Any:
        """One quantile's booster, stopped early on the ``valid`` rows."""
        import lightgbm as lgb

        train = lgb.Dataset(
            X[~valid], y[~valid], categorical_feature=categorical, free_raw_data=False
        )
        val = lgb.Dataset(X[valid], y[valid], reference=train, categorical_feature=categorical)
        return lgb.train(
            self._params(q, learning_rate),
            train,
            num_boost_round=self.n_estimators,
            valid_sets=[val],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )

    def _validation_rows(self, when: pd.DatetimeIndex) -> npt.NDArray[np.bool_]:
        """The latest ``validation_share`` of the rows."""
        order = np.argsort(when.asi8, kind="stable")
        cut = int(len(order) * (1 - self.validation_share))
        valid = np.zeros(len(order), dtype=bool)
        valid[order[cut:]] = True
        return valid

    def fit(self, road_map: RoadMap, history: HistoryFeatures) -> EtaModel:
        """Learn travel and service times from ``history`` on ``road_map``; returns self."""
        if len(history.travel) < MIN_ROWS or len(history.service) < MIN_ROWS:
            raise ValueError(TOO_SHORT)
        ff = np.maximum(history.travel["freeflow_s"].to_numpy(), 1.0)
        y_travel = np.log(np.maximum(history.travel_actual_s, 1.0) / ff)
        self.travel_boosters_, t_valid = self._fit_target(
            history.travel, y_travel, history.travel_when, [], self.learning_rate
        )
        y_service = np.log(np.maximum(history.service_actual_s, 1.0))
        # place histories of what the stop's own features do not explain (the residuals of
        # a median model that does not know where it is): training rows out of fold,
        # validation rows from the training rows
        s_valid = self._validation_rows(history.service_when)
        unplaced = history.service[list(UNPLACED)]
        plain = self._booster(
            unplaced, y_service, s_valid, 0.5, ["store"], self.service_learning_rate
        )
        left = y_service - plain.predict(unplaced, num_threads=0)
        lat, lon = history.service["d_lat"].to_numpy(), history.service["d_lon"].to_numpy()
        fold = fold_of(history.service_when.asi8 // 10**9)
        known = PlaceHistory.of(lat[~s_valid], lon[~s_valid], left[~s_valid])
        oof = out_of_fold(lat[~s_valid], lon[~s_valid], left[~s_valid], fold[~s_valid])
        seen = known.columns(lat[s_valid], lon[s_valid])
        service = history.service.copy()
        for name in PLACE_FEATURES:
            column = np.empty(len(service))
            column[~s_valid], column[s_valid] = oof[name], seen[name]
            service[name] = column
        self.service_boosters_, _ = self._fit_target(
            service, y_service, history.service_when, ["store"], self.service_learning_rate
        )
        self.calibration_ = {
            "travel": self._calibrated(
                self.travel_boosters_, history.travel, y_travel, t_valid,
                history.travel_when, [], self.learning_rate,
            ),
            "service": self._calibrated(
                self.service_boosters_, service, y_service, s_valid,
                history.service_when, ["store"], self.service_learning_rate,
            ),
        }  # fmt: skip
        self.places_ = known  # the validation rows' metrics read only the training rows'
        self.areas_ = history.areas

        self.stores_ = history.stores
        self.map_fingerprint_ = road_map.fingerprint
        self.training_period_ = (
            str(min(history.travel_when.min(), history.service_when.min())),
            str(max(history.travel_when.max(), history.service_when.max())),
        )
        self.metrics_ = self.evaluate(history, travel_rows=t_valid, service_rows=s_valid)
        self.places_ = known.plus(PlaceHistory.of(lat[s_valid], lon[s_valid], left[s_valid]))
        return self

    def _calibrated(
        self,
        boosters: dict[float, Any],
        X: pd.DataFrame,
        y: npt.NDArray[np.float64],
        valid: npt.NDArray[np.bool_],
        when: pd.DatetimeIndex,
        categorical: list[str],
        learning_rate: float,
    ) -> dict[float, list[float]]:
        """Each upper quantile's shifts per band (:func:`calibration_shifts`), from the
        validation rows' residuals and the training rows' out of fold
        (:meth:`_out_of_fold`)."""
        out = {}
        hour, weekday = X["hour"].to_numpy(), X["weekday"].to_numpy()
        rows = np.flatnonzero(valid)
        for q, booster in boosters.items():
            if q >= CALIBRATED_FROM:
                residual = y[rows] - booster.predict(X.iloc[rows], num_threads=0)
                fold_rows, fold_residual = self._out_of_fold(
                    X, y, valid, when, q, categorical, learning_rate
                )
                both = np.concatenate([rows, fold_rows])
                out[q] = calibration_shifts(
                    np.concatenate([residual, fold_residual]), hour[both], q, weekday[both]
                )
        return out

    def _out_of_fold(
        self,
        X: pd.DataFrame,
        y: npt.NDArray[np.float64],
        valid: npt.NDArray[np.bool_],
        when: pd.DatetimeIndex,
        q: float,
        categorical: list[str],
        learning_rate: float,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The training rows and their residuals from a ``q`` booster that did not learn
        them: the training days are dealt into :data:`CALIBRATION_FOLDS` folds (day by
        day, so that no booster saw any of a day it is asked about), each fold's rows
        predicted by a booster of the other folds', stopped early on the validation
        rows. Empty when the training rows span too few days."""
        midnight = when.normalize()
        fold = np.asarray((midnight - midnight.min()).days, dtype=np.int64) % CALIBRATION_FOLDS
        rows, residuals = [], []
        for k in range(CALIBRATION_FOLDS):
            mine = np.flatnonzero(~valid & (fold == k))
            learn = np.flatnonzero(valid | (fold != k))
            if mine.size == 0 or (~valid[learn]).sum() < MIN_ROWS:
                continue
            booster = self._booster(
                X.iloc[learn], y[learn], valid[learn], q, categorical, learning_rate
            )
            rows.append(mine)
            residuals.append(y[mine] - booster.predict(X.iloc[mine], num_threads=0))
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return np.concatenate(rows), np.concatenate(residuals)

    def _shift(self, target: str, q: float, features: pd.DataFrame) -> Any:
        """The calibration shift (log space) of each row, or 0 (not calibrated)."""
        table = getattr(self, "calibration_", {}).get(target, {}).get(q)
        if table is None:
            return 0.0
        return np.asarray(table, dtype=np.float64)[band_of(features["hour"].to_numpy())]

    def digest(self) -> str:
        """A short fingerprint of the fitted boosters, place history and calibration: two
        models with the same digest predict the same times (a retrained model keeps its
        name, not its digest)."""
        import hashlib

        self._check()
        h = hashlib.sha1()
        for boosters in (self.travel_boosters_, self.service_boosters_):
            for q in sorted(boosters):
                h.update(boosters[q].model_to_string().encode())
        for sums in (self.places_.address, self.places_.cell):
            h.update(sums.total.tobytes())
        h.update(json.dumps(self.calibration_, sort_keys=True).encode())
        return h.hexdigest()[:12]

    # -- prediction -------------------------------------------------------------------
    def _check(self) -> None:
        if not hasattr(self, "travel_boosters_"):
            raise NotFittedError("this EtaModel is not fitted yet: call fit() or EtaModel.load()")

    def predict_travel(
        self, features: pd.DataFrame, quantile: float = 0.5
    ) -> npt.NDArray[np.float64]:
        """Predicted driving seconds of legs given their :func:`travel_features`."""
        self._check()
        parts = blend_weights(sorted(self.travel_boosters_), quantile)
        if len(features) == 0:
            return np.zeros(0, dtype=np.float64)
        if getattr(self, "areas_", None) is not None and bool(features["area_ratio"].isna().all()):
            raise ValueError(
                "these travel features were built without the model's area slowness: "
                "pass area_s=model.area_edges(road_map) (or areas=model.areas_)"
            )
        # one C-ordered copy for every booster (no feature is categorical: the same numbers
        # the frame gives each booster, without a copy per booster)
        columns = np.ascontiguousarray(features[list(TRAVEL_FEATURES)].to_numpy(np.float64))
        log_ratio = sum(
            w * (self.travel_boosters_[q].predict(columns, num_threads=0)
                 + self._shift("travel", q, features))
            for q, w in parts
        )  # fmt: skip
        ratio = np.exp(log_ratio)
        return np.asarray(features["freeflow_s"].to_numpy() * ratio, dtype=np.float64)

    def area_edges(self, road_map: RoadMap) -> npt.NDArray[np.float64] | None:
        """Each edge's learned extra seconds (``area_s`` of :func:`travel_features`), or
        ``None`` for a model without area slowness."""
        areas: AreaSlowness | None = getattr(self, "areas_", None)
        if areas is None:
            return None
        key = road_map.fingerprint
        cached = getattr(self, "_area_edges", None)
        if cached is None or cached[0] != key:
            cached = (key, areas.edge_seconds(road_map))
            self._area_edges = cached
        return cached[1]

    def _with_places(self, features: pd.DataFrame) -> pd.DataFrame:
        """The service booster's columns: :func:`service_features` and the drop-off's
        place history (:data:`PLACE_FEATURES`, from every training row)."""
        out = features[list(SERVICE_FEATURES)].copy()
        if all(name in features for name in PLACE_FEATURES):  # given (training)
            for name in PLACE_FEATURES:
                out[name] = features[name].to_numpy()
            return out
        columns = self.places_.columns(features["d_lat"].to_numpy(), features["d_lon"].to_numpy())
        for name in PLACE_FEATURES:
            out[name] = columns[name]
        return out

    def predict_service(
        self, features: pd.DataFrame, quantile: float = 0.5
    ) -> npt.NDArray[np.float64]:
        """Predicted service seconds of stops given their :func:`service_features`."""
        self._check()
        parts = blend_weights(sorted(self.service_boosters_), quantile)
        if len(features) == 0:
            return np.zeros(0, dtype=np.float64)
        columns = self._with_places(features)
        log_s = sum(
            w * (self.service_boosters_[q].predict(columns, num_threads=0)
                 + self._shift("service", q, features))
            for q, w in parts
        )  # fmt: skip
        return np.asarray(np.exp(log_s))

    def evaluation_sums(
        self,
        travel: pd.DataFrame,
        travel_actual_s: npt.NDArray[np.float64],
        service: pd.DataFrame,
        service_actual_s: npt.NDArray[np.float64],
    ) -> dict[str, Any]:
        """The sums behind :meth:`evaluate` (they add up across partitions of a history)."""
        from fleetroute.eta_model.baseline import FreeFlow

        has_p90 = 0.9 in self.travel_boosters_
        tp90 = self.predict_travel(travel, 0.9) if has_p90 else None
        sp90 = self.predict_service(service, 0.9) if has_p90 else None
        base_service = FreeFlow.default_service_s(
            service["is_shop"].to_numpy(), service["items"].to_numpy()
        )
        sums: dict[str, Any] = {
            "travel": error_sums(travel_actual_s, self.predict_travel(travel), tp90),
            "service": error_sums(service_actual_s, self.predict_service(service), sp90),
        }
        if tp90 is not None and sp90 is not None:
            sums["p90_by_band"] = {
                "travel": _covered_by_band(travel_actual_s, tp90, travel["hour"]),
                "service": _covered_by_band(service_actual_s, sp90, service["hour"]),
            }
        return {
            **sums,
            "baseline": {
                "travel": error_sums(travel_actual_s, travel["freeflow_s"].to_numpy(), None),
                "service": error_sums(service_actual_s, base_service, None),
            },
        }

    @staticmethod
    def metrics_of(sums: dict[str, Any]) -> dict[str, Any]:
        """The metrics (as :meth:`evaluate` returns them) of :meth:`evaluation_sums`."""
        out = {
            "travel": from_sums(sums["travel"]),
            "service": from_sums(sums["service"]),
            "baseline": {k: from_sums(v) for k, v in sums["baseline"].items()},
            "rows": {"travel": int(sums["travel"]["n"]), "service": int(sums["service"]["n"])},
        }
        if "p90_by_band" in sums:  # the share of each band's rows at or below the P90
            out["p90_coverage_by_band"] = {
                target: {
                    band: round(c["covered"] / c["n"], 4) if c["n"] else None
                    for band, c in bands.items()
                }
                for target, bands in sums["p90_by_band"].items()
            }
            out["rows_by_band"] = {
                target: {band: int(c["n"]) for band, c in bands.items()}
                for target, bands in sums["p90_by_band"].items()
            }
        return out

    def evaluate(
        self,
        history: HistoryFeatures,
        *,
        travel_rows: npt.NDArray[np.bool_] | None = None,
        service_rows: npt.NDArray[np.bool_] | None = None,
    ) -> dict[str, Any]:
        """Error metrics of the model and of the free-flow baseline on ``history``."""
        t_rows = slice(None) if travel_rows is None else travel_rows
        s_rows = slice(None) if service_rows is None else service_rows
        sums = self.evaluation_sums(
            history.travel[t_rows],
            history.travel_actual_s[t_rows],
            history.service[s_rows],
            history.service_actual_s[s_rows],
        )
        return self.metrics_of(sums)

    # -- the bundle ---------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the bundle: LightGBM text models plus manifest.json. Returns the folder."""
        self._check()
        import lightgbm

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        files: dict[str, Any] = {"travel": {}, "service": {}}
        for target, boosters in (
            ("travel", self.travel_boosters_),
            ("service", self.service_boosters_),
        ):
            for q, booster in boosters.items():
                name = f"{target}_q{int(round(q * 100)):02d}.txt"
                booster.save_model(str(out / name))
                files[target][f"{q:g}"] = name
        self.places_.save(out / PLACES_FILE)
        files["places"] = PLACES_FILE
        areas: AreaSlowness | None = getattr(self, "areas_", None)
        if areas is not None:
            areas.save(out / AREAS_FILE)
            files["areas"] = AREAS_FILE
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "kind": KIND,
            "created": datetime.now().isoformat(timespec="seconds"),
            "map_fingerprint": self.map_fingerprint_,
            "features": {"travel": list(TRAVEL_FEATURES), "service": _SERVICE_COLUMNS},
            "targets": {"travel": "log(actual_s / freeflow_s)", "service": "log(actual_s)"},
            "quantiles": sorted(self.travel_boosters_),
            "stores": list(self.stores_),
            "training_period": list(self.training_period_),
            "metrics": self.metrics_,
            "calibration": {
                target: {f"{q:g}": shifts for q, shifts in table.items()}
                for target, table in getattr(self, "calibration_", {}).items()
            },
            "params": {
                k: getattr(self, k)
                for k in (
                    "n_estimators",
                    "learning_rate",
                    "num_leaves",
                    "min_child_samples",
                    "early_stopping_rounds",
                    "validation_share",
                    "seed",
                    "service_learning_rate",
                )
            },
            "files": files,
            "versions": {
                "lightgbm": lightgbm.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
            },
        }
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        return out

    @classmethod
    def load(cls, directory: str | Path, *, road_map: RoadMap | None = None) -> EtaModel:
        """Load a bundle; with ``road_map``, check it was made for that map.

        Raises
        ------
        ModelBundleError
            When the folder is not a bundle, its schema is not this version's, or it was
            trained on another map.
        """
        import lightgbm as lgb

        folder = Path(directory)
        manifest = read_manifest(folder)
        if road_map is not None and manifest["map_fingerprint"] != road_map.fingerprint:
            raise ModelBundleError(
                f"{folder}: this model was trained on another map (fingerprint "
                f"{manifest['map_fingerprint']}, this map {road_map.fingerprint}); "
                "retrain it on this map"
            )
        try:
            model = cls(**manifest["params"], quantiles=tuple(manifest["quantiles"]))
        except TypeError as exc:
            raise ModelBundleError(f"{folder / MANIFEST}: params: {exc}") from None

        def booster(path: str) -> Any:
            return lgb.Booster(model_file=path)

        want = {"travel": list(TRAVEL_FEATURES), "service": _SERVICE_COLUMNS}
        if manifest.get("features") != want:
            raise ModelBundleError(
                f"{folder}: this model was trained on other features than this fleetroute "
                "computes; retrain it with `route eta train`"
            )

        def side_file(key: str, load: Callable[[Path], Any], what: str) -> Any:
            """The bundle's ``files[key]`` read by ``load`` (damaged: one clear line)."""
            path = folder / manifest["files"][key]
            try:
                return load(path)
            except (OSError, ValueError, KeyError) as exc:
                raise ModelBundleError(f"{path}: not {what} ({exc})") from None

        model.places_ = side_file("places", PlaceHistory.load, "a place history")
        model.areas_ = (
            side_file("areas", AreaSlowness.load, "an area slowness")
            if "areas" in manifest["files"]
            else None
        )
        model.travel_boosters_ = load_boosters(folder, manifest["files"]["travel"], booster)
        model.service_boosters_ = load_boosters(folder, manifest["files"]["service"], booster)
        model.stores_ = tuple(manifest["stores"])
        model.map_fingerprint_ = manifest["map_fingerprint"]
        model.training_period_ = tuple(manifest["training_period"])
        model.metrics_ = manifest["metrics"]
        model.calibration_ = manifest["calibration"]
        return model
