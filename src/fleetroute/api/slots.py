"""Which delivery windows can a new order still get? (SPEC ``route slots``)

Each candidate window is tried by inserting the order with that window into the current
plan, exactly as booking it would (:func:`fleetroute.insert_order`): the window is offered
only when that insertion succeeds, so no planned stop becomes late and no constraint
breaks, and booking an offered window reproduces the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from fleetroute.api._common import road_map_of
from fleetroute.api.dispatch import services_by_window, with_new_order
from fleetroute.api.planning import service_at, service_instants
from fleetroute.errors import InputError
from fleetroute.eta_model.baseline import EtaProvider
from fleetroute.eta_model.learned import Z_SPREAD, LearnedEta
from fleetroute.eta_model.model import EtaModel
from fleetroute.io.readers import read_orders
from fleetroute.io.tables import TableSource, read_raw
from fleetroute.maps.roadmap import RoadMap
from fleetroute.routing.insert import Insertion, place_or_explain
from fleetroute.routing.plan import Plan
from fleetroute.routing.problem import Problem, per_store
from fleetroute.routing.schedule import PICKUP, Route, RouteSchedule, schedule
from fleetroute.routing.screen import screen
from fleetroute.times import format_time

__all__ = ["slots", "default_windows", "SLOT_COLUMNS"]

#: slots.csv's columns (SPEC).
SLOT_COLUMNS = ("order_id", "window_start", "window_end", "feasible", "marginal_cost",
                "vehicle_id", "p_on_time", "reason")  # fmt: skip

#: The length of the default candidate windows.
WINDOW_S = 2 * 3600


def default_windows(plan: Plan) -> list[tuple[int, int]]:
    """Two-hour windows across the shifts: from the first shift's start (on the hour) to
    the last shift's end, the last one cut at that end."""
    p = plan.problem
    first = int(p.shift_start_s.min()) // 3600 * 3600
    last = int(p.shift_end_s.max())
    return [(s, min(s + WINDOW_S, last)) for s in range(first, last, WINDOW_S)]


def slots(
    plan: Plan,
    new_orders: TableSource,
    *,
    road_map: RoadMap | str | Path,
    eta: EtaProvider | None = None,
    windows: Sequence[tuple[int, int]] | None = None,
) -> pd.DataFrame:
    """For each new order and each candidate window (seconds from the plan's origin;
    default :func:`default_windows`), whether the plan can take it, at what extra cost and
    on which vehicle, or why not (SPEC's slots.csv columns; ``p_on_time`` stays empty).

    The new orders' own windows are ignored: the candidates replace them.

    Raises
    ------
    InputError
        A bad cell of ``new_orders``, or a window that ends before it starts.
    """
    p = plan.problem
    rmap = road_map_of(road_map)
    candidates = list(windows) if windows is not None else default_windows(plan)
    for start, end in candidates:
        if end <= start:
            span = f"{format_time(start, p.origin)[11:16]}-{format_time(end, p.origin)[11:16]}"
            raise InputError("--windows", f"{span} ends before it starts")
    raw = read_raw(new_orders, "new")
    read_orders(raw, origin=p.origin, name=str(raw.attrs["source"]))  # every cell checked once
    rows: list[dict[str, object]] = []
    # the plan's routes as they are: the same on every problem that only adds the new order
    known = {sched.route: sched for sched in plan.schedules}
    chances = isinstance(eta, LearnedEta) and {0.5, 0.9} <= set(eta.model.travel_boosters_)
    for k in range(len(raw)):
        order = raw.iloc[[k]].copy()
        order_id = str(order["order_id"].iloc[0])
        order["window_start"], order["window_end"] = "", ""
        if "windows" in order.columns:
            order["windows"] = ""
        # the order's legs once; each window is then a new window and its stops' seconds
        bigger = with_new_order(plan, order, road_map=rmap, eta=eta)
        i = bigger.n_orders - 1
        drops, shops = services_by_window(plan, order, candidates, road_map=rmap, eta=eta)
        placed: list[tuple[int, RouteSchedule, int]] = []  # (row, schedule, window end)
        for (start, end), drop, shop in zip(candidates, drops, shops, strict=True):
            trial = bigger.with_window(i, start, end, dropoff_s=int(drop), shop_s=int(shop))
            found, reason = _placed(trial, plan, i, known)
            if found is not None:
                placed.append((len(rows), schedule(trial, found.route), end))
            rows.append({
                "order_id": order_id,
                "window_start": format_time(start, p.origin),
                "window_end": format_time(end, p.origin),
                "feasible": found is not None,
                "marginal_cost": np.nan if found is None else round(found.added_cost, 2),
                "vehicle_id": "" if found is None else p.vehicle_id[found.route.vehicle],
                "p_on_time": np.nan,
                "reason": reason,
            })  # fmt: skip
        if placed and chances:  # this order's problem: its place and service times
            sure = _p_on_time(placed, cast(LearnedEta, eta).model, rmap, bigger)
            for (row, _, _), chance in zip(placed, sure, strict=True):
                rows[row]["p_on_time"] = round(float(chance), 4)
    return pd.DataFrame(rows, columns=list(SLOT_COLUMNS))


def _placed(
    trial: Problem, plan: Plan, order: int, known: dict[Route, RouteSchedule]
) -> tuple[Insertion | None, str]:
    """The cheapest insertion of ``order`` into the plan's routes, as
    :func:`fleetroute.insert_order` books it, or why there is none."""
    reason = trial.excluded.get(order) or screen(trial, np.array([order])).get(order)
    if reason is not None:
        return None, reason
    return place_or_explain(trial, plan.routes, order, known)


def _p_on_time(
    placed: list[tuple[int, RouteSchedule, int]], model: EtaModel, rmap: RoadMap, p: Problem
) -> np.ndarray:
    """The chance that each placed new order (the last stop it is in each schedule's
    route) starts by its window's end, as :func:`fleetroute.late_risk` reckons it: its
    route driven up to it on the model's median and on its 0.9 quantile of every leg (in
    the band of its planned departure) and stop, the start taken as normal with the
    median's start as mean and the gap to the 0.9 run as 1.2816 standard deviations."""
    from scipy.stats import norm

    order = p.n_orders - 1
    # the rows up to the new order's drop-off in each schedule, flattened
    spans = [int(np.flatnonzero(np.asarray(s.route.orders) == order)[-1]) + 1 for _, s, _ in placed]
    loc = np.concatenate([s.loc[: r + 1] for (_, s, _), r in zip(placed, spans, strict=True)])
    places, inverse = np.unique(loc, return_inverse=True)
    nodes, _ = rmap.snap(p.loc_lat[places], p.loc_lon[places])
    node = nodes[inverse]
    bands = [p.origin + timedelta(seconds=int(b)) for b in p.band_start_s] or [p.origin]
    first = np.cumsum([0, *[r + 1 for r in spans]])[:-1]  # each schedule's row 0 in ``loc``
    legs = np.setdiff1d(np.arange(loc.shape[0]), first)  # rows entered by a leg
    stops = [(s, j) for (_, s, _), r in zip(placed, spans, strict=True) for j in range(1, r + 1)]
    orders = np.array([max(s.route.orders[j - 1], 0) for s, j in stops], dtype=np.int64)
    shop = np.array([s.kind[j] == PICKUP for s, j in stops], dtype=bool)
    departs = np.array([s.departure_s[j - 1] for s, j in stops], dtype=np.int64)
    band = p.band_at(departs)
    drop_at, shop_at = service_instants(
        p.order_windows[orders], int(p.shift_start_s.min()), int(p.shift_end_s.max())
    )
    store = p.order_store[orders]
    starts = []
    in_band = LearnedEta(model, quantile=0.5).legs_in_band(
        rmap,
        node[legs - 1],
        node[legs],
        band_starts=bands,
        band=np.minimum(band, len(bands) - 1),
        quantiles=(0.5, 0.9),
    )
    for q in (0.5, 0.9):
        eta = LearnedEta(model, quantile=q)
        travel = in_band[q]
        service = service_at(
            eta,
            rmap,
            is_shop=shop,
            items=p.items[orders],
            store_id=np.array([p.store_id[x] if x >= 0 else "" for x in store.tolist()], object),
            lat=p.loc_lat[loc[legs]],
            lon=p.loc_lon[loc[legs]],
            origin=p.origin,
            at=np.where(shop, shop_at, drop_at),
        )
        # rows that are not an order's stop (a reload, a break) keep the plan's own time
        planned = np.array([s.service_s[j] for s, j in stops], dtype=np.float64)
        own = np.array([s.route.orders[j - 1] >= 0 for s, j in stops], dtype=bool)
        service = np.where(own, service, planned)
        lo = np.array([s.window_start_s[j] for s, j in stops], dtype=np.float64)
        # a store visit's fixed part, on arriving at the store from elsewhere (as scheduled)
        moved = node[legs] != node[legs - 1]
        visit = np.where(shop & moved, per_store(p.store_visit_s, store, 0), 0)
        at, n = np.empty(len(placed)), 0
        for w, ((_, s, _), r) in enumerate(zip(placed, spans, strict=True)):
            t = float(s.departure_s[0])
            for _ in range(r):
                begin = max(t + travel[n], lo[n])
                t, n = begin + service[n] + visit[n], n + 1
            at[w] = begin  # the new order's drop-off is the span's last row
        starts.append(at)
    mid, slow = starts
    ends = np.array([end for _, _, end in placed], dtype=np.float64)
    sd = np.clip(slow - mid, 0.0, None) / Z_SPREAD
    margin = ends - mid
    return np.where(sd > 0, norm.cdf(margin / np.where(sd > 0, sd, 1.0)), (margin >= 0) * 1.0)
