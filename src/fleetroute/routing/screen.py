"""Check each order on its own before solving, and say in plain words why one cannot be served.

Vectorized over orders x kinds of vehicle: an order is screened out when no single vehicle
could serve it even with an otherwise empty route.
"""

from __future__ import annotations

import numpy as np

from fleetroute.routing.problem import Problem, per_store
from fleetroute.times import format_clock

__all__ = ["screen"]


def screen(problem: Problem, orders: np.ndarray | None = None) -> dict[int, str]:
    """Reasons for the orders that no vehicle could serve even on an empty route.

    Parameters
    ----------
    problem
        The problem.
    orders
        Order indices to check (default: every plannable order).

    Returns
    -------
    dict
        Order index -> reason, only for orders that cannot be served.
    """
    idx = problem.plannable if orders is None else np.asarray(orders, dtype=np.int64)
    if idx.size == 0:
        return {}
    # one vehicle of each kind: interchangeable vehicles serve the same orders (20,000
    # orders against 2,000 identical vans took 10.5 s against every van)
    _, first = np.unique(problem.vehicle_kinds(), return_index=True)
    p = problem.with_vehicles(np.sort(first)) if first.size < problem.n_vehicles else problem
    reasons: dict[int, str] = {}
    demand = p.demand[idx]
    cap = int(p.capacity.max())
    for i in idx[demand > cap]:
        reasons[int(i)] = (
            f"it needs {int(p.demand[i])} capacity units but the largest vehicle holds {cap}"
        )
    _screen_skills(p, idx, reasons)
    for d, name in enumerate(p.dim_names):
        most = int(p.dim_capacity[:, d].max())
        for i in idx[p.dim_demand[idx, d] > most].tolist():
            reasons.setdefault(
                int(i),
                f"its {int(p.dim_demand[i, d])} {name} exceed every vehicle's {most} {name}",
            )
    if int(p.max_stops.max()) == 0:
        for i in idx:
            reasons.setdefault(int(i), "every vehicle has max_stops 0")

    cust = p.order_loc[idx]
    start = p.start_loc
    shift_start = p.shift_start_s[None, :]
    shift_end = p.shift_end_s[None, :]
    has_store = p.order_store[idx] >= 0
    store = p.order_store[idx]
    # Without a store: drive from the vehicle start straight to the customer.
    direct = shift_start + p.travel_s[start[None, :], cust[:, None]]
    # With a store: drive to the store, shop once it is open, then drive on.
    sloc = np.where(has_store, per_store(p.store_loc, store, 0), cust)
    reach_store = shift_start + p.travel_s[start[None, :], sloc[:, None]]
    # a store visit's fixed part (once the store is open) comes before the shopping
    visit = per_store(p.store_visit_s, store, 0)[:, None]
    shop_begin = np.maximum(reach_store, per_store(p.store_open_s, store, 0)[:, None]) + visit
    shop_latest = per_store(p.store_close_s, store, 0) - p.shop_s[idx]
    shop_ok = shop_begin <= shop_latest[:, None]
    via_store = shop_begin + p.shop_s[idx][:, None] + p.travel_s[sloc, cust][:, None]
    arrive = np.where(has_store[:, None], via_store, direct)
    begin = np.maximum(arrive, p.window_start_s[idx][:, None])
    back = begin + p.dropoff_s[idx][:, None] + p.travel_s[cust[:, None], p.end_loc[None, :]]
    fits_cap = (p.demand[idx][:, None] <= p.capacity[None, :]) & (p.max_stops[None, :] > 0)
    fits_cap &= p.skilled(idx)
    for d in range(len(p.dim_names)):
        fits_cap &= p.dim_demand[idx, d][:, None] <= p.dim_capacity[None, :, d]
    latest = p.window_end_s[idx] + p.max_late_s[idx]  # a soft window's hard limit
    in_window = arrive <= latest[:, None]
    in_shift = back <= shift_end
    # the shortest route that serves it: out, (shop,) deliver, back; waiting left out
    sloc_col = sloc[:, None]
    metres = (
        np.where(
            has_store[:, None],
            p.distance_m[start[None, :], sloc_col] + p.distance_m[sloc, cust][:, None],
            p.distance_m[start[None, :], cust[:, None]],
        )
        + p.distance_m[cust[:, None], p.end_loc[None, :]]
    )
    seconds = (
        back
        - np.where(has_store[:, None], np.maximum(0, shop_begin - visit - reach_store), 0)
        - np.maximum(0, p.window_start_s[idx][:, None] - arrive)
        - shift_start
    )
    short_enough = (seconds <= p.max_route_s[None, :]) & (metres <= p.max_distance_m[None, :])
    ok = fits_cap & in_window & in_shift & np.where(has_store[:, None], shop_ok, True)
    ok &= short_enough

    for row in np.flatnonzero(~ok.any(axis=1)):
        i = int(idx[row])
        if i in reasons:
            continue
        if has_store[row] and not shop_ok[row].any():
            s = int(store[row])
            closes = format_clock(p.store_close_s[s], p.origin)
            reasons[i] = (
                f"store {p.store_id[s]} closes at {closes}, before any vehicle can get there "
                "and shop the order"
            )
        elif not fits_cap[row].any():
            reasons[i] = (
                "no vehicle that has its skills also has room for it "
                "(capacity, stop limit or another capacity dimension)"
            )
        elif not (fits_cap[row] & short_enough[row]).any():
            k = int(np.flatnonzero(fits_cap[row])[np.argmin(metres[row][fits_cap[row]])])
            reasons[i] = (
                f"its shortest route, {metres[row, k] / 1000:.1f} km and "
                f"{seconds[row, k] / 60:.0f} min from the depot and back, is longer than any "
                "vehicle's max_route_s or max_distance_m allows"
            )
        elif not (in_window[row] & fits_cap[row]).any():
            earliest = int(arrive[row][fits_cap[row]].min()) if fits_cap[row].any() else 0
            ends = format_clock(int(latest[row]), p.origin)
            what = (
                "no window is reachable: its last window ends"
                if p.windows_of(i).shape[0] > 1
                else "its window ends"
            )
            soft = " (with its soft window's max_late_s)" if p.max_late_s[i] > 0 else ""
            reasons[i] = (
                f"{what} at {ends}{soft}, before any vehicle can get there "
                f"(earliest arrival {format_clock(earliest, p.origin)})"
            )
        else:
            reasons[i] = (
                "no vehicle can deliver it inside its window and still reach the end of its "
                "route before its shift ends"
            )
    return reasons


def _screen_skills(p: Problem, idx: np.ndarray, reasons: dict[int, str]) -> None:
    """Orders whose skills no single vehicle has, with the skills missing."""
    if not p.has_skills:
        return
    unskilled = ~p.skilled(idx).any(axis=1)
    fleet = int(np.bitwise_or.reduce(p.vehicle_skills))
    for i in idx[unskilled].tolist():
        need = int(p.order_skills[i])
        missing = p.skill_labels(need & ~fleet)
        if missing:
            said = ", ".join(f"'{m}'" for m in missing)
            reasons[int(i)] = f"no vehicle has skill {said}"
        else:
            said = ", ".join(f"'{m}'" for m in p.skill_labels(need))
            reasons[int(i)] = f"no single vehicle has all of its skills ({said})"
