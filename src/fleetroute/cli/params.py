"""click parameter types for structured options, so bad values fail at parse time."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from fleetroute.times import origin_of, parse_time_s

__all__ = ["LAT_LON", "SHIFT", "VIEWS", "OUT_DIR", "OUT_FILE", "WINDOWS"]


class LatLonType(click.ParamType):
    """``LAT,LON`` in WGS84 degrees."""

    name = "LAT,LON"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        parts = str(value).split(",")
        try:
            lat, lon = (float(x) for x in parts)
        except ValueError:
            self.fail(f"'{value}' is not LAT,LON (for example 52.37,4.89)", param, ctx)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            self.fail(f"'{value}' is outside the range of latitudes and longitudes", param, ctx)
        return (lat, lon)


class ShiftType(click.ParamType):
    """``HH:MM-HH:MM``: a working time on the plan date, as seconds since midnight."""

    name = "HH:MM-HH:MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        parts = str(value).split("-")
        if len(parts) != 2:
            self.fail(f"'{value}' is not HH:MM-HH:MM (for example 08:00-16:00)", param, ctx)
        try:
            from datetime import date

            start, end = (parse_time_s(p, origin_of(date(2000, 1, 1))) for p in parts)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if end <= start:
            self.fail(f"'{value}' ends before it starts", param, ctx)
        return (start, end)


class ViewsType(click.ParamType):
    """A comma-separated list of view formats (``geojson``, ``html``)."""

    name = "geojson,html"
    choices = ("geojson", "html")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        names = tuple(dict.fromkeys(v.strip().lower() for v in str(value).split(",") if v.strip()))
        unknown = [n for n in names if n not in self.choices]
        if unknown:
            self.fail(f"unknown format '{unknown[0]}' (choose from geojson, html)", param, ctx)
        return names


class OutputPath(click.Path):
    """A folder (or file) a command will write: checked when the options are read, before
    any work, that it can be created and written (not a file, not under a file, not on a
    read-only disk)."""

    def __init__(self, *, folder: bool) -> None:
        super().__init__(file_okay=not folder, dir_okay=folder, path_type=Path)
        self.folder = folder

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = Path(str(super().convert(value, param, ctx)))
        if path.exists() and self.folder != path.is_dir():
            self.fail(f"'{path}' is {'a file' if self.folder else 'a folder'}", param, ctx)
        above = next(p for p in path.absolute().parents if p.exists())
        if not above.is_dir():
            self.fail(f"'{path}' is under '{above}', which is a file", param, ctx)
        for where in (above, path) if path.is_dir() else (above,):
            try:  # what the writers do: a temporary folder beside (or in) the output
                tempfile.TemporaryDirectory(prefix=".fleetroute-check-", dir=where).cleanup()
            except OSError as exc:
                self.fail(f"cannot write in '{where}' ({exc.strerror})", param, ctx)
        return path


class WindowsType(click.ParamType):
    """Comma-separated ``HH:MM-HH:MM`` windows, as (start, end) seconds of the day."""

    name = "HH:MM-HH:MM,..."

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list):
            return value
        parts = [part.strip() for part in str(value).split(",") if part.strip()]
        if not parts:
            self.fail("give at least one window, e.g. 08:00-10:00,10:00-12:00", param, ctx)
        return [SHIFT.convert(part, param, ctx) for part in parts]


LAT_LON = LatLonType()
WINDOWS = WindowsType()
#: An output folder, an output file.
OUT_DIR = OutputPath(folder=True)
OUT_FILE = OutputPath(folder=False)
VIEWS = ViewsType()
SHIFT = ShiftType()
