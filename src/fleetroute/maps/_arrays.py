"""Array plumbing shared by the road map and its hierarchy: CSR ordering, atomic .npz files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def csr_order(n: int, rows: IntArray, cols: IntArray) -> tuple[IntArray, IntArray]:
    """CSR of the entries ``(rows, cols)`` over ``n`` rows: ``indptr``, and the order that
    sorts the entries by row, then column (apply it to the columns and values)."""
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, order


def save_npz(path: str | Path, arrays: dict[str, Any]) -> None:
    """Write ``arrays`` to ``path`` atomically: readers see the old file or the new one."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, out)
