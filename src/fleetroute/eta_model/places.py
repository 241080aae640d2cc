"""What each place's past drop-offs took: the address's, and its neighbourhood's.

Drop-off times are local (a block of flats, a street without parking, a building that always
takes long) and cannot be told from the map. The model learns them from history instead:
for every drop-off it reads the mean of what earlier drop-offs at the same address
(coordinates to about 10 m) and in the same neighbourhood cell (about 300 m) took beyond
what their own features predict (log seconds, the residuals of a median model without place
history), with how many there were. A place with no history has no value (a missing value to
LightGBM), so a new city starts from the map's features alone and gains as days arrive.

Training rows are encoded out of fold (each row from the other folds' rows only), so the
model never reads a row's own time in its features; prediction reads every training row.
The sums behind a table add up, so partitions of a history can be counted apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = [
    "PLACE_FEATURES",
    "PlaceHistory",
    "FOLDS",
    "fold_of",
    "by_fold",
    "leave_one_out",
    "encode_out_of_fold",
    "out_of_fold",
    "combined",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The columns a place history adds to a stop's features.
PLACE_FEATURES = ("address_log_s", "address_n", "cell_log_s", "cell_n")
#: An address: coordinates to 1e-5 degrees (about a metre: one geocoded building).
_ADDRESS_DEG = 1e-5
#: A neighbourhood cell: 0.003 degrees of latitude, 0.004 of longitude (about 300 m).
_CELL_DEG = (0.003, 0.004)
#: Smoothing: a place's mean is pulled towards the whole history's as if it had this many
#: more drop-offs at the overall mean. None: the trees weigh a mean by the count beside it
#: (measured on benchmarks/eta_worlds.py's ``places`` world, 4 weeks: service MAE 1.056x
#: the noise floor unsmoothed, 1.061x with 3 rows of smoothing).
_PRIOR_ROWS = 0.0
#: Folds of the out-of-fold encoding of training rows.
FOLDS = 5


def fold_of(seconds: npt.ArrayLike) -> IntArray:
    """The fold of each row, from its time (seconds): the same row lands in the same fold
    however the history is partitioned."""
    return np.asarray(seconds, dtype=np.int64) % FOLDS


def _keys(lat: FloatArray, lon: FloatArray, step_lat: float, step_lon: float) -> IntArray:
    """One integer per grid square of ``step_lat`` x ``step_lon`` degrees."""
    a = np.floor(lat / step_lat).astype(np.int64) + (1 << 24)
    b = np.floor(lon / step_lon).astype(np.int64) + (1 << 24)
    return (a << 26) | b


@dataclass(frozen=True)
class _Sums:
    """Per key: summed log seconds and drop-offs, keys sorted."""

    keys: IntArray
    total: FloatArray
    n: FloatArray

    @classmethod
    def of(cls, keys: IntArray, y: FloatArray) -> _Sums:
        uniq, inverse = np.unique(keys, return_inverse=True)
        total = np.asarray(np.bincount(inverse, weights=y, minlength=uniq.shape[0]), np.float64)
        n = np.bincount(inverse, minlength=uniq.shape[0]).astype(np.float64)
        return cls(uniq, total, n)

    def plus(self, other: _Sums) -> _Sums:
        keys = np.concatenate([self.keys, other.keys])
        uniq, inverse = np.unique(keys, return_inverse=True)
        total = np.bincount(inverse, weights=np.concatenate([self.total, other.total]))
        n = np.bincount(inverse, weights=np.concatenate([self.n, other.n]))
        return _Sums(uniq, np.asarray(total, np.float64), np.asarray(n, np.float64))

    def look_up(self, keys: IntArray) -> tuple[FloatArray, FloatArray]:
        """Summed log seconds and drop-offs of each key (0 where unseen)."""
        if self.keys.size == 0:
            return np.zeros(keys.shape), np.zeros(keys.shape)
        at = np.clip(np.searchsorted(self.keys, keys), 0, self.keys.shape[0] - 1)
        hit = self.keys[at] == keys
        return np.where(hit, self.total[at], 0.0), np.where(hit, self.n[at], 0.0)


@dataclass(frozen=True)
class PlaceHistory:
    """Drop-offs' log seconds summed per address and per neighbourhood cell."""

    address: _Sums
    cell: _Sums

    @classmethod
    def of(cls, lat: npt.ArrayLike, lon: npt.ArrayLike, log_s: npt.ArrayLike) -> PlaceHistory:
        """The history of the drop-offs among these rows (rows with a missing latitude, the
        shop stops, are skipped)."""
        la, lo = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        y = np.asarray(log_s, dtype=np.float64)
        keep = ~np.isnan(la) & ~np.isnan(lo) & ~np.isnan(y)
        la, lo, y = la[keep], lo[keep], y[keep]
        return cls(
            _Sums.of(_keys(la, lo, _ADDRESS_DEG, _ADDRESS_DEG), y),
            _Sums.of(_keys(la, lo, *_CELL_DEG), y),
        )

    def plus(self, other: PlaceHistory) -> PlaceHistory:
        """Both histories together."""
        return PlaceHistory(self.address.plus(other.address), self.cell.plus(other.cell))

    def columns(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> dict[str, FloatArray]:
        """:data:`PLACE_FEATURES` of stops at these coordinates: each place's mean
        log seconds (missing where it has no drop-off, or at a missing coordinate) and its
        drop-offs."""
        la, lo = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        missing = np.isnan(la) | np.isnan(lo)
        la, lo = np.where(missing, 0.0, la), np.where(missing, 0.0, lo)
        n_all = float(self.cell.n.sum())
        prior = float(self.cell.total.sum()) / n_all if n_all else 0.0
        out: dict[str, FloatArray] = {}
        for name, sums, keys in (
            ("address", self.address, _keys(la, lo, _ADDRESS_DEG, _ADDRESS_DEG)),
            ("cell", self.cell, _keys(la, lo, *_CELL_DEG)),
        ):
            total, n = sums.look_up(keys)
            mean = (total + _PRIOR_ROWS * prior) / np.maximum(n + _PRIOR_ROWS, 1e-12)
            out[f"{name}_log_s"] = np.where(missing | (n == 0), np.nan, mean)
            out[f"{name}_n"] = np.where(missing, np.nan, n)
        return out

    def save(self, path: Path) -> None:
        """Write the sums (numpy's ``.npz``)."""
        with path.open("wb") as f:
            np.savez(
                f,
                address_keys=self.address.keys,
                address_total=self.address.total,
                address_n=self.address.n,
                cell_keys=self.cell.keys,
                cell_total=self.cell.total,
                cell_n=self.cell.n,
            )

    @classmethod
    def load(cls, path: Path) -> PlaceHistory:
        """Read what :meth:`save` wrote (``ValueError`` or ``KeyError`` when damaged)."""
        with np.load(path, allow_pickle=False) as z:
            parts = {
                name: _Sums(
                    np.asarray(z[f"{name}_keys"], dtype=np.int64),
                    np.asarray(z[f"{name}_total"], dtype=np.float64),
                    np.asarray(z[f"{name}_n"], dtype=np.float64),
                )
                for name in ("address", "cell")
            }
        for sums in parts.values():
            if not sums.keys.shape == sums.total.shape == sums.n.shape:
                raise ValueError("the place sums differ in length")
        return cls(parts["address"], parts["cell"])


def combined(histories: Sequence[PlaceHistory]) -> PlaceHistory:
    """All the histories together (none: an empty one)."""
    out = PlaceHistory.of([], [], [])
    for h in histories:
        out = out.plus(h)
    return out


def by_fold(
    lat: npt.ArrayLike, lon: npt.ArrayLike, log_s: npt.ArrayLike, fold: IntArray
) -> list[PlaceHistory]:
    """The rows' place history, one per fold (what partitions of a history sum apart)."""
    la, lo = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    y = np.asarray(log_s, dtype=np.float64)
    return [PlaceHistory.of(la[fold == f], lo[fold == f], y[fold == f]) for f in range(FOLDS)]


def leave_one_out(folds: Sequence[PlaceHistory]) -> list[PlaceHistory]:
    """For each fold, the history of all the other folds."""
    return [combined([h for g, h in enumerate(folds) if g != f]) for f in range(len(folds))]


def encode_out_of_fold(
    others: Sequence[PlaceHistory], lat: npt.ArrayLike, lon: npt.ArrayLike, fold: IntArray
) -> dict[str, FloatArray]:
    """:data:`PLACE_FEATURES` of training rows, each from ``others[its fold]`` (see
    :func:`leave_one_out`)."""
    la, lo = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    out = {name: np.full(la.shape, np.nan) for name in PLACE_FEATURES}
    for f, history in enumerate(others):
        mine = fold == f
        for name, values in history.columns(la[mine], lo[mine]).items():
            out[name][mine] = values
    return out


def out_of_fold(
    lat: npt.ArrayLike, lon: npt.ArrayLike, log_s: npt.ArrayLike, fold: IntArray
) -> dict[str, FloatArray]:
    """:data:`PLACE_FEATURES` of training rows, each from the rows of the other folds."""
    return encode_out_of_fold(leave_one_out(by_fold(lat, lon, log_s, fold)), lat, lon, fold)
