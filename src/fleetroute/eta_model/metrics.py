"""Error metrics of ETA predictions against actuals."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["error_metrics"]


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
    a = np.asarray(actual_s, dtype=np.float64)
    p = np.asarray(predicted_s, dtype=np.float64)
    err = p - a
    out: dict[str, Any] = {
        "mae_s": round(float(np.mean(np.abs(err))), 3) if a.size else None,
        "mape": round(float(np.mean(np.abs(err) / np.maximum(a, 1.0))), 4) if a.size else None,
        "bias_s": round(float(np.mean(err)), 3) if a.size else None,
        "n": int(a.size),
    }
    if p90_s is not None:
        out["p90_coverage"] = (
            round(float(np.mean(a <= np.asarray(p90_s, float))), 4) if a.size else None
        )
    return out
