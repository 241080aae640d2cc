"""Is the ETA model still right? Its error on actuals that arrived after training, by day
and hour, against the error it had when it was trained.

The reference is the model's own validation metrics (``manifest.json``: the latest 15% of
its training history). A day whose travel or service MAE exceeds ``threshold`` times the
reference, or whose travel P90 coverage falls below ``min_coverage``, has drifted; when the
latest day with enough rows has drifted, the verdict is to retrain (``route eta train``
with ``--last-days`` starts from the latest actuals).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fleetroute.eta_model.model import EtaModel, HistoryFeatures

__all__ = ["monitor", "plot_trend", "DEFAULT_THRESHOLD", "MIN_COVERAGE"]

#: A day drifts when its MAE exceeds the training MAE by this factor.
DEFAULT_THRESHOLD = 1.25
#: ... or when fewer than this share of trips arrive within the P90 prediction.
MIN_COVERAGE = 0.8


def _errors(model: EtaModel, h: HistoryFeatures) -> tuple[pd.DataFrame, pd.DataFrame]:
    has_p90 = 0.9 in model.travel_boosters_
    travel = pd.DataFrame(
        {
            "when": h.travel_when,
            "abs_err": np.abs(model.predict_travel(h.travel) - h.travel_actual_s),
            "within_p90": (
                h.travel_actual_s <= model.predict_travel(h.travel, 0.9) if has_p90 else np.nan
            ),
        }
    )
    service = pd.DataFrame(
        {
            "when": h.service_when,
            "abs_err": np.abs(model.predict_service(h.service) - h.service_actual_s),
        }
    )
    return travel, service


def _table(travel: pd.DataFrame, service: pd.DataFrame, key: str) -> pd.DataFrame:
    t = travel.groupby(key).agg(
        trips=("abs_err", "size"), travel_mae_s=("abs_err", "mean"),
        p90_coverage=("within_p90", "mean"),
    )  # fmt: skip
    s = service.groupby(key).agg(stops=("abs_err", "size"), service_mae_s=("abs_err", "mean"))
    out = t.join(s, how="outer")
    out[["trips", "stops"]] = out[["trips", "stops"]].fillna(0).astype(int)
    return out.reset_index()


def monitor(
    model: EtaModel,
    history: HistoryFeatures,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_coverage: float = MIN_COVERAGE,
    min_rows: int = 30,
) -> dict[str, Any]:
    """The model's error on ``history`` (actuals after training), by day and hour.

    Returns
    -------
    dict
        ``reference`` (training travel/service MAE), ``by_day`` and ``by_hour`` (tables:
        rows, MAE, its ratio to the reference, P90 coverage, ``drift``), ``latest_day``,
        ``drift`` (the latest day with at least ``min_rows`` trips has drifted) and
        ``verdict`` (a sentence: keep the model, or retrain and why).
    """
    ref_travel = float(model.metrics_["travel"]["mae_s"])
    ref_service = float(model.metrics_["service"]["mae_s"])
    travel, service = _errors(model, history)
    travel["day"] = travel["when"].dt.date.astype(str)
    service["day"] = service["when"].dt.date.astype(str)
    travel["hour"] = travel["when"].dt.hour
    service["hour"] = service["when"].dt.hour
    tables = {}
    for key in ("day", "hour"):
        table = _table(travel, service, key)
        table["travel_ratio"] = table["travel_mae_s"] / ref_travel
        table["service_ratio"] = table["service_mae_s"] / ref_service
        table["drift"] = (
            (table["travel_ratio"] > threshold)
            | (table["service_ratio"] > threshold)
            | (table["p90_coverage"] < min_coverage)
        )
        tables[key] = table.round(4)
    days = tables["day"]
    enough = days[days["trips"] >= min_rows]
    latest = enough.iloc[-1] if len(enough) else None
    drift = bool(latest is not None and latest["drift"])
    if latest is None:
        verdict = f"not enough actuals to judge (no day with {min_rows} trips)"
    elif drift:
        why = []
        if latest["travel_ratio"] > threshold:
            why.append(f"travel error {latest['travel_ratio']:.2f}x the training error")
        if latest["service_ratio"] > threshold:
            why.append(f"service error {latest['service_ratio']:.2f}x the training error")
        if latest["p90_coverage"] < min_coverage:
            why.append(f"only {latest['p90_coverage']:.0%} of trips within the P90")
        verdict = f"retrain: on {latest['day']} " + " and ".join(why)
    else:
        verdict = (
            f"keep the model: on {latest['day']} travel error {latest['travel_ratio']:.2f}x and "
            f"service error {latest['service_ratio']:.2f}x the training error "
            f"(threshold {threshold:g}x)"
        )
    return {
        "reference": {"travel_mae_s": ref_travel, "service_mae_s": ref_service},
        "threshold": threshold,
        "min_coverage": min_coverage,
        "by_day": tables["day"],
        "by_hour": tables["hour"],
        "latest_day": None if latest is None else str(latest["day"]),
        "drift": drift,
        "verdict": verdict,
    }


def plot_trend(path: str | Path, report: dict[str, Any]) -> Path:
    """A PNG of daily travel and service MAE against the training error and the threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = report["by_day"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, what in zip(axes, ("travel", "service"), strict=True):
        ref = report["reference"][f"{what}_mae_s"]
        x = pd.to_datetime(days["day"])
        ax.plot(x, days[f"{what}_mae_s"], "o-", label="MAE on actuals")
        ax.axhline(ref, color="green", ls="--", label="at training")
        ax.axhline(ref * report["threshold"], color="red", ls=":", label="drift threshold")
        bad = days["drift"].to_numpy(dtype=bool)
        ax.plot(x[bad], days.loc[bad, f"{what}_mae_s"], "rx", ms=10)
        ax.set_title(f"{what} error by day")
        ax.set_ylabel("seconds")
        ax.tick_params(axis="x", labelrotation=30)
        ax.legend(fontsize=7)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
