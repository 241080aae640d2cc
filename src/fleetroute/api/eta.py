"""The ETA model's life cycle: train, monitor, predict, evaluate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fleetroute.errors import InputError
from fleetroute.eta_model.model import DEFAULT_QUANTILES
from fleetroute.io.tables import TableSource
from fleetroute.maps.roadmap import RoadMap

if TYPE_CHECKING:
    from fleetroute.eta_model.model import EtaModel

from fleetroute.api._common import (
    _label,
    road_map_of,
)


def _history(
    trips: TableSource, stops: TableSource, *, need_duration: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    from fleetroute.io.readers import read_stops, read_trips

    def read(source: TableSource, kind: str, reader: Callable[..., pd.DataFrame]) -> pd.DataFrame:
        if isinstance(source, pd.DataFrame) or Path(source).suffix == ".csv":
            return reader(source, name=_label(source, kind), need_duration=need_duration)
        from fleetroute.distributed.training import history_files, read_history_file

        parts = [read_history_file(f, kind, need_duration) for f in history_files(source)]
        return pd.concat(parts) if len(parts) > 1 else parts[0]

    return read(trips, "trips", read_trips), read(stops, "stops", read_stops)


def train_eta(
    road_map: RoadMap | str | Path,
    trips: TableSource,
    stops: TableSource,
    *,
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
    seed: int = 0,
    last_days: int | None = None,
    distributed: bool = False,
    scheduler: str | None = None,
    n_workers: int | None = None,
) -> EtaModel:
    """Train the LightGBM ETA model on a history of trips and stops on ``road_map``.

    ``trips`` and ``stops`` are CSV or Parquet files, folders of them, or DataFrames.
    ``last_days`` keeps only the latest that many days of the history (the day of its
    newest row counts as one): retraining from the latest actuals when the model drifts.
    With ``distributed`` (or a ``scheduler`` address), trains with ``lightgbm.dask`` on a
    Dask cluster, one partition per file (:mod:`fleetroute.distributed.training`).

    Returns the fitted :class:`~fleetroute.eta_model.EtaModel`; save it with ``.save(dir)``.
    """
    from fleetroute.eta_model.model import EtaModel, first_kept_s, fit_areas, history_features

    rmap = road_map_of(road_map)
    if distributed or scheduler is not None:
        from fleetroute.distributed.training import train_distributed

        if isinstance(trips, pd.DataFrame) or isinstance(stops, pd.DataFrame):
            raise InputError("--trips", "distributed training reads files, not DataFrames")
        return train_distributed(
            rmap, trips, stops, scheduler=scheduler, n_workers=n_workers,
            quantiles=quantiles, seed=seed, last_days=last_days,
        )  # fmt: skip
    t, s = _history(trips, stops, need_duration=True)
    if last_days is not None:
        newest = max(t["departure_time"].max(), s["arrival_time"].max())
        since = first_kept_s(newest, last_days)
        t, s = t[t["departure_time"] >= since], s[s["arrival_time"] >= since]
    areas = fit_areas(rmap, t, seed=seed)
    history = history_features(rmap, t, s, areas=areas)
    return EtaModel(quantiles=quantiles, seed=seed).fit(rmap, history)


def monitor_eta(
    model: EtaModel | str | Path,
    road_map: RoadMap | str | Path,
    trips: TableSource,
    stops: TableSource,
    *,
    threshold: float | None = None,
    plot: str | Path | None = None,
) -> dict[str, Any]:
    """The model's error on actuals that arrived after training, by day and hour, against
    its training error; whether it has drifted and should be retrained
    (:func:`fleetroute.eta_model.monitor.monitor`). With ``plot``, a PNG of the trend."""
    from fleetroute.eta_model.model import EtaModel, history_features
    from fleetroute.eta_model.monitor import DEFAULT_THRESHOLD, monitor, plot_trend

    rmap = road_map_of(road_map)
    m = model if isinstance(model, EtaModel) else EtaModel.load(model, road_map=rmap)
    t, s = _history(trips, stops, need_duration=True)
    report = monitor(
        m,
        history_features(rmap, t, s, stores=m.stores_, areas=m.areas_),
        threshold=threshold or DEFAULT_THRESHOLD,
    )
    if plot is not None:
        plot_trend(plot, report)
    return report


def predict_eta(
    model: EtaModel | str | Path,
    road_map: RoadMap | str | Path,
    trips: TableSource,
    stops: TableSource,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the model expects each history row to take (its ``duration_s`` is ignored).

    Returns the trips table (``trip_id, predicted_s, p90_s``) and the stops table
    (``stop_id, predicted_s, p90_s``).
    """
    from fleetroute.eta_model.model import EtaModel, history_features

    rmap = road_map_of(road_map)
    m = model if isinstance(model, EtaModel) else EtaModel.load(model, road_map=rmap)
    t, s = _history(trips, stops, need_duration=False)
    h = history_features(rmap, t, s, stores=m.stores_, areas=m.areas_)
    # p90_s: the 0.9 quantile, or the highest one the model learned instead
    upper = 0.9 if 0.9 in m.travel_boosters_ else max(m.travel_boosters_)
    trips_out = pd.DataFrame(
        {
            "trip_id": t["trip_id"].to_numpy(),
            "predicted_s": np.round(m.predict_travel(h.travel), 1),
            "p90_s": np.round(m.predict_travel(h.travel, upper), 1),
        }
    )
    stops_out = pd.DataFrame(
        {
            "stop_id": s["stop_id"].to_numpy(),
            "predicted_s": np.round(m.predict_service(h.service), 1),
            "p90_s": np.round(m.predict_service(h.service, upper), 1),
        }
    )
    return trips_out, stops_out


def evaluate_eta(
    model: EtaModel | str | Path,
    road_map: RoadMap | str | Path,
    trips: TableSource,
    stops: TableSource,
    *,
    plot: str | Path | None = None,
) -> dict[str, Any]:
    """Metrics of the model and of the free-flow baseline on a history, overall and by hour.

    With ``plot``, also save a PNG of predicted vs actual travel times and error by hour
    (needs matplotlib: ``pip install 'fleetroute[plot]'``).

    Returns a dict with ``travel``, ``service`` and ``baseline`` (each with ``mae_s``,
    ``mape`` and, for the model, ``p90_coverage``) and ``by_hour`` (travel metrics of both
    per departure hour).
    """
    from fleetroute.eta_model.metrics import error_metrics
    from fleetroute.eta_model.model import EtaModel, history_features

    rmap = road_map_of(road_map)
    m = model if isinstance(model, EtaModel) else EtaModel.load(model, road_map=rmap)
    t, s = _history(trips, stops, need_duration=True)
    h = history_features(rmap, t, s, stores=m.stores_, areas=m.areas_)
    result = m.evaluate(h)
    hours = h.travel_when.hour
    predicted = m.predict_travel(h.travel)
    by_hour = {}
    for hour in sorted(set(hours.tolist())):
        rows = np.asarray(hours == hour)
        by_hour[f"{hour:02d}"] = {
            "model": error_metrics(h.travel_actual_s[rows], predicted[rows]),
            "baseline": error_metrics(
                h.travel_actual_s[rows], h.travel["freeflow_s"].to_numpy()[rows]
            ),
        }
    result["by_hour"] = by_hour
    if plot is not None:
        from fleetroute.eta_model.plots import plot_evaluation

        plot_evaluation(
            plot, h.travel_actual_s, predicted, h.travel["freeflow_s"].to_numpy(), by_hour
        )
    return result
