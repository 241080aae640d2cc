"""Pictures of the ETA model's error (matplotlib, an optional extra: ``fleetroute[plot]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["plot_evaluation"]


def plot_evaluation(
    path: str | Path,
    actual_s: npt.ArrayLike,
    predicted_s: npt.ArrayLike,
    freeflow_s: npt.ArrayLike,
    by_hour: dict[str, Any],
) -> Path:
    """Save a PNG: predicted vs actual travel seconds, and MAE by departure hour.

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = np.asarray(actual_s, float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    top = float(np.quantile(a, 0.99)) if a.size else 1.0
    left.scatter(
        a, np.asarray(freeflow_s, float), s=3, alpha=0.25, label="free-flow", color="tab:gray"
    )
    left.scatter(
        a, np.asarray(predicted_s, float), s=3, alpha=0.35, label="model (median)", color="tab:blue"
    )
    left.plot([0, top], [0, top], color="black", lw=1)
    left.set(
        xlim=(0, top), ylim=(0, top), xlabel="actual s", ylabel="predicted s", title="Travel time"
    )
    left.legend(loc="upper left")
    hours = sorted(by_hour)
    x = np.arange(len(hours))
    right.bar(
        x - 0.2,
        [by_hour[h]["baseline"]["mae_s"] for h in hours],
        0.4,
        label="free-flow",
        color="tab:gray",
    )
    right.bar(
        x + 0.2, [by_hour[h]["model"]["mae_s"] for h in hours], 0.4, label="model", color="tab:blue"
    )
    right.set(
        xticks=x, xticklabels=hours, xlabel="departure hour", ylabel="MAE s", title="Error by hour"
    )
    right.legend()
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
