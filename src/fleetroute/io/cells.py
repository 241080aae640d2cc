"""CSV cells a spreadsheet would run as formulas, neutralised on the way out and restored on
the way in.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (and is
not a plain number such as ``-2.5``) is written with a leading apostrophe, the mark with
which spreadsheets store "this is text". A cell that begins with an apostrophe followed by
such a cell gets one more, so that :func:`restore` gives back exactly what was written:
``restore(neutralise(s)) == s`` for every string.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_object_dtype, is_string_dtype

__all__ = ["FORMULA_START", "neutralise", "restore", "neutralise_table", "restore_table",
           "write_csv"]  # fmt: skip

#: The first characters with which a spreadsheet starts a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_MARKS = frozenset((*FORMULA_START, "'"))


def _runs(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` (or it is such a cell already quoted)."""
    if text.startswith(FORMULA_START):
        return _NUMBER.fullmatch(text) is None
    return text.startswith("'") and _runs(text[1:])


def neutralise(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs."""
    return "'" + text if _runs(text) else text


def restore(text: str) -> str:
    """The text a cell written by :func:`neutralise` stands for."""
    return text[1:] if text.startswith("'") and _runs(text[1:]) else text


def _each_text_cell(table: pd.DataFrame, change: Callable[[str], str]) -> pd.DataFrame:
    """A copy of ``table`` with ``change`` applied to its text cells (and its header)."""
    out = table.copy()
    for c in out.columns:
        if is_object_dtype(out[c]) or is_string_dtype(out[c]):
            # the first characters, vectorised (a million-row history reads in ~0.1 s);
            # cells that are not text give NaN and are not marked
            try:
                first = out[c].str.slice(0, 1)
            except AttributeError:  # an object column without any text
                continue
            marked = np.flatnonzero(first.isin(list(_MARKS)).to_numpy(dtype=bool))
            if marked.size:
                values = out[c].to_numpy(dtype=object).copy()
                values[marked] = [change(values[i]) for i in marked.tolist()]
                out[c] = pd.Series(values, index=out.index).astype(out[c].dtype)
    out.columns = [change(c) if isinstance(c, str) else c for c in out.columns]
    return out


def neutralise_table(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells (and header) are safe in a spreadsheet."""
    return _each_text_cell(table, neutralise)


def restore_table(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (read as text) with every cell as it was before :func:`neutralise_table`."""
    return _each_text_cell(table, restore)


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """``table`` as CSV at ``path``, without the index, its text cells neutralised."""
    neutralise_table(table).to_csv(path, index=False)
