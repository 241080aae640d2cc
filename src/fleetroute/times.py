"""Times in input and output files: ISO 8601 local date-times, or ``HH:MM`` on the plan date.

Inside the engine every time is whole seconds since the plan's origin (midnight of the
plan date); this module converts both ways.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

__all__ = ["parse_time_s", "format_time", "format_clock", "origin_of"]

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def origin_of(plan_date: date) -> datetime:
    """Return midnight of ``plan_date``: time zero of a plan."""
    return datetime(plan_date.year, plan_date.month, plan_date.day)


def parse_time_s(text: str, origin: datetime) -> int:
    """Parse one time cell into whole seconds since ``origin``.

    Accepts ``HH:MM`` or ``HH:MM:SS`` (on the plan date; ``24:00`` is the end of it) and
    ISO 8601 local date-times such as ``2026-03-02T08:30:00``.

    Raises
    ------
    ValueError
        With a plain-words reason, when the text is neither form.
    """
    text = text.strip()
    m = _HHMM.match(text)
    if m:
        h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        if mi > 59 or s > 59 or h > 24 or (h == 24 and (mi or s)):
            raise ValueError(f"'{text}' is not a valid time of day")
        return h * 3600 + mi * 60 + s
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"'{text}' is not a time (use HH:MM or an ISO date-time like 2026-03-02T08:30:00)"
        ) from None
    if when.tzinfo is not None:
        raise ValueError(f"'{text}' has a UTC offset; give a local date-time without one")
    return int(round((when - origin).total_seconds()))


def format_time(seconds: int | float, origin: datetime) -> str:
    """Format seconds since ``origin`` as an ISO 8601 local date-time, seconds resolution."""
    return (origin + timedelta(seconds=int(round(seconds)))).isoformat(timespec="seconds")


def format_clock(seconds: int | float, origin: datetime) -> str:
    """``HH:MM`` of a time since ``origin``, with ``(day +N)`` when it falls on a later day."""
    when = origin + timedelta(seconds=int(seconds))
    day = (when.date() - origin.date()).days
    return when.strftime("%H:%M") + (f" (day +{day})" if day else "")
