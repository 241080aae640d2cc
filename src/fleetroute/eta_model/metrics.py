"""Error metrics of ETA predictions against actuals.

Every metric is a mean, so it is kept as sums (:func:`error_sums`) that add up across
partitions of a history (:func:`add_sums`) and become the metrics at the end
(:func:`from_sums`); :func:`error_metrics` does all three for one array.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["error_metrics", "error_sums", "add_sums", "from_sums"]


def error_sums(
    actual_s: npt.ArrayLike, predicted_s: npt.ArrayLike, p90_s: npt.ArrayLike | None = None
) -> dict[str, float]:
    """The sums behind :func:`error_metrics`: absolute, relative and signed error, rows,
    and (with a P90 prediction) rows at or below it."""
    a = np.asarray(actual_s, dtype=np.float64)
    err = np.asarray(predicted_s, dtype=np.float64) - a
    sums = {
        "abs": float(np.abs(err).sum()),
        "rel": float((np.abs(err) / np.maximum(a, 1.0)).sum()),
        "err": float(err.sum()),
        "n": float(a.size),
    }
    if p90_s is not None:
        sums["covered"] = float((a <= np.asarray(p90_s, float)).sum())
    return sums


def add_sums(a: Any, b: Any) -> Any:
    """Add two (nested) dicts of sums key by key."""
    if isinstance(a, dict):
        return {k: add_sums(a[k], b[k]) for k in a}
    return a + b


def from_sums(sums: dict[str, float]) -> dict[str, Any]:
    """MAE, MAPE, bias and (where counted) P90 coverage from :func:`error_sums`."""
    n = sums["n"]
    out: dict[str, Any] = {
        "mae_s": round(sums["abs"] / n, 3) if n else None,
        "mape": round(sums["rel"] / n, 4) if n else None,
        "bias_s": round(sums["err"] / n, 3) if n else None,
        "n": int(n),
    }
    if "covered" in sums:
        out["p90_coverage"] = round(sums["covered"] / n, 4) if n else None
    return out


def error_metrics(
    actual_s: npt.ArrayLike, predicted_s: npt.ArrayLike, p90_s: npt.ArrayLike | None = None
) -> dict[str, Any]:
    """MAE, MAPE, bias and (with a P90 prediction) the share of actuals at or below it.

    Returns
    -------
    dict
        ``mae_s``, ``mape`` (a fraction), ``bias_s`` (mean predicted - actual), ``n`` and,
        when ``p90_s`` is given, ``p90_coverage``.
    """
    return from_sums(error_sums(actual_s, predicted_s, p90_s))
