"""During the day: insert an order, re-plan from where vans are, audit and risk of routes
made elsewhere."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fleetroute.errors import InputError
from fleetroute.eta_model.baseline import EtaProvider, FreeFlow
from fleetroute.io.readers import (
    FleetSpec,
    read_orders,
)
from fleetroute.io.tables import TableSource, read_table
from fleetroute.maps.roadmap import RoadMap
from fleetroute.routing.plan import Plan
from fleetroute.routing.problem import Problem
from fleetroute.routing.screen import screen
from fleetroute.routing.solve import SolveOptions, solve
from fleetroute.times import format_time, parse_time_s

if TYPE_CHECKING:
    from fleetroute.eta_model.model import EtaModel

from fleetroute.api._common import (
    MAX_SNAP_M,
    ROUTE_INPUT_COLUMNS,
    _km,
    _label,
    road_map_of,
)
from fleetroute.api.planning import (
    band_middles,
    build_problem,
    order_windows,
    service_at,
    service_instants,
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
    # in two calls, so that each is a few searches from (or, reversed, into) the new places
    # rather than one from every old place
    o = np.concatenate([np.repeat(new, total), np.tile(nodes[:n_old], m)])
    d = np.concatenate([np.tile(everything, m), np.repeat(new, n_old)])
    split = m * total
    out_s, out_m = eta.leg_bands(rmap, o[:split], d[:split], band_starts=band_starts)
    in_s, in_m = eta.leg_bands(rmap, o[split:], d[split:], band_starts=band_starts)
    secs = np.concatenate([np.asarray(out_s), np.asarray(in_s)], axis=1).astype(np.float64)
    metres = np.concatenate([np.asarray(out_m), np.asarray(in_m)]).astype(np.float64)
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
    bigger = with_new_order(plan, order, road_map=road_map, eta=eta, max_snap_m=max_snap_m)
    return booked(plan, bigger)


def with_new_order(
    plan: Plan,
    order: Mapping[str, Any] | pd.DataFrame,
    *,
    road_map: RoadMap | str | Path,
    eta: EtaProvider | None = None,
    max_snap_m: float = MAX_SNAP_M,
) -> Problem:
    """The plan's problem with one more order (the last index), its legs to and from the
    plan's places and its service times predicted; not yet placed on any route. Its
    excluded reason, if it cannot be planned at all, is in ``excluded``."""
    p = plan.problem
    rmap = road_map_of(road_map)
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
    own = order_windows(o, int(p.shift_start_s.min()), int(p.shift_end_s.max()))
    (drop,), (shop,), shop_bands = _services(p, rmap, eta, o, store, own["order_windows"])
    k = max(own["order_windows"].shape[1], p.order_windows.shape[1])
    windows = np.concatenate([_padded(p.order_windows, k), _padded(own["order_windows"], k)])
    excluded = dict(p.excluded)
    if snap_m[0] > max_snap_m:
        excluded[p.n_orders] = f"its location is {_km(snap_m[0])} from the nearest road of the map"
    names = list(p.skill_names)
    labels = [part.strip() for part in str(o["skills"].iloc[0]).split(";") if part.strip()]
    names += [label for label in dict.fromkeys(labels) if label not in names]
    demand_of = [
        int(o[f"demand_{name}"].iloc[0]) if f"demand_{name}" in o.columns else 0
        for name in p.dim_names
    ]
    return grown.replace(
        skill_names=tuple(names),
        order_skills=np.append(p.order_skills, sum(1 << names.index(x) for x in set(labels))),
        dim_demand=np.vstack([p.dim_demand, np.array([demand_of], dtype=np.int64)]),
        order_id=(*p.order_id, str(o["order_id"].iloc[0])),
        order_loc=np.append(p.order_loc, n_loc),
        order_store=np.append(p.order_store, store),
        demand=np.append(p.demand, int(o["demand"].iloc[0])),
        items=np.append(p.items, items),
        window_start_s=windows[:, 0, 0],
        window_end_s=windows[:, -1, 1],
        order_windows=windows,
        late_cost_per_h=np.append(p.late_cost_per_h, own["late_cost_per_h"]),
        max_late_s=np.append(p.max_late_s, own["max_late_s"]),
        dropoff_s=np.append(p.dropoff_s, drop),
        shop_s=np.append(p.shop_s, shop),
        shop_band_s=np.vstack(
            [p.shop_band_s, np.broadcast_to(shop_bands, (1, p.shop_band_s.shape[1]))]
        ),
        priority=np.append(p.priority, float(o["priority"].iloc[0])),
        order_vehicle=np.append(p.order_vehicle, -1),
        order_rank=np.append(p.order_rank, -1),
        # the new order keeps no risk margin of its own; its spreads are the day's typical
        order_margin_s=np.append(p.order_margin_s, 0),
        **{
            name: np.append(spread, np.median(spread))
            for name in ("dropoff_sd", "shop_sd")
            if (spread := getattr(p, name)).size
        },
        excluded=excluded,
    )


def services_by_window(
    plan: Plan,
    order: pd.DataFrame,
    windows: Sequence[tuple[int, int]],
    *,
    road_map: RoadMap,
    eta: EtaProvider | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The drop-off and shop seconds :func:`insert_order` books ``order`` (one row) with
    when it asks for each of ``windows`` (start and end, seconds from the plan's origin):
    they are predicted for when the stops happen, which the window decides."""
    p = plan.problem
    o = read_orders(order, origin=p.origin, name="order")
    store_name = o["store_id"].iloc[0]
    store = p.store_id.index(store_name) if store_name in p.store_id else -1
    spans = np.array([[(start, end)] for start, end in windows], dtype=np.int64)
    drop, shop, _ = _services(p, road_map, eta or FreeFlow(), o, store, spans)
    return drop, shop


def _services(
    p: Problem,
    rmap: RoadMap,
    eta: EtaProvider,
    o: pd.DataFrame,
    store: int,
    windows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | int]:
    """A new order's (one row of ``o``) drop-off and shop seconds for each of its possible
    ``(w, k, 2)`` delivery ``windows``, as planning predicts them (the drop-off in the
    middle of its windows, the shop before they open: :func:`service_instants`; its own
    ``service_s`` for the drop-off when given; no shop without a ``store``); and, in a plan
    whose shops are timed by the hour, its shop in each band (else 0)."""
    drop_at, shop_at = service_instants(
        windows, int(p.shift_start_s.min()), int(p.shift_end_s.max())
    )
    w, at_store = drop_at.shape[0], store >= 0
    # the drop-offs, the shops before their windows, and the shop in each band
    at = np.concatenate(
        [drop_at]
        + ([shop_at] if at_store else [])
        + ([band_middles(p.band_start_s)] if p.shops_by_hour and at_store else [])
    ).astype(np.int64)
    is_shop = np.arange(at.shape[0]) >= w
    lat, lon = float(o["lat"].iloc[0]), float(o["lon"].iloc[0])
    if at_store:
        shop_loc = p.store_loc[store]
        lat_of = np.where(is_shop, p.loc_lat[shop_loc], lat)
        lon_of = np.where(is_shop, p.loc_lon[shop_loc], lon)
    else:
        lat_of, lon_of = np.full(at.shape[0], lat), np.full(at.shape[0], lon)
    service = service_at(
        eta,
        rmap,
        is_shop=is_shop,
        items=np.full(at.shape[0], int(o["items"].iloc[0])),
        store_id=np.full(at.shape[0], o["store_id"].iloc[0], dtype=object),
        lat=lat_of,
        lon=lon_of,
        origin=p.origin,
        at=at,
    )
    given = float(o["service_s"].iloc[0])
    drop = np.rint(service[:w] if np.isnan(given) else np.full(w, given)).astype(np.int64)
    shop = np.rint(service[w : 2 * w]).astype(np.int64) if at_store else np.zeros(w, np.int64)
    bands = np.rint(service[2 * w :]).astype(np.int64)
    return drop, shop, bands if bands.size else 0


def booked(plan: Plan, bigger: Problem) -> Plan:
    """``plan`` with the last order of ``bigger`` (:func:`with_new_order`) added where it
    costs least, every other stop left as it is, or in ``unassigned`` with the reason."""
    from fleetroute.routing.insert import cheapest_insertion, why_left_out

    index = bigger.n_orders - 1
    unassigned = dict(plan.unassigned)
    routes = list(plan.routes)
    reason = bigger.excluded.get(index) or screen(bigger, np.array([index])).get(index)
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


def _padded(windows: np.ndarray, k: int) -> np.ndarray:
    """``(orders, k, 2)`` windows: each order's list padded by repeating its last window."""
    extra = k - windows.shape[1]
    if extra <= 0:
        return windows
    return np.concatenate([windows, np.repeat(windows[:, -1:], extra, axis=1)], axis=1)


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
    rmap = road_map_of(road_map)
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
        shop_band_s=np.where(carried_mask[:, None], 0, p.shop_band_s),
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
    from fleetroute.routing.schedule import AT_DEPOT, BREAK, DROPOFF, HERE, PICKUP, RELOAD, Route

    rmap = road_map_of(road_map)
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
        if rec["kind"] not in (PICKUP, DROPOFF, BREAK, RELOAD):
            if rec["kind"] in ("start", "end"):
                continue
            raise InputError(
                label, f"'{rec['kind']}' is not a stop kind", row=int(row), column="kind"
            )
        if rec["vehicle_id"] not in vehicle_index:
            raise InputError(
                label, f"unknown vehicle '{rec['vehicle_id']}'", row=int(row), column="vehicle_id"
            )
        if rec["kind"] in (BREAK, RELOAD):  # a break where the vehicle is; a reload at its depot
            stops.setdefault(vehicle_index[rec["vehicle_id"]], []).append(
                (int(rec["seq"]), rec["kind"], HERE if rec["kind"] == BREAK else AT_DEPOT)
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

    from fleetroute.eta_model.learned import Z_SPREAD, LearnedEta

    if 0.9 not in model.travel_boosters_:
        raise InputError("--eta-model", "the model has no 0.9 quantile to measure risk with")
    rmap = road_map_of(road_map)
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
    sd = (begin90 - begin).dt.total_seconds().clip(lower=0) / Z_SPREAD
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
