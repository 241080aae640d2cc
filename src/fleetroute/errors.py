"""The exceptions fleetroute raises. The library raises; only the CLI prints and exits."""

from __future__ import annotations

from typing import Any

__all__ = [
    "FleetrouteError",
    "InputError",
    "MapError",
    "ModelBundleError",
    "NotFittedError",
    "EtaOptionError",
    "InputWarning",
]


class FleetrouteError(Exception):
    """Base class of every error fleetroute raises on purpose."""


class InputError(FleetrouteError, ValueError):
    """A bad input file, cell or option.

    Its text is the one line the CLI prints: ``FILE: row R, column C: what is wrong``.

    Parameters
    ----------
    path
        The file (or option name, such as ``--depot``) at fault.
    message
        What is wrong, in plain words.
    row
        The spreadsheet row number (the header is row 1, the first data row is row 2),
        or None when the fault is not in one row.
    column
        The column at fault, or None.
    """

    def __init__(
        self, path: str, message: str, *, row: int | None = None, column: str | None = None
    ) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        self.message = message
        loc = []
        if row is not None:
            loc.append(f"row {row}")
        if column is not None:
            loc.append(f"column '{column}'")
        head = self.path + (": " + ", ".join(loc) if loc else "")
        super().__init__(one_line(f"{head}: {message}"))

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled whole, so an error raised on a Dask worker keeps its file, row and column
        return (_input_error, (type(self), self.path, self.message, self.row, self.column))


def one_line(text: str) -> str:
    """``text`` on one line: line breaks and other control characters (a cell can hold
    them) shown as escapes, as Python shows them in a string."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _input_error(
    cls: type[InputError], path: str, message: str, row: int | None, column: str | None
) -> InputError:
    return cls(path, message, row=row, column=column)


class MapError(FleetrouteError, ValueError):
    """A road map that cannot be read or has no drivable roads."""


class ModelBundleError(FleetrouteError, ValueError):
    """An ETA model bundle that is missing, corrupt, or made for another map or schema."""


class NotFittedError(FleetrouteError, AttributeError):
    """A model was asked to predict before it was fitted."""


class EtaOptionError(FleetrouteError, ValueError):
    """A planning option a learned ETA cannot honour (a quantile its model did not learn,
    a negative margin); ``option`` names the parameter of
    :class:`~fleetroute.eta_model.learned.LearnedEta` it came from."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


class InputWarning(UserWarning):
    """An input that is planned, but perhaps not as its author meant: a column that looks
    like a constraint fleetroute does not read under that name. The CLI prints each as one
    ``warning:`` line on stderr; plan.json lists them under ``inputs.warnings``."""
