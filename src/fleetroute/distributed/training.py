"""Training the ETA model on a Dask cluster with ``lightgbm.dask``, from a partitioned
history.

A history is a CSV or Parquet file, or a folder of them (searched recursively, so a Dask
or Hive-style Parquet dataset works): each file is one partition. The map goes to each
worker once; each partition is read, checked and turned into features on a worker, and
stays there. Only small things come back: the stores seen, counts of rows per hour (for
the time-based validation cut) and, at the end, the error sums of the validation rows.
LightGBM then trains over the workers' partitions (its own network between the workers).

``lightgbm.dask`` has no early stopping, so each booster grows ``max_rounds`` trees and
is cut back to the round (a multiple of ``ROUND_STEP``) where its quantile loss on the
validation rows, summed over the partitions on the workers, is lowest: the choice early
stopping makes, paid for with the extra rounds. The bundle has the
format of single-machine training (:meth:`EtaModel.save`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fleetroute.distributed.cluster import dask_client, share
from fleetroute.errors import InputError
from fleetroute.eta_model.areas import AREA_SAMPLE, AreaSlowness
from fleetroute.eta_model.features import SERVICE_FEATURES, TRAVEL_FEATURES
from fleetroute.eta_model.metrics import add_sums
from fleetroute.eta_model.model import (
    CALIBRATED_FROM,
    DEFAULT_QUANTILES,
    MIN_ROWS,
    TOO_SHORT,
    UNPLACED,
    EtaModel,
    _times,
    _trip_nodes,
    calibration_shifts,
    first_kept_s,
    stop_features,
    trip_features,
)
from fleetroute.eta_model.places import (
    FOLDS,
    PLACE_FEATURES,
    PlaceHistory,
    by_fold,
    combined,
    encode_out_of_fold,
    fold_of,
    leave_one_out,
)
from fleetroute.io.readers import read_stops, read_trips
from fleetroute.maps.roadmap import RoadMap

__all__ = ["history_files", "read_history_file", "train_distributed", "DEFAULT_MAX_ROUNDS"]

#: The service boosters' columns (as :class:`EtaModel` trains them).
_SERVICE_COLUMNS = [*SERVICE_FEATURES, *PLACE_FEATURES]

#: Trees each distributed booster grows before it is cut back to its best round.
DEFAULT_MAX_ROUNDS = 400
#: The best round is looked for among multiples of this many trees.
ROUND_STEP = 10

_SUFFIXES = (".csv", ".parquet", ".pq")


def history_files(source: str | Path) -> list[Path]:
    """The partitions of a history: the file itself, or a folder's CSV/Parquet files."""
    path = Path(source)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _SUFFIXES)
        if not files:
            raise InputError(str(path), "holds no .csv or .parquet files")
        return files
    raise InputError(str(path), "no such file or folder")


def read_history_file(path: Path, kind: str, need_duration: bool = True) -> pd.DataFrame:
    """One partition of trips or stops, read and checked (errors name the file and row)."""
    source: Any = path
    if path.suffix in (".parquet", ".pq"):
        try:
            source = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises its own error types
            raise InputError(str(path), f"is not a readable Parquet file ({exc})") from None
        source.attrs["source"] = str(path)
    reader = read_trips if kind == "trips" else read_stops
    return reader(source, name=str(path), need_duration=need_duration)


# -- tasks (run on the workers) ---------------------------------------------------------
def _area_sample(path: Path, road_map: RoadMap, seed: int) -> pd.DataFrame:
    """At most :data:`AREA_SAMPLE` of a partition's trips: their snapped ends, seconds and
    departure (the area slowness is fitted on a sample of the whole history)."""
    trips = read_history_file(path, "trips")
    if len(trips) > AREA_SAMPLE:
        trips = trips.sample(AREA_SAMPLE, random_state=seed)
    o, d = _trip_nodes(road_map, trips)
    return pd.DataFrame(
        {"o": o, "d": d, "s": trips["duration_s"].to_numpy(), "when": trips["departure_time"]}
    )


def _areas(
    client: Any,
    files: list[Path],
    shared_map: Any,
    road_map: RoadMap,
    seed: int,
    last_days: int | None,
) -> AreaSlowness:
    """The area slowness of the trips (the kept days only, as single-machine training),
    fitted here on samples of the partitions."""
    sample = pd.concat(
        client.gather([client.submit(_area_sample, f, shared_map, seed, pure=False) for f in files])
    )
    if last_days is not None:
        sample = sample[sample["when"] >= first_kept_s(sample["when"].max(), last_days)]
    return AreaSlowness.fit(road_map, sample["o"], sample["d"], sample["s"], seed=seed)


def _trip_part(path: Path, road_map: RoadMap, areas: AreaSlowness) -> pd.DataFrame:
    trips = read_history_file(path, "trips")
    x = trip_features(road_map, trips, areas)
    actual = trips["duration_s"].to_numpy(dtype=np.float64)
    ff = np.maximum(x["freeflow_s"].to_numpy(), 1.0)
    return x.assign(
        _y=np.log(np.maximum(actual, 1.0) / ff),
        _actual=actual,
        _when=trips["departure_time"].to_numpy(dtype=np.int64),
    )


def _stop_part(path: Path) -> pd.DataFrame:
    return read_history_file(path, "stops")


def _store_ids(stops: pd.DataFrame) -> set[str]:
    return {s for s in stops["store_id"] if s}


def _stop_features(stops: pd.DataFrame, road_map: RoadMap, stores: tuple[str, ...]) -> pd.DataFrame:
    x = stop_features(road_map, stops, stores)
    actual = stops["duration_s"].to_numpy(dtype=np.float64)
    return x.assign(
        _y=np.log(np.maximum(actual, 1.0)),
        _actual=actual,
        _when=stops["arrival_time"].to_numpy(dtype=np.int64),
    )


def _hours(part: pd.DataFrame) -> pd.Series:
    """Rows per hour (since the history origin)."""
    return part["_when"].floordiv(3600).value_counts()


def _select(part: pd.DataFrame, since_s: int, cut_s: int, valid: bool) -> pd.DataFrame:
    when = part["_when"].to_numpy()
    keep = (when >= since_s) & ((when >= cut_s) if valid else (when < cut_s))
    return part[keep]


def _span(part: pd.DataFrame, since_s: int) -> tuple[int, int]:
    """The first and last second of a partition's kept rows (-1 when none are kept)."""
    when = part["_when"].to_numpy()
    when = when[when >= since_s]
    return (int(when.min()), int(when.max())) if when.size else (-1, -1)


def _sums(part: pd.DataFrame, kind: str, model: EtaModel) -> dict[str, Any]:
    """The validation error sums of one partition of trips (``kind`` travel) or stops."""
    travel = part if kind == "travel" else pd.DataFrame(columns=list(TRAVEL_FEATURES))
    service = part if kind == "service" else pd.DataFrame(columns=_SERVICE_COLUMNS)
    return model.evaluation_sums(travel, _actual(travel), service, _actual(service))


def _actual(part: pd.DataFrame) -> npt.NDArray[np.float64]:
    if "_actual" not in part:
        return np.zeros(0)
    return np.asarray(part["_actual"].to_numpy(), dtype=np.float64)


# -- the driver ---------------------------------------------------------------------------
def _cut(
    client: Any, parts: list[Any], valid_share: float, last_days: int | None
) -> tuple[int, int]:
    """The first second of the history kept (``last_days``) and of its validation part
    (the latest ``valid_share`` of the kept rows, to the hour)."""
    counts = pd.concat(client.gather([client.submit(_hours, p) for p in parts])).groupby(level=0)
    hours = counts.sum().sort_index()
    since_h = int(hours.index.min())
    if last_days is not None:
        since_h = max(since_h, first_kept_s(int(hours.index.max()) * 3600, last_days) // 3600)
    kept = hours[hours.index >= since_h]
    before = kept.cumsum().to_numpy()
    at = int(np.searchsorted(before, (1 - valid_share) * before[-1], side="left"))
    cut_h = int(kept.index[min(at + 1, len(kept) - 1)])
    return since_h * 3600, cut_h * 3600


def _pinball(
    part: pd.DataFrame, booster: Any, rounds: list[int], alpha: float, features: list[str]
) -> npt.NDArray[np.float64]:
    """Summed quantile (pinball) loss of a validation partition at each candidate round,
    and its row count last."""
    out = np.zeros(len(rounds) + 1)
    if len(part):
        y = part["_y"].to_numpy()
        for i, k in enumerate(rounds):
            err = y - booster.predict(part[features], num_iteration=k)
            out[i] = np.maximum(alpha * err, (alpha - 1) * err).sum()
        out[-1] = len(part)
    return out


# -- place histories (as EtaModel.fit builds them, from additive sums) ---------------------
def _left(part: pd.DataFrame, plain: Any) -> pd.DataFrame:
    """The partition with ``_left``: what the place-blind median model leaves unexplained."""
    left = part["_y"].to_numpy() - plain.predict(part[list(UNPLACED)], num_threads=0)
    return part.assign(_left=left)


def _fold_histories(part: pd.DataFrame) -> list[PlaceHistory]:
    """The partition's drop-offs' place sums, one per fold."""
    return by_fold(part["d_lat"].to_numpy(), part["d_lon"].to_numpy(), part["_left"].to_numpy(),
                   fold_of(part["_when"].to_numpy()))  # fmt: skip


def _placed(part: pd.DataFrame, others: list[PlaceHistory]) -> pd.DataFrame:
    """A training partition with its place features, out of fold (``others``: one history
    per fold, :func:`leave_one_out`)."""
    lat, lon = part["d_lat"].to_numpy(), part["d_lon"].to_numpy()
    return part.assign(**encode_out_of_fold(others, lat, lon, fold_of(part["_when"].to_numpy())))


def _placed_from(part: pd.DataFrame, known: PlaceHistory) -> pd.DataFrame:
    """A validation partition with its place features, from every training row."""
    return part.assign(**known.columns(part["d_lat"].to_numpy(), part["d_lon"].to_numpy()))


def _boosters(
    client: Any,
    train: Any,
    valid: list[Any],
    features: Sequence[str],
    categorical: list[str],
    model: EtaModel,
    max_rounds: int,
    learning_rate: float,
    quantiles: Sequence[float] | None = None,
) -> dict[float, Any]:
    """One booster per quantile (the model's, or ``quantiles``), each cut back to its best
    validation round (to the nearest ``ROUND_STEP``), learning at ``learning_rate``."""
    import lightgbm as lgb
    from lightgbm.dask import DaskLGBMRegressor

    names = list(features)
    boosters = {}
    for q in quantiles or sorted(set(model.quantiles) | {0.5}):
        reg = DaskLGBMRegressor(
            client=client, objective="quantile", alpha=q, n_estimators=max_rounds,
            learning_rate=learning_rate, num_leaves=model.num_leaves,
            min_child_samples=model.min_child_samples, random_state=model.seed, verbosity=-1,
        )  # fmt: skip
        with warnings.catch_warnings():  # the sklearn wrapper always passes n_jobs
            warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
            reg.fit(train[names], train["_y"], categorical_feature=categorical)
        grown = reg.booster_
        rounds = list(range(ROUND_STEP, grown.num_trees() + 1, ROUND_STEP)) or [grown.num_trees()]
        shared = share(client, grown)
        losses = sum(
            client.gather([client.submit(_pinball, v, shared, rounds, q, names) for v in valid])
        )
        best = rounds[int(np.argmin(losses[:-1]))]
        boosters[q] = lgb.Booster(model_str=grown.model_to_string(num_iteration=best))
    return boosters


def _residuals(
    part: pd.DataFrame, booster: Any, features: list[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The hours, residuals (target - prediction) and weekdays of a validation partition."""
    if not len(part):
        return np.zeros(0), np.zeros(0), np.zeros(0)
    residual = part["_y"].to_numpy() - booster.predict(part[features], num_threads=0)
    return (
        part["hour"].to_numpy(dtype=np.float64),
        np.asarray(residual, dtype=np.float64),
        part["weekday"].to_numpy(dtype=np.float64),
    )


def _calibration(
    client: Any, boosters: dict[float, Any], valid: list[Any], features: Sequence[str]
) -> dict[float, list[float]]:
    """Each upper quantile's calibration shifts, from every validation partition's
    residuals (:meth:`EtaModel.fit` cross-fits the training rows' too; not here)."""
    out = {}
    for q, booster in boosters.items():
        if q >= CALIBRATED_FROM:
            shared = share(client, booster)
            names = list(features)
            got = client.gather([client.submit(_residuals, v, shared, names) for v in valid])
            hours = np.concatenate([h for h, _, _ in got])
            residual = np.concatenate([r for _, r, _ in got])
            weekday = np.concatenate([d for _, _, d in got])
            out[q] = calibration_shifts(residual, hours, q, weekday)
    return out


def train_distributed(
    road_map: RoadMap,
    trips: str | Path,
    stops: str | Path,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
    seed: int = 0,
    last_days: int | None = None,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
) -> EtaModel:
    """Train the ETA model with ``lightgbm.dask`` from partitioned trips and stops.

    Parameters
    ----------
    trips, stops
        A CSV or Parquet file, or a folder of them (one partition per file).
    scheduler, n_workers
        A running Dask scheduler, or a local cluster of ``n_workers`` (default: all cores).
    quantiles, seed, last_days
        As for :func:`fleetroute.train_eta`.
    max_rounds
        Trees per booster before cutting back to the best validation round.

    Returns
    -------
    EtaModel
        Fitted, with the metrics of its validation rows; ``.save(dir)`` writes the same
        bundle as single-machine training.
    """
    from dask import dataframe as dd

    trip_files, stop_files = history_files(trips), history_files(stops)
    model = EtaModel(quantiles=quantiles, seed=seed)
    with dask_client(scheduler, n_workers) as client:
        rmap = share(client, road_map)
        areas = _areas(client, trip_files, rmap, road_map, seed, last_days)
        t_parts = [client.submit(_trip_part, f, rmap, areas, pure=False) for f in trip_files]
        raw_stops = [client.submit(_stop_part, f, pure=False) for f in stop_files]
        seen: set[str] = set().union(
            *client.gather([client.submit(_store_ids, s) for s in raw_stops])
        )
        stores = tuple(sorted(seen))
        s_parts = [client.submit(_stop_features, s, rmap, stores) for s in raw_stops]
        del raw_stops

        t_since, t_cut = _cut(client, t_parts, model.validation_share, last_days)
        s_since, s_cut = _cut(client, s_parts, model.validation_share, last_days)

        def pieces(parts: list[Any], since: int, cut: int, valid: bool) -> tuple[list[Any], int]:
            """The non-empty selections of the partitions (LightGBM refuses empty ones)."""
            chosen = [client.submit(_select, p, since, cut, valid) for p in parts]
            sizes = client.gather([client.submit(len, c) for c in chosen])
            return [c for c, n in zip(chosen, sizes, strict=True) if n], sum(sizes)

        def frame(chosen: list[Any], columns: Sequence[str]) -> Any:
            meta = pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
            return dd.from_delayed(chosen, meta=meta, verify_meta=False)

        t_cols = [*TRAVEL_FEATURES, "_y", "_actual", "_when"]
        s_cols = [*_SERVICE_COLUMNS, "_y", "_actual", "_when"]
        (t_train, nt), (t_val, nt_val) = (
            pieces(t_parts, t_since, t_cut, False),
            pieces(t_parts, t_since, t_cut, True),
        )
        (s_train, ns), (s_val, ns_val) = (
            pieces(s_parts, s_since, s_cut, False),
            pieces(s_parts, s_since, s_cut, True),
        )
        n_rows = [nt, nt_val, ns, ns_val]
        if min(n_rows[0] + n_rows[1], n_rows[2] + n_rows[3]) < MIN_ROWS:
            raise ValueError(TOO_SHORT)
        if min(n_rows) == 0:
            raise ValueError(
                "the history spans too short a time to keep its latest part for validation"
            )

        model.travel_boosters_ = _boosters(
            client, frame(t_train, t_cols), t_val, TRAVEL_FEATURES, [], model, max_rounds,
            model.learning_rate,
        )  # fmt: skip
        # place histories: a place-blind median model's residuals, summed per place
        plain = _boosters(client, frame(s_train, [*UNPLACED, "_y"]), s_val, UNPLACED, ["store"],
                          model, max_rounds, model.service_learning_rate,
                          quantiles=[0.5])[0.5]  # fmt: skip
        plain_shared = share(client, plain)
        s_train = [client.submit(_left, p, plain_shared) for p in s_train]
        s_val = [client.submit(_left, p, plain_shared) for p in s_val]
        parts = client.gather([client.submit(_fold_histories, p) for p in s_train])
        folds = [combined([h[f] for h in parts]) for f in range(FOLDS)]
        known = combined(folds)
        others, known_shared = share(client, leave_one_out(folds)), share(client, known)
        s_train = [client.submit(_placed, p, others) for p in s_train]
        s_val = [client.submit(_placed_from, p, known_shared) for p in s_val]
        model.service_boosters_ = _boosters(
            client, frame(s_train, s_cols), s_val, _SERVICE_COLUMNS, ["store"], model, max_rounds,
            model.service_learning_rate,
        )  # fmt: skip
        model.calibration_ = {
            "travel": _calibration(client, model.travel_boosters_, t_val, TRAVEL_FEATURES),
            "service": _calibration(client, model.service_boosters_, s_val, _SERVICE_COLUMNS),
        }
        model.places_ = known  # the validation rows' metrics read only the training rows'
        model.areas_ = areas
        model.stores_ = stores
        model.map_fingerprint_ = road_map.fingerprint
        shared = share(client, model)
        sums = client.gather(
            [client.submit(_sums, v, "travel", shared) for v in t_val]
            + [client.submit(_sums, v, "service", shared) for v in s_val]
        )
        total = sums[0]
        for more in sums[1:]:
            total = add_sums(total, more)
        model.metrics_ = EtaModel.metrics_of(total)
        valid_places = client.gather([client.submit(_fold_histories, p) for p in s_val])
        model.places_ = known.plus(combined([h for folds_of in valid_places for h in folds_of]))
        spans = client.gather(
            [client.submit(_span, p, t_since) for p in t_parts]
            + [client.submit(_span, p, s_since) for p in s_parts]
        )
        model.training_period_ = (
            str(_times(pd.Series([min(a for a, _ in spans if a >= 0)]))[0]),
            str(_times(pd.Series([max(b for _, b in spans)]))[0]),
        )
    return model
