"""Readers for the input files of SPEC.md: orders, vehicles and stores.

Each returns a checked DataFrame (see :func:`fleetroute.io.tables.read_table`) or raises
one :class:`~fleetroute.errors.InputError` naming the file, row and column at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from fleetroute.errors import InputError
from fleetroute.io.tables import Column, TableSource, read_table
from fleetroute.times import parse_time_s

__all__ = [
    "ORDER_COLUMNS",
    "VEHICLE_COLUMNS",
    "STORE_COLUMNS",
    "DEFAULT_SHIFT_S",
    "DEFAULT_COST_PER_HOUR",
    "FleetSpec",
    "read_orders",
    "read_vehicles",
    "read_stores",
    "fleet_vehicles",
    "TRIP_COLUMNS",
    "STOP_COLUMNS",
    "HISTORY_ORIGIN",
    "read_trips",
    "read_stops",
    "read_done",
    "read_positions",
    "lookalike_warnings",
    "DEFAULT_MAX_LATE_S",
]

#: A vehicle's working time when vehicles.csv gives none: 00:00-23:59 (SPEC.md).
DEFAULT_SHIFT_S = (0, 23 * 3600 + 59 * 60)
#: Without any cost column, fleetroute minimises route hours: one cost unit per hour.
DEFAULT_COST_PER_HOUR = 1.0

ORDER_COLUMNS = (
    Column("order_id", "text", required=True),
    Column("lat", "lat", required=True),
    Column("lon", "lon", required=True),
    Column("store_id", "text", default=""),
    Column("items", "count", default=1),
    Column("demand", "count", default=1),
    Column("window_start", "time"),
    Column("window_end", "time"),
    Column("service_s", "number", minimum=0),
    Column("priority", "number", default=0.0, minimum=0, maximum=1000),
    Column("skills", "text", default=""),
    Column("demand_*", "count", default=0),
    Column("windows", "text", default=""),
    Column("late_cost_per_h", "number", minimum=0),
    Column("max_late_s", "count"),
)

VEHICLE_COLUMNS = (
    Column("vehicle_id", "text", required=True),
    Column("depot_lat", "lat", required=True),
    Column("depot_lon", "lon", required=True),
    Column("end_lat", "lat"),
    Column("end_lon", "lon"),
    Column("capacity", "count"),
    Column("shift_start", "time", default=DEFAULT_SHIFT_S[0]),
    Column("shift_end", "time", default=DEFAULT_SHIFT_S[1]),
    Column("fixed_cost", "number", default=0.0, minimum=0),
    Column("cost_per_hour", "number", default=DEFAULT_COST_PER_HOUR, minimum=0),
    Column("cost_per_km", "number", default=0.0, minimum=0),
    Column("max_stops", "count"),
    Column("break_start", "time"),
    Column("break_end", "time"),
    Column("break_s", "count"),
    Column("skills", "text", default=""),
    Column("capacity_*", "count"),
    Column("max_route_s", "count"),
    Column("max_distance_m", "count"),
    Column("reload_s", "count"),
)

STORE_COLUMNS = (
    Column("store_id", "text", required=True),
    Column("lat", "lat", required=True),
    Column("lon", "lon", required=True),
    Column("open", "time", default=0),
    Column("close", "time", default=24 * 3600),
    Column("visit_s", "count", default=0),
)

#: Most lateness a soft window accepts when ``max_late_s`` is not given (SPEC.md).
DEFAULT_MAX_LATE_S = 3600

#: Words in a column name that suggest a constraint, and what fleetroute reads instead.
_LOOKALIKES = {
    "weight": "capacity dimensions are demand_<name> in orders and capacity_<name> in "
    "vehicles (e.g. demand_kg, capacity_kg)",
    "volume": "capacity dimensions are demand_<name> in orders and capacity_<name> in "
    "vehicles (e.g. demand_l, capacity_l)",
    "kg": "capacity dimensions are demand_<name> / capacity_<name> (e.g. demand_kg)",
    "skill": "skills are read from the column 'skills' (;-separated labels)",
    "window": "a window is window_start and window_end",
    "tw": "a window is window_start and window_end",
    "deadline": "a window is window_start and window_end",
    "earliest": "a window is window_start and window_end",
    "latest": "a window is window_start and window_end",
    "duration": "service time is service_s; a route limit is max_route_s",
    "service": "service time is service_s",
    "max": "route limits are max_route_s, max_distance_m and max_stops",
    "payload": "capacity is capacity (and capacity_<name> for more dimensions)",
    "reload": "reloading is reload_s",
    "parking": "a store visit's fixed time is visit_s in stores.csv",
}


def lookalike_warnings(table: pd.DataFrame, declared: tuple[Column, ...], label: str) -> list[str]:
    """One line per extra column whose name looks like a constraint fleetroute does not
    read under that name: what it is read as instead (it passes through to routes.csv)."""
    families = tuple(c.name[:-1] for c in declared if c.name.endswith("*"))
    names = {c.name for c in declared}
    lines = []
    for column in table.columns:
        if column in names or column.startswith(families):
            continue
        words = [w for w in re.split(r"[^a-z]+", column.lower()) if w]
        hint = next((_LOOKALIKES[w] for w in words if w in _LOOKALIKES), None)
        if hint is None:
            hint = next(
                (h for key, h in _LOOKALIKES.items() if len(key) > 3 and key in column.lower()),
                None,
            )
        if hint is not None:
            lines.append(
                f"{label}: column '{column}' is not a constraint fleetroute reads ({hint}); "
                "it is passed through to routes.csv unchanged"
            )
    return lines


def _check_order(table: pd.DataFrame, label: str, start: str, end: str) -> None:
    """Reject rows whose ``end`` time is not after their ``start`` time."""
    both = table[start].notna() & table[end].notna()
    bad = both & (table[end].fillna(0) <= table[start].fillna(0))
    if bad.any():
        row = int(table.index[bad.to_numpy().nonzero()[0][0]])
        raise InputError(label, f"{end} is not after {start}", row=row, column=end)


def _name_of(source: TableSource, default: str) -> str:
    """What to call a table in messages: its path, or a DataFrame's ``attrs["source"]``."""
    if isinstance(source, pd.DataFrame):
        return str(source.attrs.get("source", default))
    return str(source)


def read_orders(source: TableSource, *, origin: datetime, name: str | None = None) -> pd.DataFrame:
    """Read orders.csv (or an equivalent DataFrame) and check every cell."""
    label = name or _name_of(source, "orders")
    table = read_table(source, ORDER_COLUMNS, origin=origin, name=label, id_column="order_id")
    if table.empty:
        raise InputError(label, "has no orders")
    _check_order(table, label, "window_start", "window_end")
    table["windows"] = pd.Series(_windows(table, label, origin), index=table.index, dtype=object)
    late = table["max_late_s"].astype("Int64")
    given = table["late_cost_per_h"].notna().to_numpy()
    stray = late.notna().to_numpy() & ~given
    if stray.any():
        row = int(table.index[stray.nonzero()[0][0]])
        raise InputError(
            label,
            "max_late_s needs late_cost_per_h (without it the window is hard)",
            row=row,
            column="max_late_s",
        )
    table["max_late_s"] = np.where(given, late.fillna(DEFAULT_MAX_LATE_S).to_numpy(), 0)
    table["late_cost_per_h"] = table["late_cost_per_h"].fillna(0.0)
    return table


def _windows(
    table: pd.DataFrame, label: str, origin: datetime
) -> list[tuple[tuple[int, int], ...]]:
    """Each order's ``windows`` (``HH:MM-HH:MM;...`` or ISO pairs, ``-`` or ``/`` between
    the two times), sorted, overlapping ones merged; ``()`` where the cell is empty (the
    order's window is then ``window_start``/``window_end``)."""
    out: list[tuple[tuple[int, int], ...]] = []
    for row, cell, start, end in zip(
        table.index, table["windows"], table["window_start"], table["window_end"], strict=True
    ):
        text = str(cell).strip()
        if not text:
            out.append(())
            continue
        if not (pd.isna(start) and pd.isna(end)):
            raise InputError(
                label,
                "give windows or window_start/window_end, not both",
                row=int(row),
                column="windows",
            )
        spans = []
        for part in (p.strip() for p in text.split(";")):
            if not part:
                continue
            span = _span(part, origin)
            if span is None:
                raise InputError(
                    label,
                    f"'{part}' is not a window (HH:MM-HH:MM, or two ISO date-times)",
                    row=int(row),
                    column="windows",
                )
            if span[1] <= span[0]:
                raise InputError(
                    label,
                    f"the window '{part}' does not end after it starts",
                    row=int(row),
                    column="windows",
                )
            spans.append(span)
        merged: list[tuple[int, int]] = []
        for a, b in sorted(spans):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        out.append(tuple(merged))
    return out


def _span(text: str, origin: datetime) -> tuple[int, int] | None:
    """A window ``A-B`` or ``A/B`` as seconds, trying each separator position (ISO dates
    hold ``-`` too); ``None`` when no split gives two times."""
    for i, ch in enumerate(text):
        if ch not in "-/":
            continue
        try:
            return parse_time_s(text[:i].strip(), origin), parse_time_s(
                text[i + 1 :].strip(), origin
            )
        except ValueError:
            continue
    return None


def read_vehicles(
    source: TableSource, *, origin: datetime, name: str | None = None
) -> pd.DataFrame:
    """Read vehicles.csv (or an equivalent DataFrame) and check every cell."""
    label = name or _name_of(source, "vehicles")
    table = read_table(source, VEHICLE_COLUMNS, origin=origin, name=label, id_column="vehicle_id")
    if table.empty:
        raise InputError(label, "has no vehicles")
    half = table["end_lat"].isna() != table["end_lon"].isna()
    if half.any():
        first = int(half.to_numpy().nonzero()[0][0])
        row = int(table.index[first])
        missing = "end_lon" if np.isnan(table["end_lon"].to_numpy()[first]) else "end_lat"
        raise InputError(label, "end_lat and end_lon go together", row=row, column=missing)
    _check_order(table, label, "shift_start", "shift_end")
    _check_order(table, label, "break_start", "break_end")
    return table


def read_stores(source: TableSource, *, origin: datetime, name: str | None = None) -> pd.DataFrame:
    """Read stores.csv (or an equivalent DataFrame) and check every cell."""
    label = name or _name_of(source, "stores")
    table = read_table(source, STORE_COLUMNS, origin=origin, name=label, id_column="store_id")
    _check_order(table, label, "open", "close")
    return table


@dataclass(frozen=True)
class FleetSpec:
    """The shorthand fleet of ``route plan``: N identical vehicles at one depot.

    ``shift`` is a pair of seconds since the plan origin; ``capacity`` None is unlimited.
    """

    size: int
    depot: tuple[float, float]
    capacity: int | None = None
    shift: tuple[int, int] = DEFAULT_SHIFT_S

    def __post_init__(self) -> None:
        if self.size < 1:
            raise InputError("--fleet-size", "must be at least 1")
        if self.shift[1] <= self.shift[0]:
            raise InputError("--shift", "the shift must end after it starts")


def fleet_vehicles(spec: FleetSpec) -> pd.DataFrame:
    """Expand a :class:`FleetSpec` into the vehicles table ``read_vehicles`` would return."""
    n = spec.size
    width = len(str(n))
    return pd.DataFrame(
        {
            "vehicle_id": np.array([f"v{i + 1:0{width}d}" for i in range(n)], dtype=object),
            "depot_lat": np.full(n, spec.depot[0]),
            "depot_lon": np.full(n, spec.depot[1]),
            "end_lat": np.full(n, np.nan),
            "end_lon": np.full(n, np.nan),
            "capacity": pd.array([spec.capacity] * n, dtype="Int64"),
            "shift_start": np.full(n, spec.shift[0], dtype=np.int64),
            "shift_end": np.full(n, spec.shift[1], dtype=np.int64),
            "fixed_cost": np.zeros(n),
            "cost_per_hour": np.full(n, DEFAULT_COST_PER_HOUR),
            "cost_per_km": np.zeros(n),
            "max_stops": pd.array([None] * n, dtype="Int64"),
            "break_start": pd.array([None] * n, dtype="Int64"),
            "break_end": pd.array([None] * n, dtype="Int64"),
            "break_s": pd.array([None] * n, dtype="Int64"),
            "skills": np.full(n, "", dtype=object),
            "max_route_s": pd.array([None] * n, dtype="Int64"),
            "max_distance_m": pd.array([None] * n, dtype="Int64"),
            "reload_s": pd.array([None] * n, dtype="Int64"),
        },
        index=pd.Index(np.arange(n) + 2, name="row"),
    )


TRIP_COLUMNS = (
    Column("trip_id", "text", required=True),
    Column("origin_lat", "lat", required=True),
    Column("origin_lon", "lon", required=True),
    Column("dest_lat", "lat", required=True),
    Column("dest_lon", "lon", required=True),
    Column("departure_time", "time", required=True),
    Column("duration_s", "number", minimum=0),
)

STOP_COLUMNS = (
    Column("stop_id", "text", required=True),
    Column("kind", "text", required=True),
    Column("lat", "lat", required=True),
    Column("lon", "lon", required=True),
    Column("arrival_time", "time", required=True),
    Column("items", "count", default=1),
    Column("duration_s", "number", minimum=0),
    Column("store_id", "text", default=""),
)

#: Time zero of history files: their times are ISO date-times, read as seconds since this.
HISTORY_ORIGIN = datetime(2000, 1, 1)


def read_trips(
    source: TableSource, *, name: str | None = None, need_duration: bool = True
) -> pd.DataFrame:
    """Read trips.csv (history of driven legs); times are seconds since HISTORY_ORIGIN."""
    label = name or _name_of(source, "trips")
    table = read_table(source, TRIP_COLUMNS, origin=HISTORY_ORIGIN, name=label, id_column="trip_id")
    _need(table, label, "duration_s", need_duration)
    return table


def read_stops(
    source: TableSource, *, name: str | None = None, need_duration: bool = True
) -> pd.DataFrame:
    """Read stops.csv (history of shop and drop-off events)."""
    label = name or _name_of(source, "stops")
    table = read_table(source, STOP_COLUMNS, origin=HISTORY_ORIGIN, name=label, id_column="stop_id")
    bad = ~table["kind"].isin(["shop", "dropoff"])
    if bad.any():
        first = int(bad.to_numpy().nonzero()[0][0])
        kind = str(table["kind"].iloc[first])
        raise InputError(
            label, f"'{kind}' is not shop or dropoff", row=int(table.index[first]), column="kind"
        )
    _need(table, label, "duration_s", need_duration)
    return table


def _need(table: pd.DataFrame, label: str, column: str, needed: bool) -> None:
    if not needed:
        return
    missing = table[column].isna().to_numpy()
    if missing.any():
        row = int(table.index[missing.nonzero()[0][0]])
        raise InputError(
            label, "is empty (training and evaluation need it)", row=row, column=column
        )


def check_store_ids(
    orders: pd.DataFrame, store_ids: pd.Series, *, orders_label: str, stores_label: str | None
) -> None:
    """Refuse the first order whose ``store_id`` is not among ``store_ids`` (``stores_label``
    None: no stores file was given), naming its row."""
    unknown = np.flatnonzero(
        ((orders["store_id"] != "") & ~orders["store_id"].isin(set(store_ids))).to_numpy()
    )
    if unknown.size:
        first = int(unknown[0])
        where = "no --stores file was given" if stores_label is None else f"not in {stores_label}"
        raise InputError(
            orders_label,
            f"unknown store '{orders['store_id'].iloc[first]}' ({where})",
            row=int(orders.index[first]),
            column="store_id",
        )


#: Columns of the done-stops file of ``route replan``.
DONE_COLUMNS = (
    Column("order_id", "text", required=True),
    Column("kind", "text", default="dropoff"),
)
#: Columns of the vehicle-positions file of ``route replan``.
POSITION_COLUMNS = (
    Column("vehicle_id", "text", required=True),
    Column("lat", "lat", required=True),
    Column("lon", "lon", required=True),
)


def read_done(source: TableSource, *, origin: datetime) -> tuple[list[str], list[str]]:
    """done.csv of ``route replan``: the orders delivered, and those shopped but not yet
    delivered (``kind`` pickup)."""
    table = read_table(source, DONE_COLUMNS, origin=origin)
    bad = table.index[~table["kind"].isin(["pickup", "dropoff"])]
    if len(bad):
        raise InputError(
            str(source), "kind must be pickup or dropoff", row=int(bad[0]), column="kind"
        )
    done = table.loc[table["kind"] == "dropoff", "order_id"].tolist()
    picked = table.loc[table["kind"] == "pickup", "order_id"].tolist()
    return [str(o) for o in done], [str(o) for o in picked]


def read_positions(source: TableSource, *, origin: datetime) -> dict[str, tuple[float, float]]:
    """positions.csv of ``route replan``: where each vehicle is now."""
    table = read_table(source, POSITION_COLUMNS, origin=origin)
    return {
        str(v): (float(a), float(b))
        for v, a, b in zip(table["vehicle_id"], table["lat"], table["lon"], strict=True)
    }
