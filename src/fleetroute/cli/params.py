"""click parameter types for structured options, so bad values fail at parse time."""

from __future__ import annotations

from typing import Any

import click

from fleetroute.times import origin_of, parse_time_s

__all__ = ["LAT_LON", "SHIFT", "VIEWS"]


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


LAT_LON = LatLonType()
VIEWS = ViewsType()
SHIFT = ShiftType()
