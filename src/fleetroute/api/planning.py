"""Plan a day: the problem built and validated once from the SPEC's inputs, then solved."""

from __future__ import annotations

import signal
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fleetroute.api._common import (
    MAX_SNAP_M,
    Progress,
    _int64,
    _km,
    _label,
    _Stopwatch,
    road_map_of,
)
from fleetroute.errors import InputError, InputWarning
from fleetroute.eta_model.baseline import EtaProvider, FreeFlow
from fleetroute.io.readers import (
    ORDER_COLUMNS,
    STORE_COLUMNS,
    VEHICLE_COLUMNS,
    FleetSpec,
    check_store_ids,
    fleet_vehicles,
    lookalike_warnings,
    read_orders,
    read_stores,
    read_vehicles,
)
from fleetroute.io.tables import Column, TableSource, read_table
from fleetroute.maps.roadmap import RoadMap
from fleetroute.routing.options import STOP
from fleetroute.routing.plan import Plan
from fleetroute.routing.problem import UNLIMITED, Problem
from fleetroute.routing.solve import SolveOptions, solve
from fleetroute.times import origin_of


def build_problem(
    orders: TableSource,
    vehicles: TableSource | None = None,
    *,
    road_map: RoadMap | str | Path,
    stores: TableSource | None = None,
    fleet: FleetSpec | None = None,
    plan_date: date | None = None,
    eta: EtaProvider | None = None,
    max_snap_m: float = MAX_SNAP_M,
    timings: dict[str, float] | None = None,
    progress: Progress | None = None,
) -> tuple[Problem, pd.DataFrame]:
    """Read and check the inputs, snap them to the map and build the :class:`Problem`.

    Parameters
    ----------
    orders
        orders.csv path or DataFrame (SPEC.md columns).
    vehicles
        vehicles.csv path or DataFrame; or give ``fleet`` instead.
    road_map
        A loaded :class:`RoadMap` (load once, plan many times) or a map path.
    stores
        stores.csv path or DataFrame, needed when orders name a ``store_id``.
    fleet
        The shorthand fleet (N identical vehicles at one depot), instead of ``vehicles``.
    plan_date
        The date ``HH:MM`` times refer to (default: today).
    eta
        Where travel and service times come from (default: :class:`FreeFlow`).
    max_snap_m
        Orders farther than this from the nearest road are left out with that reason.
    timings
        If given, filled with the seconds each stage took: ``read``, ``snap``, ``matrix``.

    Returns
    -------
    problem, order_extra
        The problem, and the orders' extra columns to pass through to routes.csv.

    Raises
    ------
    InputError
        For bad cells, unknown stores, depots off the map, or orders none of which lie on
        the map; the message names the file, row and column.
    """
    clock = _Stopwatch(timings, progress)
    if progress is not None:
        progress("reading the orders, fleet and stores", None)
    origin = origin_of(plan_date or date.today())
    eta = eta or FreeFlow()
    rmap = road_map_of(road_map)
    inp = _read_inputs(orders, vehicles, stores, fleet, origin)
    o, veh, st = inp.orders, inp.vehicles, inp.stores
    v, m, n = len(veh), len(st), len(o)
    place_lat, place_lon = inp.places()
    clock.lap("read", "snapping places to the map")
    node, snap_m = rmap.snap(place_lat, place_lon)
    excluded = _off_map(inp, rmap, snap_m, max_snap_m)
    # one location per distinct point: orders at one address (a parcel locker, a block of
    # flats) and vans at one depot share a row of the matrices instead of adding one each.
    # Orders share only with orders that need the same skills (PyVRP bars a location from
    # the vans that lack them), not with depots or stores.
    skills = _skills(inp)
    tag = np.concatenate([np.full(2 * v + m, -1), skills["order_skills"]])
    keep, place_loc = _distinct(place_lat, place_lon, tag)
    loc_lat, loc_lon, node = place_lat[keep], place_lon[keep], node[keep]
    shift_start = veh["shift_start"].to_numpy(dtype=np.int64)
    shift_end = veh["shift_end"].to_numpy(dtype=np.int64)
    first = origin + timedelta(seconds=int(shift_start.min()))
    last = origin + timedelta(seconds=int(shift_end.max()))
    _fits_in_memory(inp.o_label, n, keep.size, v, len(eta.band_starts(first, last)))
    clock.lap("snap", f"travel times between {keep.size} places ({eta.name})")

    band_starts, band_f, dist_f = eta.travel_bands(
        rmap,
        node,
        start=first,
        end=last,
        hubs=node[place_loc[: 2 * v + m]],  # depots, stores
    )
    bands = _whole_seconds(band_f)
    del band_f
    # the fastest band: screening stays optimistic
    travel = (bands[0] if len(bands) == 1 else bands.min(axis=0)).astype(np.int64)
    dist = np.rint(dist_f).astype(np.int64)
    clock.lap("matrix")

    start_loc, end_loc = place_loc[:v], place_loc[v : 2 * v]
    idle = travel[start_loc, end_loc]
    bad = np.flatnonzero(shift_start + idle > shift_end)
    if bad.size:
        k = int(bad[0])
        raise InputError(
            inp.v_label,
            f"the vehicle cannot drive from its depot to its end location within its shift "
            f"({idle[k]} s needed)",
            row=int(veh.index[k]),
            column="shift_end",
        )
    band_start_s = _int64([(b - origin).total_seconds() for b in band_starts])
    windows = order_windows(o, int(shift_start.min()), int(shift_end.max()))
    at = service_instants(windows["order_windows"], int(shift_start.min()), int(shift_end.max()))
    dropoff, shop = _service_times(inp, rmap, eta, origin, at)
    late_chance = float(getattr(eta, "late_chance", 0.0))
    # a learned ETA says how uncertain its times are: plans are forecast with it, and
    # risk margins drawn from it
    spreads = (
        _spreads(inp, rmap, eta, origin, at, node, band_starts, (dropoff, shop))
        if _has_spreads(eta)
        else {}
    )
    problem = Problem(
        origin=origin,
        loc_lat=loc_lat,
        loc_lon=loc_lon,
        travel_s=travel,
        distance_m=dist,
        order_id=tuple(o["order_id"].tolist()),
        order_loc=place_loc[2 * v + m :],
        order_store=inp.order_store,
        demand=o["demand"].to_numpy(np.int64),
        items=o["items"].to_numpy(dtype=np.int64),
        **windows,
        dropoff_s=np.rint(dropoff).astype(np.int64),
        shop_s=np.rint(shop).astype(np.int64),
        priority=o["priority"].to_numpy(float),
        store_id=tuple(st["store_id"].tolist()),
        store_loc=place_loc[2 * v : 2 * v + m],
        store_open_s=st["open"].to_numpy(np.int64),
        store_close_s=st["close"].to_numpy(np.int64),
        vehicle_id=tuple(veh["vehicle_id"].tolist()),
        start_loc=start_loc,
        end_loc=end_loc,
        shift_start_s=shift_start,
        shift_end_s=shift_end,
        fixed_cost=veh["fixed_cost"].to_numpy(float),
        cost_per_hour=veh["cost_per_hour"].to_numpy(float),
        cost_per_km=veh["cost_per_km"].to_numpy(float),
        excluded=excluded,
        band_start_s=band_start_s,
        band_travel_s=bands if len(band_starts) > 1 else None,
        shop_band_s=_shop_bands(inp, rmap, eta, origin, band_start_s),
        store_visit_s=st["visit_s"].to_numpy(np.int64),
        margin_s=int(getattr(eta, "margin_s", 0)),
        late_chance=late_chance,
        **spreads,
        **_vehicle_limits(inp),
        **skills,
        **_dimensions(inp),
    )
    for line in inp.warnings:
        warnings.warn(line, InputWarning, stacklevel=2)
    extra = o[[c for c in o.columns if not _is_spec_column(c)]].reset_index(drop=True)
    return problem, extra


#: A plan's peak memory, measured on days of 1,000 to 4,000 orders at distinct addresses
#: and 10,000 at one (README "Memory"): a base, bytes per pair of distinct places (travel
#: and distance matrices, their float sources) and per pair of orders and vans (PyVRP's
#: matrices are per client).
MEMORY_BASE = 300 * 2**20
MEMORY_PER_PLACE_PAIR = 64
MEMORY_PER_CLIENT_PAIR = 13
#: Each learned hour band beyond the first, per pair of distinct places: building the
#: 5,000-order store day's problem (5,011 places, 14 bands) peaked 2.1 GB above its
#: free-flow build (3.4 GB against 1.3 GB), 7.0 bytes a pair a band.
MEMORY_PER_BAND_PAIR = 8


def memory_needed(n_orders: int, n_places: int, n_vehicles: int, bands: int = 1) -> int:
    """Bytes a plan of ``n_orders`` at ``n_places`` distinct places needs at its peak, on
    ``bands`` travel matrices (1: free-flow, one static matrix)."""
    clients = n_orders + n_vehicles
    return (
        MEMORY_BASE
        + (MEMORY_PER_PLACE_PAIR + MEMORY_PER_BAND_PAIR * max(0, bands - 1)) * n_places**2
        + MEMORY_PER_CLIENT_PAIR * clients**2
    )


def memory_available() -> int:
    """Bytes a plan may use: ``$FLEETROUTE_MEMORY_GB`` when set (a container's share, say),
    else the memory the machine has free now."""
    import os

    import psutil  # type: ignore[import-untyped]

    given = os.environ.get("FLEETROUTE_MEMORY_GB")
    if given:
        try:
            return int(float(given) * 2**30)
        except ValueError:
            raise InputError("FLEETROUTE_MEMORY_GB", f"'{given}' is not a number") from None
    return int(psutil.virtual_memory().available)


def _whole_seconds(band_f: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.int32]:
    """The bands in whole seconds, 4 bytes a leg, rounded one band at a time: a big day's
    bands are its biggest arrays. Bands in 4-byte floats (a learned ETA's on many places)
    are rounded into their own memory, so the day never holds two copies (the 5,000-order
    store day, 5,011 places in 14 bands: building its problem peaked at 6.3 GB with a
    second copy in the ETA and one here, 4.1 GB with the one here, 3.5 GB now)."""
    in_place = band_f.dtype == np.float32 and band_f.flags.c_contiguous and band_f.flags.owndata
    bands = band_f.view(np.int32) if in_place else np.empty(band_f.shape, dtype=np.int32)
    for b in range(band_f.shape[0]):
        bands[b] = np.rint(band_f[b])  # the band is read whole before it is written
    return bands


def _fits_in_memory(
    label: str, n_orders: int, n_places: int, n_vehicles: int, bands: int = 1
) -> None:
    """Refuse, before any matrix is built, a day whose plan would not fit in memory."""
    need, have = memory_needed(n_orders, n_places, n_vehicles, bands), memory_available()
    if need > have:
        raise InputError(
            label,
            f"{n_orders:,} orders at {n_places:,} distinct places need about "
            f"{need / 2**30:.1f} GB of memory to plan, and {have / 2**30:.1f} GB is "
            "available: plan them in parts (--partition) or on a larger machine",
        )


def _distinct(lat: np.ndarray, lon: np.ndarray, tag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first place at each distinct (point, tag), in the order given, and for every
    place the index of its point among them."""
    places = pd.DataFrame({"lat": lat, "lon": lon, "tag": tag})
    first = np.flatnonzero(~places.duplicated().to_numpy())
    index = places.groupby(["lat", "lon", "tag"], sort=False).ngroup().to_numpy(np.int64)
    return first, index


def order_windows(o: pd.DataFrame, first: int, last: int) -> dict[str, Any]:
    """Each order's windows (``windows``, or ``window_start``/``window_end`` filled with
    the fleet's first and last shift hours), padded to one length, their span, and the
    soft windows' lateness limit and cost."""
    given_start, given_end = o["window_start"].astype("Int64"), o["window_end"].astype("Int64")
    # an open side takes the fleet's first or last hour, but never crosses the given side
    # (a window opening after every shift ends stays a point: the screen explains it)
    start = _int64(given_start.fillna(given_end.fillna(first).clip(upper=first)))
    end = _int64(given_end.fillna(given_start.fillna(last).clip(lower=last)))
    given = list(o["windows"])
    k = max((len(w) for w in given), default=1) or 1
    windows = np.empty((len(o), k, 2), dtype=np.int64)
    for i, spans in enumerate(given):
        spans = spans or ((int(start[i]), int(end[i])),)
        windows[i] = [*spans, *[spans[-1]] * (k - len(spans))]
    return {
        "window_start_s": windows[:, 0, 0],
        "window_end_s": windows[:, -1, 1],
        "order_windows": windows,
        "late_cost_per_h": o["late_cost_per_h"].to_numpy(float),
        "max_late_s": o["max_late_s"].to_numpy(np.int64),
    }


def _is_spec_column(name: str) -> bool:
    """Whether an orders.csv column is one the problem holds (the others pass through to
    routes.csv)."""
    return name in {c.name for c in ORDER_COLUMNS} or (
        name.startswith("demand_") and len(name) > len("demand_")
    )


@dataclass(frozen=True)
class _Inputs:
    """The day's tables, read and checked, with the file labels errors name."""

    orders: pd.DataFrame
    vehicles: pd.DataFrame
    stores: pd.DataFrame
    #: each order's store row, -1 for a delivery without a store
    order_store: np.ndarray
    o_label: str
    v_label: str
    s_label: str
    #: one line per column that looks like a constraint but is not one fleetroute reads
    warnings: tuple[str, ...] = ()

    def places(self) -> tuple[np.ndarray, np.ndarray]:
        """Latitudes and longitudes in the problem's location order: vehicle starts, vehicle
        ends (the depot unless given), stores, orders."""
        veh = self.vehicles

        def coordinate(axis: str) -> np.ndarray:
            depot = veh[f"depot_{axis}"]
            return np.concatenate(
                [
                    depot.to_numpy(float),
                    veh[f"end_{axis}"].fillna(depot).to_numpy(float),
                    self.stores[axis].to_numpy(float),
                    self.orders[axis].to_numpy(float),
                ]
            )

        return coordinate("lat"), coordinate("lon")


def _read_inputs(
    orders: TableSource,
    vehicles: TableSource | None,
    stores: TableSource | None,
    fleet: FleetSpec | None,
    origin: datetime,
) -> _Inputs:
    o_label = _label(orders, "orders")
    v_label = _label(vehicles, "vehicles")
    s_label = _label(stores, "stores")
    o = read_orders(orders, origin=origin, name=o_label)
    if vehicles is not None and fleet is not None:
        raise InputError(
            "--vehicles", "give a vehicles file or the --fleet-size shorthand, not both"
        )
    if vehicles is not None:
        veh = read_vehicles(vehicles, origin=origin, name=v_label)
    elif fleet is not None:
        veh = fleet_vehicles(fleet)
        v_label = "--depot"
    else:
        raise InputError(
            "--vehicles", "no fleet given: use --vehicles or --fleet-size with --depot"
        )
    st = (
        read_stores(stores, origin=origin, name=s_label)
        if stores is not None
        else read_stores(pd.DataFrame(columns=["store_id", "lat", "lon"]), origin=origin)
    )
    check_store_ids(
        o,
        st["store_id"],
        orders_label=o_label,
        stores_label=s_label if stores is not None else None,
    )
    store_index = pd.Series(np.arange(len(st)), index=st["store_id"].to_numpy())
    order_store = o["store_id"].map(store_index).fillna(-1).to_numpy(dtype=np.int64)
    lines = [
        *lookalike_warnings(o, ORDER_COLUMNS, o_label),
        *(lookalike_warnings(veh, VEHICLE_COLUMNS, v_label) if vehicles is not None else []),
        *(lookalike_warnings(st, STORE_COLUMNS, s_label) if stores is not None else []),
    ]
    return _Inputs(o, veh, st, order_store, o_label, v_label, s_label, tuple(lines))


def _off_map(inp: _Inputs, rmap: RoadMap, snap_m: np.ndarray, max_snap_m: float) -> dict[int, str]:
    """Orders too far from the map's roads (or whose store is), with the reason. A depot too
    far, or no order on the map at all, is an input error."""
    v, m = len(inp.vehicles), len(inp.stores)
    for k in range(2 * v):
        if snap_m[k] > max_snap_m:
            fleet_file = inp.v_label != "--depot"
            raise InputError(
                inp.v_label,
                f"this point is {_km(snap_m[k])} from the nearest road of the map "
                f"{rmap.source} (at most {_km(max_snap_m)} allowed)",
                row=int(inp.vehicles.index[k % v]) if fleet_file else None,
                column=("depot_lat" if k < v else "end_lat") if fleet_file else None,
            )
    order_snap = snap_m[2 * v + m :]
    if (order_snap > max_snap_m).all():
        raise InputError(
            inp.o_label,
            f"no order lies on the map {rmap.source}: the nearest is {_km(order_snap.min())} "
            "from any road (is --map the right city?)",
            row=int(inp.orders.index[int(np.argmin(order_snap))]),
            column="lat",
        )
    excluded: dict[int, str] = {}
    for i in np.flatnonzero(order_snap > max_snap_m).tolist():
        excluded[i] = f"its location is {_km(order_snap[i])} from the nearest road of the map"
    store_snap = snap_m[2 * v : 2 * v + m]
    for i in np.flatnonzero(inp.order_store >= 0).tolist():
        s = int(inp.order_store[i])
        if store_snap[s] > max_snap_m and i not in excluded:
            excluded[i] = (
                f"its store {inp.stores['store_id'].iloc[s]} is {_km(store_snap[s])} "
                "from the nearest road"
            )
    return excluded


#: Shop times are predicted for this long before the order's delivery window opens: in
#: the suite's 2,000-order store day planned on the median (60 s), the median shop began
#: 86 min before its window (the middle half 18 to 149 min). Predicted at the fleet's
#: midday instead, a shop at a store's noon rush took 17% longer than planned there, and
#: the day's store orders were late twice as often as the others.
SHOP_LEAD_S = 90 * 60

#: Service times are predicted for instants rounded to this many seconds (one
#: prediction per distinct instant).
_SERVICE_STEP_S = 15 * 60


def service_instants(windows: np.ndarray, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """When each order's drop-off and shop are predicted for, in seconds from the plan
    origin, from its ``(orders, k, 2)`` delivery windows: the drop-off in the middle of
    the windows' span, the shop :data:`SHOP_LEAD_S` before they open; both within the
    fleet's hours ``first`` to ``last`` and rounded to a quarter of an hour."""
    start, end = windows[:, 0, 0], windows[:, -1, 1]
    drop = np.clip((start + end) // 2, first, last)
    shop = np.clip(start - SHOP_LEAD_S, first, last)
    step = _SERVICE_STEP_S
    return (drop + step // 2) // step * step, (shop + step // 2) // step * step


def service_at(
    eta: EtaProvider,
    rmap: RoadMap,
    *,
    is_shop: np.ndarray,
    items: np.ndarray,
    store_id: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    origin: datetime,
    at: np.ndarray,
) -> np.ndarray:
    """The ETA provider's service seconds of each stop at its own instant ``at`` (seconds
    from ``origin``; -1: no stop, 0 seconds): one prediction of every stop by a provider
    with ``service_s_each`` (:class:`~fleetroute.eta_model.learned.LearnedEta`), else one
    per distinct instant."""
    out = np.zeros(at.shape[0], dtype=np.float64)
    stops = {"is_shop": is_shop, "items": items, "store_id": store_id, "lat": lat, "lon": lon}
    each = getattr(eta, "service_s_each", None)
    if each is not None:
        rows = np.flatnonzero(at >= 0)
        when = [origin + timedelta(seconds=int(t)) for t in at[rows].tolist()]
        out[rows] = each(rmap, **{k: v[rows] for k, v in stops.items()}, when=when)
        return out
    for t in np.unique(at[at >= 0]).tolist():
        rows = np.flatnonzero(at == t)
        at_t = origin + timedelta(seconds=int(t))
        out[rows] = eta.service_s(rmap, **{k: v[rows] for k, v in stops.items()}, when=at_t)
    return out


def _service_times(
    inp: _Inputs,
    rmap: RoadMap,
    eta: EtaProvider,
    origin: datetime,
    at: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Each order's drop-off seconds (orders.csv ``service_s`` where given) and shop seconds
    at its store (0 without one), from the ETA provider at the instants ``at`` gives
    (drop-off, shop; :func:`service_instants`)."""
    drop_at, shop_at = at
    dropoff = _predicted(inp, rmap, eta, origin, drop_at, shop=False)
    given = inp.orders["service_s"].to_numpy(dtype=float)
    dropoff = np.where(np.isnan(given), dropoff, given)
    return dropoff, _shop_times(inp, rmap, eta, origin, shop_at)


def _shop_times(
    inp: _Inputs, rmap: RoadMap, eta: EtaProvider, origin: datetime, at: np.ndarray
) -> np.ndarray:
    """Each order's shop seconds at its store if the shop begins at ``at`` (seconds from
    ``origin``), 0 without a store."""
    with_store = inp.order_store >= 0
    shop = _predicted(inp, rmap, eta, origin, np.where(with_store, at, -1), shop=True)
    return np.where(with_store, shop, 0.0)


def _predicted(
    inp: _Inputs, rmap: RoadMap, eta: EtaProvider, origin: datetime, at: np.ndarray, *, shop: bool
) -> np.ndarray:
    """The ETA provider's seconds of each order's drop-off (at its address) or shop (at
    its store) at ``at`` (seconds from ``origin``; -1: none, 0 seconds)."""
    o, st = inp.orders, inp.stores
    where = st.iloc[np.maximum(inp.order_store, 0)] if shop and len(st) else o
    return service_at(
        eta,
        rmap,
        is_shop=np.full(len(o), shop),
        items=o["items"].to_numpy(dtype=np.int64),
        store_id=np.where(inp.order_store >= 0, o["store_id"].to_numpy(object), ""),
        lat=where["lat"].to_numpy(float),
        lon=where["lon"].to_numpy(float),
        origin=origin,
        at=at,
    )


def _shop_bands(
    inp: _Inputs, rmap: RoadMap, eta: EtaProvider, origin: datetime, band_start_s: np.ndarray
) -> np.ndarray:
    """Each order's shop seconds in each travel band (``Problem.shop_band_s``), predicted
    for the middle of the band (a store's rush hour makes its shops slower); ``(orders,
    0)`` with one band or no store order."""
    n = len(inp.orders)
    if band_start_s.shape[0] < 2 or not (inp.order_store >= 0).any():
        return np.zeros((n, 0), dtype=np.int64)
    return np.column_stack(
        [
            np.rint(_shop_times(inp, rmap, eta, origin, np.full(n, t)))
            for t in band_middles(band_start_s).tolist()
        ]
    ).astype(np.int64)


def band_middles(band_start_s: np.ndarray) -> np.ndarray:
    """The middle of each of at least two travel bands (seconds from the origin; the last
    as wide as the one before): the instant hour-dependent shop times are predicted for."""
    width = np.diff(band_start_s)
    return band_start_s + np.append(width, width[-1]) // 2


def _has_spreads(eta: Any) -> bool:
    """Whether ``eta`` is a learned model that knows how uncertain its times are."""
    from fleetroute.eta_model.learned import SPREAD_QUANTILE, LearnedEta

    return isinstance(eta, LearnedEta) and SPREAD_QUANTILE in eta.model.travel_boosters_


def _spreads(
    inp: _Inputs,
    rmap: RoadMap,
    eta: Any,
    origin: datetime,
    at: tuple[np.ndarray, np.ndarray],
    node: np.ndarray,
    band_starts: list[datetime],
    planned: tuple[np.ndarray, np.ndarray],
) -> dict[str, Any]:
    """How uncertain a learned ETA's times are (``travel_sd``, ``dropoff_sd``,
    ``shop_sd`` of :class:`Problem`): travel per band from the provider, each service as
    log(0.9 quantile / median) / 1.2816 at the instant it is predicted for (``planned``:
    the service times already predicted, the median when the plan is made on it); and
    the quantile the plan is made on (``plan_quantile``)."""
    from fleetroute.eta_model.learned import SPREAD_QUANTILE, Z_SPREAD

    travel = eta.travel_spread(rmap, node, band_starts=band_starts)
    median = (
        planned
        if eta.quantile == 0.5
        else _service_times(inp, rmap, eta.at_quantile(0.5), origin, at)
    )
    high = _service_times(inp, rmap, eta.at_quantile(SPREAD_QUANTILE), origin, at)
    dropoff_sd, shop_sd = (
        np.maximum(0.0, np.log(np.maximum(hi, 1.0) / np.maximum(mid, 1.0))) / Z_SPREAD
        for mid, hi in zip(median, high, strict=True)
    )
    return {
        "travel_sd": travel,
        "dropoff_sd": dropoff_sd,
        "shop_sd": shop_sd,
        "plan_quantile": float(eta.quantile),
    }


def _vehicle_limits(inp: _Inputs) -> dict[str, Any]:
    """Capacity, stop limit and break of each vehicle (unlimited or none where not given);
    a break that cannot fall inside its shift is an input error."""
    veh = inp.vehicles
    shift_start = veh["shift_start"].to_numpy(dtype=np.int64)
    shift_end = veh["shift_end"].to_numpy(dtype=np.int64)
    break_s = _int64(veh["break_s"].astype("Int64").fillna(0))
    break_start = _int64(
        veh["break_start"].astype("Int64").fillna(pd.Series(shift_start, index=veh.index))
    )
    break_end = _int64(
        veh["break_end"].astype("Int64").fillna(pd.Series(shift_end, index=veh.index))
    )
    outside = (break_s > 0) & ((break_start < shift_start) | (break_end + break_s > shift_end))
    if outside.any():
        k = int(np.flatnonzero(outside)[0])
        early = bool(break_start[k] < shift_start[k])
        raise InputError(
            inp.v_label,
            "the break must fall inside the shift"
            + (" (it may start before the shift starts)" if early else " (it may end after it)"),
            row=int(veh.index[k]) if inp.v_label != "--depot" else None,
            column="break_start" if early else "break_end",
        )
    return {
        "capacity": _int64(veh["capacity"].astype("Int64").fillna(UNLIMITED)),
        "max_stops": _int64(veh["max_stops"].astype("Int64").fillna(UNLIMITED)),
        "max_route_s": _int64(veh["max_route_s"].astype("Int64").fillna(UNLIMITED)),
        "max_distance_m": _int64(veh["max_distance_m"].astype("Int64").fillna(UNLIMITED)),
        "reload_s": _int64(veh["reload_s"].astype("Int64").fillna(-1)),
        "break_start_s": break_start,
        "break_end_s": break_end,
        "break_s": break_s,
    }


#: Skills are bits of one int64 mask.
_MAX_SKILLS = 62


def _labels(cell: str) -> set[str]:
    """The labels of a ``;``-separated skills cell."""
    return {part.strip() for part in str(cell).split(";") if part.strip()}


def _skills(inp: _Inputs) -> dict[str, Any]:
    """Skill names (every label of the orders and vehicles) and each one's mask."""
    needed = [_labels(cell) for cell in inp.orders["skills"]]
    has = [_labels(cell) for cell in inp.vehicles["skills"]]
    names = sorted(set().union(*needed, *has))
    if len(names) > _MAX_SKILLS:
        raise InputError(
            inp.o_label,
            f"the orders and vehicles name {len(names)} different skills; at most "
            f"{_MAX_SKILLS} are planned",
            column="skills",
        )
    bit = {name: 1 << b for b, name in enumerate(names)}

    def mask(labels: set[str]) -> int:
        return sum(bit[label] for label in labels if label in bit)

    return {
        "skill_names": tuple(names),
        "order_skills": np.array([mask(s) for s in needed], dtype=np.int64),
        "vehicle_skills": np.array([mask(labels) for labels in has], dtype=np.int64),
    }


def _dimensions(inp: _Inputs) -> dict[str, Any]:
    """Extra capacity dimensions: every ``demand_<name>`` of the orders and
    ``capacity_<name>`` of the vehicles (a dimension a vehicle does not list is unlimited
    for it; one the orders do not list weighs nothing)."""
    o, veh = inp.orders, inp.vehicles
    names = sorted(
        {c[len("demand_") :] for c in o.columns if c.startswith("demand_")}
        | {c[len("capacity_") :] for c in veh.columns if c.startswith("capacity_")}
    )

    def column(table: pd.DataFrame, name: str, fill: int) -> np.ndarray:
        if name not in table.columns:
            return np.full(len(table), fill, dtype=np.int64)
        return _int64(table[name].astype("Int64").fillna(fill))

    demand = [column(o, f"demand_{name}", 0) for name in names]
    capacity = [column(veh, f"capacity_{name}", UNLIMITED) for name in names]
    return {
        "dim_names": tuple(names),
        "dim_demand": np.column_stack(demand) if names else np.zeros((len(o), 0), np.int64),
        "dim_capacity": (np.column_stack(capacity) if names else np.zeros((len(veh), 0), np.int64)),
    }


def check_inputs(
    orders: TableSource,
    vehicles: TableSource | None = None,
    *,
    stores: TableSource | None = None,
    fleet: FleetSpec | None = None,
    plan_date: date | None = None,
) -> None:
    """Read and check a day's orders, vehicles and stores as :func:`plan` does, without a
    map or a search (what can be known before snapping).

    Raises
    ------
    InputError
        The first bad cell, with its file (or table name), row and column.
    """
    _read_inputs(orders, vehicles, stores, fleet, origin_of(plan_date or date.today()))


def plan(
    orders: TableSource,
    vehicles: TableSource | None = None,
    *,
    road_map: RoadMap | str | Path,
    stores: TableSource | None = None,
    fleet: FleetSpec | None = None,
    plan_date: date | None = None,
    eta: EtaProvider | None = None,
    time_limit_s: float = 10.0,
    solution_limit: int | None = None,
    seed: int = 0,
    max_snap_m: float = MAX_SNAP_M,
    backend: str = "auto",
    workers: int | None = None,
    locks: TableSource | None = None,
    zone_orders: int | None = SolveOptions.zone_orders,
    progress: Progress | None = None,
) -> Plan:
    """Plan a day: which vehicle takes which order, in what sequence, at what times.

    Parameters are those of :func:`build_problem`, plus the search: ``time_limit_s``
    (wall clock), ``solution_limit`` (a deterministic effort limit instead), ``seed``,
    ``backend`` (``auto``, ``pyvrp`` or ``ortools``), ``workers`` (parallel searches) and
    ``zone_orders`` (big OR-Tools days are searched in sectors of about this many orders);
    see :class:`fleetroute.SolveOptions`. ``progress`` is called with each step as it
    starts and, while OR-Tools searches, with the cost of each better plan. ``locks``
    (``vehicle_id, order_id[, seq]``) ties orders to vehicles and, where ``seq`` is given,
    keeps those drop-offs in that order.

    Returns
    -------
    Plan
        ``plan.routes_table()``, ``plan.summary()`` and ``plan.unassigned_table()`` are the
        contents of routes.csv and plan.json.

    Examples
    --------
    >>> import fleetroute
    >>> city = fleetroute.maps.load("examples/city.graphml")        # once
    >>> p = fleetroute.plan("examples/orders.csv", "examples/vehicles.csv",
    ...                     road_map=city, stores="examples/stores.csv")  # doctest: +SKIP
    """
    rmap = road_map_of(road_map)
    eta = eta or FreeFlow()
    timings: dict[str, float] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        problem, extra = build_problem(
            orders,
            vehicles,
            road_map=rmap,
            stores=stores,
            fleet=fleet,
            plan_date=plan_date,
            eta=eta,
            max_snap_m=max_snap_m,
            timings=timings,
            progress=progress,
        )
    for w in caught:  # shown to the caller as usual, and kept in plan.json
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    said = [str(w.message) for w in caught if issubclass(w.category, InputWarning)]
    if locks is not None:
        vehicle, rank = _read_locks(locks, problem)
        problem = problem.replace(order_vehicle=vehicle, order_rank=rank)
    inputs: dict[str, Any] = {
        "map": rmap.source,
        "map_fingerprint": rmap.fingerprint,
        "model": eta.name,
        "date": problem.origin.date().isoformat(),
        "orders": _label(orders, "DataFrame"),
        "vehicles": _label(vehicles, "DataFrame") if vehicles is not None else "fleet shorthand",
        "stores": _label(stores, "DataFrame") if stores is not None else None,
        "max_snap_m": max_snap_m,
        "solution_limit": solution_limit,
        "locks": _label(locks, "DataFrame") if locks is not None else None,
        "warnings": said,
    }
    options = SolveOptions(
        time_limit_s=time_limit_s,
        solution_limit=solution_limit,
        seed=seed,
        backend=backend,
        workers=workers,
        zone_orders=zone_orders,
        inputs=inputs,
        on_solution=None if progress is None else lambda cost: progress("searching", cost),
    )
    if progress is not None:
        progress(f"searching ({time_limit_s:g} s at most)", None)
    result = solve(problem, options)
    return Plan(
        problem=result.problem,
        routes=result.routes,
        unassigned=result.unassigned,
        solve_time_s=result.solve_time_s,
        inputs=result.inputs,
        order_extra=extra,
        timings={**timings, **result.timings},
    )


#: The columns of a locks file: which vehicle an order must go on, and optionally in what
#: sequence among that vehicle's locked drop-offs.
LOCK_COLUMNS = (
    Column("vehicle_id", "text", required=True),
    Column("order_id", "text", required=True),
    Column("seq", "count"),
)


def _read_locks(source: TableSource, p: Problem) -> tuple[np.ndarray, np.ndarray]:
    """``order_vehicle`` and ``order_rank`` arrays from a locks table."""
    label = _label(source, "locks")
    table = read_table(source, LOCK_COLUMNS, origin=p.origin, name=label)
    vehicle_index = {v: i for i, v in enumerate(p.vehicle_id)}
    order_index = {o: i for i, o in enumerate(p.order_id)}
    vehicle = p.order_vehicle.copy()
    rank = p.order_rank.copy()
    for row, rec in zip(table.index, table.to_dict("records"), strict=True):
        if rec["vehicle_id"] not in vehicle_index:
            raise InputError(
                label, f"unknown vehicle '{rec['vehicle_id']}'", row=int(row), column="vehicle_id"
            )
        if rec["order_id"] not in order_index:
            raise InputError(
                label, f"unknown order '{rec['order_id']}'", row=int(row), column="order_id"
            )
        i = order_index[rec["order_id"]]
        if vehicle[i] >= 0:
            raise InputError(
                label, f"order '{rec['order_id']}' is locked twice", row=int(row), column="order_id"
            )
        vehicle[i] = vehicle_index[rec["vehicle_id"]]
        rank[i] = -1 if pd.isna(rec["seq"]) else int(rec["seq"])
    return vehicle, rank


@contextmanager
def stop_on_ctrl_c(notice: Callable[[], None] | None = None) -> Iterator[None]:
    """Within this block (in the main thread), Ctrl-C ends the searches early with the best
    plan each has instead of raising ``KeyboardInterrupt``; a plan made so says
    ``inputs["search"]["stopped_early"]``. ``notice`` is called at the first Ctrl-C; a
    second one raises ``KeyboardInterrupt`` as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def first(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        STOP.set()
        if notice is not None:
            notice()

    STOP.clear()
    before = signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
        STOP.clear()
