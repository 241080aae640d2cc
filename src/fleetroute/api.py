"""The composition the CLI and dispatch systems call: inputs + map + ETAs -> Problem -> Plan."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fleetroute.errors import InputError
from fleetroute.eta_model.baseline import EtaProvider, FreeFlow
from fleetroute.io.readers import (
    FleetSpec,
    check_store_ids,
    fleet_vehicles,
    read_orders,
    read_stores,
    read_vehicles,
)
from fleetroute.io.tables import Column, TableSource, read_table
from fleetroute.maps.load import load as load_map
from fleetroute.maps.roadmap import RoadMap
from fleetroute.routing.plan import Plan
from fleetroute.routing.problem import UNLIMITED, Problem
from fleetroute.routing.screen import screen
from fleetroute.routing.solve import SolveOptions, solve
from fleetroute.times import format_time, origin_of, parse_time_s

if TYPE_CHECKING:
    from fleetroute.eta_model.model import EtaModel

__all__ = [
    "plan",
    "build_problem",
    "train_eta",
    "predict_eta",
    "evaluate_eta",
    "monitor_eta",
    "bench_vrplib",
    "check_routes",
    "insert_order",
    "replan",
    "late_risk",
    "plan_report",
    "MAX_SNAP_M",
]

#: The columns `check_routes` reads from a routes.csv made elsewhere (others are ignored).
ROUTE_INPUT_COLUMNS = (
    Column("vehicle_id", "text", required=True),
    Column("seq", "count", required=True),
    Column("kind", "text", required=True),
    Column("order_id", "text", default=""),
)

#: A stop farther than this from the nearest road node is not planned.
MAX_SNAP_M = 1000.0


def _label(source: TableSource | None, default: str) -> str:
    if source is None:
        return default
    if isinstance(source, pd.DataFrame):
        return str(source.attrs.get("source", default))
    return str(source)


#: A progress display: called with what is being done now and, while the solver searches,
#: the cost of its best plan so far (None otherwise).
Progress = Callable[[str, "float | None"], None]


class _Stopwatch:
    """Records the seconds between laps into a dict, when one is given, and tells a
    progress display what comes next."""

    def __init__(self, into: dict[str, float] | None, progress: Progress | None = None) -> None:
        self.into = into
        self.progress = progress
        self.last = time.perf_counter()

    def lap(self, stage: str, next_step: str | None = None) -> None:
        now = time.perf_counter()
        if self.into is not None:
            self.into[stage] = self.into.get(stage, 0.0) + now - self.last
        self.last = now
        if next_step is not None and self.progress is not None:
            self.progress(next_step, None)


def _int64(values: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.asarray(values, dtype=np.int64)


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


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
    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
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
    codes = o["store_id"].map(store_index)
    order_store = codes.fillna(-1).to_numpy(dtype=np.int64)

    v, m, n = len(veh), len(st), len(o)
    end_lat = veh["end_lat"].fillna(veh["depot_lat"]).to_numpy(dtype=float)
    end_lon = veh["end_lon"].fillna(veh["depot_lon"]).to_numpy(dtype=float)
    loc_lat = np.concatenate(
        [
            veh["depot_lat"].to_numpy(float),
            end_lat,
            st["lat"].to_numpy(float),
            o["lat"].to_numpy(float),
        ]
    )
    loc_lon = np.concatenate(
        [
            veh["depot_lon"].to_numpy(float),
            end_lon,
            st["lon"].to_numpy(float),
            o["lon"].to_numpy(float),
        ]
    )
    clock.lap("read", "snapping places to the map")
    node, snap_m = rmap.snap(loc_lat, loc_lon)
    clock.lap("snap", f"travel times between {np.unique(node).size} places ({eta.name})")

    for k in range(2 * v):
        if snap_m[k] > max_snap_m:
            row = int(veh.index[k % v])
            col = "depot_lat" if k < v else "end_lat"
            raise InputError(
                v_label,
                f"this point is {_km(snap_m[k])} from the nearest road of the map "
                f"{rmap.source} (at most {_km(max_snap_m)} allowed)",
                row=row if v_label != "--depot" else None,
                column=col if v_label != "--depot" else None,
            )
    order_snap = snap_m[2 * v + m :]
    if (order_snap > max_snap_m).all():
        raise InputError(
            o_label,
            f"no order lies on the map {rmap.source}: the nearest is {_km(order_snap.min())} "
            "from any road (is --map the right city?)",
            row=int(o.index[int(np.argmin(order_snap))]),
            column="lat",
        )
    excluded: dict[int, str] = {}
    for i in np.flatnonzero(order_snap > max_snap_m).tolist():
        excluded[i] = f"its location is {_km(order_snap[i])} from the nearest road of the map"
    store_snap = snap_m[2 * v : 2 * v + m]
    for i in np.flatnonzero(order_store >= 0).tolist():
        s = int(order_store[i])
        if store_snap[s] > max_snap_m and i not in excluded:
            excluded[i] = (
                f"its store {st['store_id'].iloc[s]} is {_km(store_snap[s])} from the nearest road"
            )

    shift_start = veh["shift_start"].to_numpy(dtype=np.int64)
    shift_end = veh["shift_end"].to_numpy(dtype=np.int64)
    band_starts, band_f, dist_f = eta.travel_bands(
        rmap,
        node,
        start=origin + timedelta(seconds=int(shift_start.min())),
        end=origin + timedelta(seconds=int(shift_end.max())),
    )
    bands = np.rint(band_f).astype(np.int64)
    # the fastest band: screening stays optimistic (one band: itself, not a copy)
    travel = bands[0] if len(bands) == 1 else bands.min(axis=0)
    dist = np.rint(dist_f).astype(np.int64)
    clock.lap("matrix")

    idle = travel[np.arange(v), np.arange(v) + v]
    bad = np.flatnonzero(shift_start + idle > shift_end)
    if bad.size:
        k = int(bad[0])
        raise InputError(
            v_label,
            f"the vehicle cannot drive from its depot to its end location within its shift "
            f"({idle[k]} s needed)",
            row=int(veh.index[k]),
            column="shift_end",
        )

    ws = _int64(o["window_start"].astype("Int64").fillna(int(shift_start.min())))
    we = _int64(o["window_end"].astype("Int64").fillna(int(shift_end.max())))
    items = o["items"].to_numpy(dtype=np.int64)
    store_ids = np.where(order_store >= 0, o["store_id"].to_numpy(object), "")
    midday = origin + timedelta(seconds=int((shift_start.min() + shift_end.max()) // 2))
    dropoff = eta.service_s(
        rmap,
        is_shop=np.zeros(n, bool),
        items=items,
        store_id=store_ids,
        lat=o["lat"].to_numpy(float),
        lon=o["lon"].to_numpy(float),
        when=midday,
    )
    given = o["service_s"].to_numpy(dtype=float)
    dropoff = np.where(np.isnan(given), dropoff, given)
    s_idx = np.maximum(order_store, 0)
    shop = eta.service_s(
        rmap,
        is_shop=np.ones(n, bool),
        items=items,
        store_id=store_ids,
        lat=st["lat"].to_numpy(float)[s_idx] if m else o["lat"].to_numpy(float),
        lon=st["lon"].to_numpy(float)[s_idx] if m else o["lon"].to_numpy(float),
        when=midday,
    )
    shop = np.where(order_store >= 0, shop, 0.0)
    capacity = _int64(veh["capacity"].astype("Int64").fillna(UNLIMITED))
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
            v_label,
            "the break must fall inside the shift"
            + (" (it may start before the shift starts)" if early else " (it may end after it)"),
            row=int(veh.index[k]) if v_label != "--depot" else None,
            column="break_start" if early else "break_end",
        )
    max_stops = _int64(veh["max_stops"].astype("Int64").fillna(UNLIMITED))

    problem = Problem(
        origin=origin,
        loc_lat=loc_lat,
        loc_lon=loc_lon,
        travel_s=travel,
        distance_m=dist,
        order_id=tuple(o["order_id"].tolist()),
        order_loc=np.arange(n) + 2 * v + m,
        order_store=order_store,
        demand=o["demand"].to_numpy(np.int64),
        items=items,
        window_start_s=ws,
        window_end_s=we,
        dropoff_s=np.rint(dropoff).astype(np.int64),
        shop_s=np.rint(shop).astype(np.int64),
        priority=o["priority"].to_numpy(float),
        store_id=tuple(st["store_id"].tolist()),
        store_loc=np.arange(m) + 2 * v,
        store_open_s=st["open"].to_numpy(np.int64),
        store_close_s=st["close"].to_numpy(np.int64),
        vehicle_id=tuple(veh["vehicle_id"].tolist()),
        start_loc=np.arange(v),
        end_loc=np.arange(v) + v,
        capacity=capacity,
        shift_start_s=shift_start,
        shift_end_s=shift_end,
        fixed_cost=veh["fixed_cost"].to_numpy(float),
        cost_per_hour=veh["cost_per_hour"].to_numpy(float),
        cost_per_km=veh["cost_per_km"].to_numpy(float),
        max_stops=max_stops,
        break_start_s=break_start,
        break_end_s=break_end,
        break_s=break_s,
        excluded=excluded,
        band_start_s=_int64([(b - origin).total_seconds() for b in band_starts]),
        band_travel_s=bands.astype(np.int32) if len(band_starts) > 1 else None,
    )
    declared = {
        "order_id",
        "lat",
        "lon",
        "store_id",
        "items",
        "demand",
        "window_start",
        "window_end",
        "service_s",
        "priority",
    }
    extra = o[[c for c in o.columns if c not in declared]].reset_index(drop=True)
    return problem, extra


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
    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
    eta = eta or FreeFlow()
    timings: dict[str, float] = {}
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


def _with_places(
    p: Problem, lat: Sequence[float], lon: Sequence[float], rmap: RoadMap, eta: EtaProvider
) -> tuple[Problem, list[int], np.ndarray]:
    """``p`` with new locations added (matrices grown by their legs alone, in every band);
    their location indices and their distances from the map in metres."""
    n_old, m = p.loc_lat.shape[0], len(lat)
    nodes, snap_m = rmap.snap(np.append(p.loc_lat, lat), np.append(p.loc_lon, lon))
    new, everything = nodes[n_old:], nodes
    total = n_old + m
    band_starts = [p.origin + timedelta(seconds=int(b)) for b in p.band_start_s] or [p.origin]
    # legs from each new place to every place, and from every old place into each new one
    o = np.concatenate([np.repeat(new, total), np.tile(nodes[:n_old], m)])
    d = np.concatenate([np.tile(everything, m), np.repeat(new, n_old)])
    secs, metres = eta.leg_bands(rmap, o, d, band_starts=band_starts)
    same = o == d
    secs[:, same] = 0.0
    metres[same] = 0.0
    secs_i = np.rint(secs).astype(np.int64)
    metres_i = np.rint(metres).astype(np.int64)
    rows = (slice(n_old, total), slice(0, total))
    cols = (slice(0, n_old), slice(n_old, total))

    def grow(matrix: np.ndarray, values: np.ndarray) -> np.ndarray:
        lead = matrix.shape[:-2]
        out = np.zeros((*lead, total, total), dtype=matrix.dtype)
        out[..., :n_old, :n_old] = matrix
        out[(..., *rows)] = values[..., : m * total].reshape(*lead, m, total)
        out[(..., *cols)] = values[..., m * total :].reshape(*lead, m, n_old).swapaxes(-1, -2)
        return out

    grown = p.replace(
        loc_lat=np.append(p.loc_lat, lat),
        loc_lon=np.append(p.loc_lon, lon),
        travel_s=grow(p.travel_s, secs_i.min(axis=0)),
        distance_m=grow(p.distance_m, metres_i),
        band_travel_s=None if p.band_travel_s is None else grow(p.band_travel_s, secs_i),
    )
    return grown, list(range(n_old, total)), snap_m[n_old:]


def insert_order(
    plan: Plan,
    order: Mapping[str, Any] | pd.DataFrame,
    *,
    road_map: RoadMap | str | Path,
    eta: EtaProvider | None = None,
    max_snap_m: float = MAX_SNAP_M,
) -> Plan:
    """Add one new order to a plan where it costs least, leaving every other stop as it is.

    Only the new order's legs to and from the plan's places are computed (two searches
    on the map), and every route and position is tried with the plan's own schedule, so
    it takes well under a second for a 500-order day (benchmarks/results/dispatch.md).

    Parameters
    ----------
    plan
        A plan made by :func:`plan` (or an earlier :func:`insert_order`).
    order
        One order with the columns of orders.csv (a dict or a one-row DataFrame); its
        ``store_id``, if any, must be one of the plan's stores.
    road_map, eta
        The map and ETA source the plan was made with.

    Returns
    -------
    Plan
        The same routes with the order added, or with the order in ``unassigned`` and the
        constraint that kept it out.
    """
    from fleetroute.routing.insert import cheapest_insertion, why_left_out

    p = plan.problem
    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
    eta = eta or FreeFlow()
    frame = order if isinstance(order, pd.DataFrame) else pd.DataFrame([dict(order)])
    o = read_orders(frame, origin=p.origin, name="order")
    if len(o) != 1:
        raise InputError("order", f"give exactly one order, not {len(o)}")
    if o["order_id"].iloc[0] in p.order_id:
        raise InputError("order", f"order '{o['order_id'].iloc[0]}' is already in the plan")
    store_name = o["store_id"].iloc[0]
    store = p.store_id.index(store_name) if store_name in p.store_id else -1
    if store_name and store < 0:
        raise InputError("order", f"unknown store '{store_name}'", row=2, column="store_id")
    lat, lon = float(o["lat"].iloc[0]), float(o["lon"].iloc[0])
    grown, (n_loc,), snap_m = _with_places(p, [lat], [lon], rmap, eta)
    items = int(o["items"].iloc[0])
    midday = p.origin + timedelta(seconds=int((p.shift_start_s.min() + p.shift_end_s.max()) // 2))
    service = eta.service_s(
        rmap,
        is_shop=[False, True],
        items=[items, items],
        store_id=[store_name, store_name],
        lat=[lat, p.loc_lat[p.store_loc[store]] if store >= 0 else lat],
        lon=[lon, p.loc_lon[p.store_loc[store]] if store >= 0 else lon],
        when=midday,
    )
    given = float(o["service_s"].iloc[0])
    window_start = o["window_start"].astype("Int64").fillna(int(p.shift_start_s.min())).iloc[0]
    window_end = o["window_end"].astype("Int64").fillna(int(p.shift_end_s.max())).iloc[0]
    excluded = dict(p.excluded)
    if snap_m[0] > max_snap_m:
        excluded[p.n_orders] = f"its location is {_km(snap_m[0])} from the nearest road of the map"
    bigger = grown.replace(
        order_id=(*p.order_id, str(o["order_id"].iloc[0])),
        order_loc=np.append(p.order_loc, n_loc),
        order_store=np.append(p.order_store, store),
        demand=np.append(p.demand, int(o["demand"].iloc[0])),
        items=np.append(p.items, items),
        window_start_s=np.append(p.window_start_s, int(window_start)),
        window_end_s=np.append(p.window_end_s, int(window_end)),
        dropoff_s=np.append(p.dropoff_s, round(service[0] if np.isnan(given) else given)),
        shop_s=np.append(p.shop_s, round(service[1]) if store >= 0 else 0),
        priority=np.append(p.priority, float(o["priority"].iloc[0])),
        order_vehicle=np.append(p.order_vehicle, -1),
        order_rank=np.append(p.order_rank, -1),
        excluded=excluded,
    )
    index = p.n_orders
    unassigned = dict(plan.unassigned)
    routes = list(plan.routes)
    reason = excluded.get(index) or screen(bigger, np.array([index])).get(index)
    if reason is None:
        found = cheapest_insertion(bigger, routes, index)
        if found is None:
            reason = why_left_out(bigger, routes, index)
        else:
            routes = [r for r in routes if r.vehicle != found.route.vehicle] + [found.route]
            routes.sort(key=lambda r: r.vehicle)
    if reason is not None:
        unassigned[index] = reason
    extra = plan.order_extra
    if extra is not None:
        extra = pd.concat([extra, pd.DataFrame(index=[len(extra)])], ignore_index=True)
    return Plan(
        bigger,
        tuple(routes),
        unassigned,
        plan.solve_time_s,
        plan.inputs,
        order_extra=extra,
        timings=plan.timings,
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


def _seconds_of(when: datetime | str | int, p: Problem) -> int:
    if isinstance(when, int):
        return when
    if isinstance(when, str):
        return int(parse_time_s(when, p.origin))
    return int((when - p.origin).total_seconds())


def replan(
    plan: Plan,
    *,
    now: datetime | str | int,
    road_map: RoadMap | str | Path,
    eta: EtaProvider | None = None,
    done: Sequence[str] | None = None,
    picked_up: Sequence[str] = (),
    positions: Mapping[str, tuple[float, float]] | None = None,
    keep: str = "none",
    time_limit_s: float = 10.0,
    solution_limit: int | None = None,
    seed: int = 0,
    backend: str = "auto",
    workers: int | None = None,
) -> Plan:
    """Plan the rest of the day from where the fleet is now.

    Parameters
    ----------
    plan
        The plan being driven (from :func:`plan`, :func:`check_routes` or an earlier
        :func:`replan`).
    now
        The time of the re-plan: a datetime, ``HH:MM`` on the plan date, or seconds.
    done
        Order ids already delivered. ``None``: every stop whose planned departure is at or
        before ``now`` is done (the plan was driven as planned).
    picked_up
        Order ids shopped at their store but not yet delivered (beside the pickups that
        ``done=None`` infers). They stay on the vehicle that carries them.
    positions
        ``vehicle_id -> (lat, lon)`` of vehicles on the road. Others continue from their
        last done stop, or their depot when they have not left it.
    keep
        ``none`` (any order may move), ``vehicle`` (orders stay on their vehicle) or
        ``sequence`` (and in their planned order; new stops may go in between).

    Returns
    -------
    Plan
        A plan of the remaining orders with vehicles starting where they are, no earlier
        than ``now``; delivered orders are not in it.
    """
    if keep not in ("none", "vehicle", "sequence"):
        raise InputError("--keep", f"must be none, vehicle or sequence, not {keep!r}")
    p = plan.problem
    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
    eta = eta or FreeFlow()
    now_s = _seconds_of(now, p)
    index = {o: i for i, o in enumerate(p.order_id)}
    unknown = [o for o in [*(done or ()), *picked_up] if o not in index]
    if unknown:
        raise InputError("done", f"unknown order '{unknown[0]}'")
    delivered = {index[o] for o in done} if done is not None else set()
    carried = {index[o] for o in picked_up}
    positions = dict(positions or {})
    bad = [v for v in positions if v not in p.vehicle_id]
    if bad:
        raise InputError("positions", f"unknown vehicle '{bad[0]}'")

    start_loc = p.start_loc.copy()
    ready = np.maximum(p.shift_start_s, now_s)
    break_s = p.break_s.copy()
    on_vehicle = p.order_vehicle.copy()
    rank = p.order_rank.copy()
    for sched in plan.schedules:
        route, k = sched.route, sched.route.vehicle
        stops = list(zip(route.kinds, route.orders, strict=True))
        if done is None:
            finished = [j for j in range(len(stops)) if sched.departure_s[j + 1] <= now_s]
            for j in finished:
                kind, i = stops[j]
                if kind == "break":
                    break_s[k] = 0  # taken
                else:
                    (delivered if kind == "dropoff" else carried).add(i)
        else:
            finished = [
                j
                for j, (kind, i) in enumerate(stops)
                if i in delivered or (i in carried and kind == "pickup")
            ]
        if finished:
            last = max(finished)
            start_loc[k] = sched.loc[last + 1]
            ready[k] = max(now_s, int(sched.departure_s[last + 1]))
        for j, (kind, i) in enumerate(stops):
            if i < 0:
                continue
            if i in carried and kind == "pickup":
                on_vehicle[i] = k
            if keep != "none" and kind == "dropoff" and i not in delivered:
                on_vehicle[i] = k
                if keep == "sequence":
                    rank[i] = j
    carried -= delivered
    for i in carried:
        if on_vehicle[i] < 0:
            raise InputError("picked_up", f"order '{p.order_id[i]}' is on no vehicle's route")

    names = list(positions)
    grown, locs, snap_m = _with_places(
        p, [positions[v][0] for v in names], [positions[v][1] for v in names], rmap, eta
    )
    for v, loc, metres in zip(names, locs, snap_m, strict=True):
        if metres > MAX_SNAP_M:
            raise InputError("positions", f"vehicle '{v}' is {_km(metres)} from any road")
        start_loc[p.vehicle_id.index(v)] = loc
    remaining = [i for i in range(p.n_orders) if i not in delivered]
    carried_mask = np.isin(np.arange(p.n_orders), list(carried))
    state = grown.replace(
        start_loc=start_loc,
        shift_start_s=np.minimum(ready, p.shift_end_s),
        order_store=np.where(carried_mask, -1, p.order_store),
        shop_s=np.where(carried_mask, 0, p.shop_s),
        order_vehicle=on_vehicle,
        order_rank=rank,
        break_s=np.where(ready > p.break_end_s, 0, break_s),  # its window has passed
        break_start_s=np.maximum(p.break_start_s, np.minimum(ready, p.break_end_s)),
    ).with_orders(remaining)
    options = SolveOptions(
        time_limit_s=time_limit_s,
        solution_limit=solution_limit,
        seed=seed,
        backend=backend,
        workers=workers,
        inputs={**plan.inputs, "replanned_at": format_time(now_s, p.origin), "keep": keep},
    )
    result = solve(state, options)
    extra = plan.order_extra
    return Plan(
        state,
        result.routes,
        result.unassigned,
        result.solve_time_s,
        result.inputs,
        order_extra=None if extra is None else extra.iloc[remaining].reset_index(drop=True),
        timings=result.timings,
    )


def _history(
    trips: TableSource, stops: TableSource, *, need_duration: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    from fleetroute.io.readers import read_stops, read_trips

    def read(source: TableSource, kind: str, reader: Callable[..., pd.DataFrame]) -> pd.DataFrame:
        if isinstance(source, pd.DataFrame) or Path(source).suffix == ".csv":
            return reader(source, name=_label(source, kind), need_duration=need_duration)
        from fleetroute.distributed.training import history_files, read_history_file

        parts = [read_history_file(f, kind, need_duration) for f in history_files(source)]
        return pd.concat(parts) if len(parts) > 1 else parts[0]

    return read(trips, "trips", read_trips), read(stops, "stops", read_stops)


def train_eta(
    road_map: RoadMap | str | Path,
    trips: TableSource,
    stops: TableSource,
    *,
    quantiles: tuple[float, ...] = (0.5, 0.9),
    seed: int = 0,
    last_days: int | None = None,
    distributed: bool = False,
    scheduler: str | None = None,
    n_workers: int | None = None,
) -> EtaModel:
    """Train the LightGBM ETA model on a history of trips and stops on ``road_map``.

    ``trips`` and ``stops`` are CSV or Parquet files, folders of them, or DataFrames.
    ``last_days`` keeps only the latest that many days of the history (the day of its
    newest row counts as one): retraining from the latest actuals when the model drifts.
    With ``distributed`` (or a ``scheduler`` address), trains with ``lightgbm.dask`` on a
    Dask cluster, one partition per file (:mod:`fleetroute.distributed.training`).

    Returns the fitted :class:`~fleetroute.eta_model.EtaModel`; save it with ``.save(dir)``.
    """
    from fleetroute.eta_model.model import EtaModel, history_features

    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
    if distributed or scheduler is not None:
        from fleetroute.distributed.training import train_distributed

        if isinstance(trips, pd.DataFrame) or isinstance(stops, pd.DataFrame):
            raise InputError("--trips", "distributed training reads files, not DataFrames")
        return train_distributed(
            rmap, trips, stops, scheduler=scheduler, n_workers=n_workers,
            quantiles=quantiles, seed=seed, last_days=last_days,
        )  # fmt: skip
    t, s = _history(trips, stops, need_duration=True)
    if last_days is not None:
        newest = max(t["departure_time"].max(), s["arrival_time"].max())
        since = (newest // 86400 - (last_days - 1)) * 86400
        t, s = t[t["departure_time"] >= since], s[s["arrival_time"] >= since]
    return EtaModel(quantiles=quantiles, seed=seed).fit(rmap, history_features(rmap, t, s))


def monitor_eta(
    model: EtaModel | str | Path,
    road_map: RoadMap | str | Path,
    trips: TableSource,
    stops: TableSource,
    *,
    threshold: float | None = None,
    plot: str | Path | None = None,
) -> dict[str, Any]:
    """The model's error on actuals that arrived after training, by day and hour, against
    its training error; whether it has drifted and should be retrained
    (:func:`fleetroute.eta_model.monitor.monitor`). With ``plot``, a PNG of the trend."""
    from fleetroute.eta_model.model import EtaModel, history_features
    from fleetroute.eta_model.monitor import DEFAULT_THRESHOLD, monitor, plot_trend

    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
    m = model if isinstance(model, EtaModel) else EtaModel.load(model, road_map=rmap)
    t, s = _history(trips, stops, need_duration=True)
    report = monitor(
        m, history_features(rmap, t, s, stores=m.stores_), threshold=threshold or DEFAULT_THRESHOLD
    )
    if plot is not None:
        plot_trend(plot, report)
    return report


def predict_eta(
    model: EtaModel | str | Path,
    road_map: RoadMap | str | Path,
    trips: TableSource,
    stops: TableSource,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the model expects each history row to take (its ``duration_s`` is ignored).

    Returns the trips table (``trip_id, predicted_s, p90_s``) and the stops table
    (``stop_id, predicted_s, p90_s``).
    """
    from fleetroute.eta_model.model import EtaModel, history_features

    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
    m = model if isinstance(model, EtaModel) else EtaModel.load(model, road_map=rmap)
    t, s = _history(trips, stops, need_duration=False)
    h = history_features(rmap, t, s, stores=m.stores_)
    # p90_s: the 0.9 quantile, or the highest one the model learned instead
    upper = 0.9 if 0.9 in m.travel_boosters_ else max(m.travel_boosters_)
    trips_out = pd.DataFrame(
        {
            "trip_id": t["trip_id"].to_numpy(),
            "predicted_s": np.round(m.predict_travel(h.travel), 1),
            "p90_s": np.round(m.predict_travel(h.travel, upper), 1),
        }
    )
    stops_out = pd.DataFrame(
        {
            "stop_id": s["stop_id"].to_numpy(),
            "predicted_s": np.round(m.predict_service(h.service), 1),
            "p90_s": np.round(m.predict_service(h.service, upper), 1),
        }
    )
    return trips_out, stops_out


def evaluate_eta(
    model: EtaModel | str | Path,
    road_map: RoadMap | str | Path,
    trips: TableSource,
    stops: TableSource,
    *,
    plot: str | Path | None = None,
) -> dict[str, Any]:
    """Metrics of the model and of the free-flow baseline on a history, overall and by hour.

    With ``plot``, also save a PNG of predicted vs actual travel times and error by hour
    (needs matplotlib: ``pip install 'fleetroute[plot]'``).

    Returns a dict with ``travel``, ``service`` and ``baseline`` (each with ``mae_s``,
    ``mape`` and, for the model, ``p90_coverage``) and ``by_hour`` (travel metrics of both
    per departure hour).
    """
    from fleetroute.eta_model.metrics import error_metrics
    from fleetroute.eta_model.model import EtaModel, history_features

    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
    m = model if isinstance(model, EtaModel) else EtaModel.load(model, road_map=rmap)
    t, s = _history(trips, stops, need_duration=True)
    h = history_features(rmap, t, s, stores=m.stores_)
    result = m.evaluate(h)
    hours = h.travel_when.hour
    predicted = m.predict_travel(h.travel)
    by_hour = {}
    for hour in sorted(set(hours.tolist())):
        rows = np.asarray(hours == hour)
        by_hour[f"{hour:02d}"] = {
            "model": error_metrics(h.travel_actual_s[rows], predicted[rows]),
            "baseline": error_metrics(
                h.travel_actual_s[rows], h.travel["freeflow_s"].to_numpy()[rows]
            ),
        }
    result["by_hour"] = by_hour
    if plot is not None:
        from fleetroute.eta_model.plots import plot_evaluation

        plot_evaluation(
            plot, h.travel_actual_s, predicted, h.travel["freeflow_s"].to_numpy(), by_hour
        )
    return result


def bench_vrplib(
    paths: list[str | Path],
    *,
    time_limit_s: float = 10.0,
    solution_limit: int | None = None,
    seed: int = 0,
    backend: str = "auto",
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """Solve standard instances with the engine's routing core; one result dict per file.

    Each dict has ``instance``, ``family``, ``cost`` (in the family's convention),
    ``vehicles``, ``feasible`` (every customer served, every window, capacity and the
    depot's horizon kept), ``time_s`` and ``routes`` (node numbers as the file numbers
    them, depot left out).
    """
    from fleetroute.routing.instances import read_instance

    results = []
    for path in paths:
        inst = read_instance(path)
        t0 = time.perf_counter()
        result = solve(
            inst.problem,
            SolveOptions(
                time_limit_s=time_limit_s,
                solution_limit=solution_limit,
                seed=seed,
                backend=backend,
                workers=workers,
            ),
        )
        elapsed = time.perf_counter() - t0
        routes, cost = [], 0.0
        for route in result.routes:
            nodes = [
                int(inst.pickup_node[o] if kind == "pickup" else inst.dropoff_node[o])
                for kind, o in zip(route.kinds, route.orders, strict=True)
            ]
            path_nodes = [0, *nodes, 0]
            cost += float(
                sum(
                    inst.distance[a, b]
                    for a, b in zip(path_nodes[:-1], path_nodes[1:], strict=True)
                )
            )
            routes.append(nodes)
        late = any(int(s.late_s.sum()) > 0 for s in result.schedules)
        results.append(
            {
                "instance": inst.name,
                "family": inst.family,
                "cost": round(cost, 4),
                "vehicles": len(routes),
                "feasible": not result.unassigned and not late,
                "time_s": round(elapsed, 3),
                "backend": result.inputs["backend"],
                "routes": routes,
            }
        )
    return results


def check_routes(
    routes: TableSource,
    orders: TableSource,
    vehicles: TableSource | None = None,
    *,
    road_map: RoadMap | str | Path,
    stores: TableSource | None = None,
    fleet: FleetSpec | None = None,
    plan_date: date | None = None,
    eta: EtaProvider | None = None,
) -> tuple[Plan, pd.DataFrame]:
    """Score routes made elsewhere (routes.csv columns; times may be absent) without solving.

    The sequence of each vehicle (``vehicle_id``, ``seq``, ``kind``, ``order_id``) is driven
    with the same travel and service times the planner would use.

    Returns
    -------
    plan, violations
        The audited plan (recomputed ETAs in ``plan.routes_table()``) and one row per
        violation (see :func:`fleetroute.routing.audit.violations`).
    """
    from fleetroute.routing.audit import violations
    from fleetroute.routing.schedule import BREAK, DROPOFF, HERE, PICKUP, Route

    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
    problem, extra = build_problem(
        orders, vehicles, road_map=rmap, stores=stores, fleet=fleet, plan_date=plan_date, eta=eta
    )
    label = _label(routes, "routes")
    table = read_table(routes, ROUTE_INPUT_COLUMNS, origin=problem.origin, name=label)
    vehicle_index = {v: i for i, v in enumerate(problem.vehicle_id)}
    order_index = {o: i for i, o in enumerate(problem.order_id)}
    stops: dict[int, list[tuple[int, str, int]]] = {}
    seen: set[int] = set()
    for row, rec in zip(table.index, table.to_dict("records"), strict=True):
        if rec["kind"] not in (PICKUP, DROPOFF, BREAK):
            if rec["kind"] in ("start", "end"):
                continue
            raise InputError(
                label, f"'{rec['kind']}' is not a stop kind", row=int(row), column="kind"
            )
        if rec["vehicle_id"] not in vehicle_index:
            raise InputError(
                label, f"unknown vehicle '{rec['vehicle_id']}'", row=int(row), column="vehicle_id"
            )
        if rec["kind"] == BREAK:  # taken where the vehicle is
            stops.setdefault(vehicle_index[rec["vehicle_id"]], []).append(
                (int(rec["seq"]), BREAK, HERE)
            )
            continue
        if rec["order_id"] not in order_index:
            raise InputError(
                label, f"unknown order '{rec['order_id']}'", row=int(row), column="order_id"
            )
        order = order_index[rec["order_id"]]
        if rec["kind"] == DROPOFF:
            if order in seen:
                raise InputError(
                    label,
                    f"order '{rec['order_id']}' is dropped off twice",
                    row=int(row),
                    column="order_id",
                )
            seen.add(order)
        stops.setdefault(vehicle_index[rec["vehicle_id"]], []).append(
            (int(rec["seq"]), rec["kind"], order)
        )
    checked = []
    for v, items in sorted(stops.items()):
        items.sort()
        checked.append(Route(v, tuple(k for _, k, _ in items), tuple(o for _, _, o in items)))
    unrouted = {
        i: "not in any of the checked routes" for i in range(problem.n_orders) if i not in seen
    }
    audited = Plan(
        problem,
        tuple(checked),
        unrouted,
        inputs={"checked": label, "model": (eta or FreeFlow()).name},
        order_extra=extra,
    )
    return audited, violations(audited)


def late_risk(
    routes: TableSource,
    orders: TableSource,
    vehicles: TableSource | None = None,
    *,
    road_map: RoadMap | str | Path,
    model: EtaModel,
    stores: TableSource | None = None,
    fleet: FleetSpec | None = None,
    plan_date: date | None = None,
) -> pd.DataFrame:
    """The chance that each stop of routes made elsewhere starts after its window ends.

    The routes are driven twice with the ETA model, on its median and on its 0.9
    quantile of every travel and service time. Each stop's start is taken as normal with
    the median's start as mean and the gap to the 0.9 run as 1.2816 standard deviations.
    Adding up 0.9 quantiles treats a route's errors as moving together (a slow day is slow
    everywhere), so the chances lean high rather than low.

    Returns
    -------
    DataFrame
        ``vehicle_id, seq, kind, order_id, start, start_p90, window_end, p_late`` per stop.
    """
    from scipy.stats import norm

    from fleetroute.eta_model.learned import LearnedEta

    if 0.9 not in model.travel_boosters_:
        raise InputError("--eta-model", "the model has no 0.9 quantile to measure risk with")
    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
    runs = []
    for q in (0.5, 0.9):
        audited, _ = check_routes(
            routes,
            orders,
            vehicles,
            road_map=rmap,
            stores=stores,
            fleet=fleet,
            plan_date=plan_date,
            eta=LearnedEta(model, quantile=q),
        )
        table = audited.routes_table()
        runs.append(table[table["kind"].isin(["pickup", "dropoff"])].reset_index(drop=True))
    mid, slow = runs

    def start(t: pd.DataFrame) -> pd.Series:
        return pd.to_datetime(t["arrival"]) + pd.to_timedelta(t["wait_s"], unit="s")

    begin, begin90 = start(mid), start(slow)
    end = pd.to_datetime(mid["window_end"])
    sd = (begin90 - begin).dt.total_seconds().clip(lower=0) / float(norm.ppf(0.9))
    margin = (end - begin).dt.total_seconds()
    p_late = np.where(
        sd > 0,
        norm.sf(margin / np.where(sd > 0, sd, 1.0)),
        (margin < 0).astype(float),
    )
    return pd.DataFrame(
        {
            "vehicle_id": mid["vehicle_id"],
            "seq": mid["seq"],
            "kind": mid["kind"],
            "order_id": mid["order_id"],
            "start": begin.dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "start_p90": begin90.dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "window_end": mid["window_end"],
            "p_late": np.round(p_late, 4),
        }
    )


def plan_report(
    plan_dir: str | Path, *, road_map: RoadMap | str | Path | None = None, tiles: bool = True
) -> str:
    """The one-page HTML report of a plan folder (routes.csv, plan.json, unassigned.csv):
    KPIs, the map, the vehicle table, each route's timeline and the unassigned orders.

    The map's legs follow the roads of ``road_map`` when it is given; otherwise those of
    the folder's routes.geojson (``route plan --format geojson``) when there is one; else
    they are straight lines between stops.
    """
    import json

    from fleetroute.views import plan_report as render
    from fleetroute.views import routes_geojson

    folder = Path(plan_dir)
    paths = {name: folder / name for name in ("routes.csv", "plan.json", "unassigned.csv")}
    for path in paths.values():
        if not path.is_file():
            raise InputError(str(path), "no such file (is this a folder `route plan` wrote?)")
    routes = pd.read_csv(
        paths["routes.csv"], dtype={"order_id": str, "store_id": str}, keep_default_na=False
    )
    unassigned = pd.read_csv(paths["unassigned.csv"], dtype=str, keep_default_na=False)
    try:
        summary = json.loads(paths["plan.json"].read_text())["summary"]
    except (ValueError, KeyError):
        raise InputError(str(paths["plan.json"]), "is not a plan.json (no summary)") from None
    if road_map is not None:
        road = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
        geojson = routes_geojson(routes, road_map=road)
    elif (folder / "routes.geojson").is_file():
        geojson = json.loads((folder / "routes.geojson").read_text())
    else:
        geojson = routes_geojson(routes)
    return render(
        routes, summary, unassigned, geojson, title=f"Plan report: {folder.name}", tiles=tiles
    )
