"""A typed CSV reader that checks every cell and names the file, row and column at fault.

Each input file of SPEC.md is described by a tuple of :class:`Column`; :func:`read_table`
turns a CSV path or a DataFrame into a DataFrame whose declared columns have their proper
types (times as whole seconds since the plan origin), with unknown extra columns kept as
text. Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from fleetroute.errors import InputError
from fleetroute.io.cells import restore_table
from fleetroute.times import parse_time_s

__all__ = ["Column", "read_table", "read_raw", "TableSource"]

Kind = Literal["text", "number", "count", "time", "lat", "lon"]
TableSource = str | Path | pd.DataFrame


@dataclass(frozen=True)
class Column:
    """One declared column of an input file.

    ``kind`` is ``text``, ``number`` (a float), ``count`` (a whole number >= 0), ``time``
    (seconds since the plan origin), ``lat`` or ``lon``. ``default`` fills empty or absent
    cells of an optional column; ``None`` leaves them missing (NaN / -1 for counts).

    A name ending in ``*`` is a family of columns (``demand_*``): every header column that
    starts with the part before it, and has more after it, is read as this kind.
    """

    name: str
    kind: Kind
    required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None


#: The largest number or count any column takes unless it says otherwise: a billion
#: seconds, units or currency is more than any day holds, and sums and products of such
#: values still fit the solvers' 64-bit integers.
_LARGEST: dict[str, float] = {"number": 1e9, "count": 1e9}


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        if "," in text and _looks_like_comma_decimal(text):
            raise ValueError(
                f"'{text}' is not a number (use a dot as the decimal separator)"
            ) from None
        raise ValueError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"'{text}' is not a finite number")
    return value


def _looks_like_comma_decimal(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _count(text: str) -> int:
    value = _number(text)
    if value != int(value):
        raise ValueError(f"'{text}' is not a whole number")
    if value < 0:
        raise ValueError(f"'{text}' is negative")
    return int(value)


def _lat(text: str) -> float:
    value = _number(text)
    if not -90.0 <= value <= 90.0:
        raise ValueError(f"'{text}' is not a latitude (it must lie between -90 and 90)")
    return value


def _lon(text: str) -> float:
    value = _number(text)
    if not -180.0 <= value <= 180.0:
        raise ValueError(f"'{text}' is not a longitude (it must lie between -180 and 180)")
    return value


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(name, "no such file")
    try:
        return restore_table(
            pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                encoding="utf-8",
            )
        )
    except UnicodeDecodeError as exc:
        raise InputError(name, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except pd.errors.EmptyDataError:
        raise InputError(name, "is empty: a header row is expected") from None
    except pd.errors.ParserError as exc:
        raise InputError(name, _parser_message(str(exc)), row=_parser_row(str(exc))) from None


def read_raw(source: TableSource, default: str = "table") -> pd.DataFrame:
    """A table's cells as text, unchecked, indexed by spreadsheet row (header: row 1) and
    named in ``attrs["source"]`` (a DataFrame without a name gets ``default``): slices of
    it read by :func:`read_table` keep both."""
    if isinstance(source, pd.DataFrame):
        label = str(source.attrs.get("source", default))
        raw = source.copy()
        if raw.index.name != "row":
            raw.index = pd.Index(np.arange(len(raw)) + 2, name="row")
    else:
        label = str(source)
        raw = _read_csv(Path(source), label)
        raw.index = pd.Index(np.arange(len(raw)) + 2, name="row")
    raw.attrs["source"] = label
    return raw


def _parser_row(message: str) -> int | None:
    # pandas says e.g. "Expected 3 fields in line 4, saw 4"
    words = message.replace(",", " ").split()
    for i, word in enumerate(words[:-1]):
        if word == "line" and words[i + 1].isdigit():
            return int(words[i + 1])
    return None


def _parser_message(message: str) -> str:
    if "fields" in message:
        return (
            "has more cells than the header has columns "
            "(a comma inside a number? use a dot for decimals, or quote the cell)"
        )
    return f"is not a readable CSV file ({message.strip()})"


def read_table(
    source: TableSource,
    columns: Sequence[Column],
    *,
    origin: datetime,
    name: str | None = None,
    id_column: str | None = None,
) -> pd.DataFrame:
    """Read and check one input table.

    Parameters
    ----------
    source
        A CSV path, or a DataFrame whose cells may already be typed or be text. A
        DataFrame whose index is named ``row`` (as :func:`read_raw` and this function
        return) keeps those row numbers in messages, and ``attrs["source"]`` names it.
    columns
        The declared columns.
    origin
        Time zero for ``time`` columns.
    name
        What to call the table in messages (default: the path, or ``"table"``).
    id_column
        A column whose values must be present and unique.

    Returns
    -------
    pandas.DataFrame
        Declared columns typed and in declared order, then the extra columns as given.
        The index is the spreadsheet row number of each record.

    Raises
    ------
    InputError
        For the first bad cell, naming file, row and column.
    """
    if isinstance(source, pd.DataFrame):
        label = name or str(source.attrs.get("source", "table"))
        # a slice of a table read before keeps its spreadsheet row numbers
        kept = source.index.name == "row" and pd.api.types.is_integer_dtype(source.index)
        rows = source.index.to_numpy(np.int64) if kept else np.arange(len(source)) + 2
        raw = source.reset_index(drop=True).copy()
    else:
        label = name or str(source)
        raw = _read_csv(Path(source), label)
        rows = np.arange(len(raw)) + 2
    raw.columns = [str(c).strip() for c in raw.columns]
    columns = _expanded(columns, list(raw.columns))
    declared = {c.name for c in columns}
    for col in columns:
        if col.required and col.name not in raw.columns:
            extra = [c for c in raw.columns if c not in declared]
            near = difflib.get_close_matches(col.name, extra, n=1, cutoff=0.6)
            hint = f" (found '{near[0]}': a misspelling?)" if near else ""
            raise InputError(label, f"required column is missing{hint}", row=1, column=col.name)
    dup = raw.columns[raw.columns.duplicated()]
    if len(dup):
        raise InputError(label, "appears twice in the header", row=1, column=str(dup[0]))

    out: dict[str, Any] = {}
    parsers: dict[Kind, Callable[[str], Any]] = {
        "number": _number,
        "count": _count,
        "lat": _lat,
        "lon": _lon,
        "time": lambda text: parse_time_s(text, origin),
        "text": lambda text: text,
    }
    for col in columns:
        cells = raw[col.name].tolist() if col.name in raw.columns else [None] * len(raw)
        parse = parsers[col.kind]
        values: list[Any] = []
        for row, cell in zip(rows, cells, strict=True):
            text = _as_text(cell)
            if text == "":
                if col.required:
                    raise InputError(label, "is empty", row=int(row), column=col.name)
                values.append(col.default)
                continue
            try:
                value = parse(text)
            except ValueError as exc:
                raise InputError(label, str(exc), row=int(row), column=col.name) from None
            if col.minimum is not None and value < col.minimum:
                raise InputError(
                    label,
                    f"'{text}' is below the minimum {col.minimum:g}",
                    row=int(row),
                    column=col.name,
                )
            maximum = col.maximum if col.maximum is not None else _LARGEST.get(col.kind)
            if maximum is not None and value > maximum:
                shown = f"{maximum:,.0f}" if maximum >= 1e6 else f"{maximum:g}"
                raise InputError(
                    label,
                    f"'{text}' is above the maximum {shown}",
                    row=int(row),
                    column=col.name,
                )
            values.append(value)
        out[col.name] = _typed(values, col)
    for extra_name in raw.columns:
        if extra_name not in declared:
            out[extra_name] = raw[extra_name].map(_as_text).to_numpy()
    table = pd.DataFrame(out, index=pd.Index(rows, name="row"))
    if id_column is not None:
        repeated = np.flatnonzero(table[id_column].duplicated().to_numpy())
        if repeated.size:
            first = int(repeated[0])
            value = table[id_column].iloc[first]
            raise InputError(
                label, f"'{value}' is used twice", row=int(rows[first]), column=id_column
            )
    return table


def _expanded(columns: Sequence[Column], header: list[str]) -> list[Column]:
    """``columns`` with each family (a name ending in ``*``) replaced by the header's
    columns of that family, in header order."""
    out: list[Column] = []
    for col in columns:
        if not col.name.endswith("*"):
            out.append(col)
            continue
        prefix = col.name[:-1]
        out += [
            dataclasses.replace(col, name=name)
            for name in header
            if name.startswith(prefix) and len(name) > len(prefix)
        ]
    return out


def _as_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and math.isnan(cell):
        return ""
    if isinstance(cell, pd.Timestamp):
        return cell.isoformat()
    if cell is pd.NaT:
        return ""
    return str(cell).strip()


def _typed(values: list[Any], col: Column) -> Any:
    if col.kind == "text":
        return np.array(["" if v is None else v for v in values], dtype=object)
    if col.kind in ("count", "time"):
        if all(v is not None for v in values):
            return np.array(values, dtype=np.int64)
        return pd.array(values, dtype="Int64")
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
