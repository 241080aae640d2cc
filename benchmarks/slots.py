"""Delivery windows at checkout (`route slots`): how fast, how honest, and what booking a
day through it gives.

    python benchmarks/slots.py                                  # both parts, as committed
    python benchmarks/slots.py --skip-stream --latency-orders 500
    python benchmarks/slots.py --skip-latency --stream 300 --every 50 --policy cheapest

On the store-day city (benchmarks/store_day.py: a synthetic 10k-node city, seed 21, its
3 stores and an ETA model trained on its simulated history), planning on the model's
default quantile:

* **Latency.** A 500-order day (a third shopped, 2-hour windows) is planned (20 s); then
  ``--new`` new orders (a third shopped) each ask for every default window
  (``fleetroute.slots``). Reported: the seconds per order (median, 95th percentile, max),
  windows offered, and the check that every offered window books as offered: each one is
  booked with ``insert_order`` and must land on the stated vehicle at the stated marginal
  cost with no stop of the plan late.
* **Booking in sequence.** ``--stream`` customers of one day arrive one by one (10 of them
  booked before, at their own windows). Each is offered the windows ``slots`` finds and
  picks the cheapest (``--policy cheapest``) or a random one (``random``), and is booked
  with ``insert_order``. Every ``--every`` bookings the day so far is re-planned in a
  background process (``fleetroute.plan`` with every booked window, one core) while
  bookings go on; when it ends, the bookings made meanwhile are inserted into it, and it
  replaces the current plan only if all of them fit (a promise is never dropped).
  Reported: customers accepted, windows offered per customer, bookings that failed after
  being offered (must be 0), the final plan replayed 3 times in the simulator's true world
  (promises kept, true cost per order), and its cost against planning all the booked
  orders at once with their chosen windows (60 s).

Writes benchmarks/results/slots.json (the latency and stream parts; a part skipped is not written).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import fleetroute
from fleetroute.api.slots import default_windows
from fleetroute.eta_model.learned import LearnedEta
from fleetroute.simulator.world import simulate_orders
from fleetroute.suite import replayed
from store_day import PLAN_DATE, city_and_model, day

RESULTS = Path(__file__).parent / "results"
QUANTILES = (0.5, 0.65, 0.9)


def _new_orders(road_map: Any, stores: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` customers (a third shopped) without windows: the windows are what they pick."""
    orders = simulate_orders(road_map, stores, n_orders=n, store_share=1 / 3, seed=seed)
    return orders.drop(columns=["window_start", "window_end"]).assign(
        order_id=[f"n{i + 1:04d}" for i in range(n)]
    )


def _fleet(road_map: Any, vans: int) -> pd.DataFrame:
    return day(road_map, pd.DataFrame(columns=["store_id"]), 1, vans)[1]


def latency(args: argparse.Namespace, road_map: Any, model: Any, stores: pd.DataFrame) -> dict:
    eta = LearnedEta(model)
    orders, vehicles = day(road_map, stores, args.latency_orders, args.latency_orders // 10)
    plan = fleetroute.plan(orders, vehicles, road_map=road_map, stores=stores,
                           plan_date=PLAN_DATE, eta=eta, time_limit_s=20)  # fmt: skip
    base = plan.objective
    new = _new_orders(road_map, stores, args.new, seed=11)
    seconds, offered, booked_ok, booked_bad = [], [], 0, []
    for k in range(len(new)):
        one = new.iloc[[k]]
        t0 = time.perf_counter()
        offers = fleetroute.slots(plan, one, road_map=road_map, eta=eta)
        seconds.append(time.perf_counter() - t0)
        good = offers[offers["feasible"]]
        offered.append(len(good))
        if k >= args.check:
            continue
        for _, row in good.iterrows():  # every offered window, booked as offered
            order = one.assign(window_start=row["window_start"][11:16],
                               window_end=row["window_end"][11:16])  # fmt: skip
            after = fleetroute.insert_order(plan, order, road_map=road_map, eta=eta)
            table = after.routes_table()
            mine = table[table["order_id"] == row["order_id"]]
            drops = table[table["kind"] == "dropoff"]
            ok = (
                len(mine) > 0
                and set(mine["vehicle_id"]) == {row["vehicle_id"]}
                and abs(after.objective - base - row["marginal_cost"]) < 0.01
                and bool((drops["late_s"] <= 0).all())
            )
            booked_ok += ok
            if not ok:
                booked_bad.append(f"{row['order_id']} {row['window_start']}")
    p_on_time = None
    if len(offers):
        p_on_time = [float(x) for x in offers["p_on_time"].dropna()]
    return {
        "plan_orders": args.latency_orders,
        "plan_assigned": plan.summary()["assigned"],
        "plan_vehicles": plan.summary()["vehicles_used"],
        "windows_per_order": len(default_windows(plan)),
        "new_orders": len(new),
        "seconds_median": round(float(np.median(seconds)), 3),
        "seconds_p95": round(float(np.percentile(seconds, 95)), 3),
        "seconds_max": round(float(np.max(seconds)), 3),
        "offered_mean": round(float(np.mean(offered)), 2),
        "offered_windows_booked": booked_ok,
        "offered_windows_not_as_offered": booked_bad,
        "last_order_p_on_time": p_on_time,
    }


# -- the background re-planner: its own process, the map and model loaded once ----------
_WORLD: dict[str, Any] = {}


def _load_world() -> None:
    road_map, model, stores = city_and_model(QUANTILES)
    _WORLD.update(road_map=road_map, model=model, stores=stores)


def _replan(orders: pd.DataFrame, vehicles: pd.DataFrame, seconds: float) -> Any:
    return fleetroute.plan(orders, vehicles, road_map=_WORLD["road_map"], stores=_WORLD["stores"],
                           plan_date=PLAN_DATE, eta=LearnedEta(_WORLD["model"]),
                           time_limit_s=seconds, workers=1)  # fmt: skip


def stream(args: argparse.Namespace, road_map: Any, model: Any, stores: pd.DataFrame) -> dict:
    eta = LearnedEta(model)
    rng = np.random.default_rng(3)
    customers = _new_orders(road_map, stores, args.stream + 10, seed=21)
    vehicles = _fleet(road_map, args.vans)
    windows = simulate_orders(road_map, stores, n_orders=10, store_share=0, seed=21)
    first = customers.head(10).assign(window_start=windows["window_start"].to_numpy(),
                                      window_end=windows["window_end"].to_numpy())  # fmt: skip
    booked = [first.iloc[[k]] for k in range(10)]
    plan = fleetroute.plan(first, vehicles, road_map=road_map, stores=stores,
                           plan_date=PLAN_DATE, eta=eta, time_limit_s=5)  # fmt: skip
    offered, rejected, failed, merged, discarded = [], 0, 0, 0, 0
    pending: Future | None = None
    since = 0  # bookings made since the running re-plan's snapshot
    book_s: list[float] = []
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=_load_world) as pool:
        for k in range(10, len(customers)):
            one = customers.iloc[[k]]
            t0 = time.perf_counter()
            offers = fleetroute.slots(plan, one, road_map=road_map, eta=eta)
            good = offers[offers["feasible"]]
            offered.append(len(good))
            if good.empty:
                rejected += 1
                continue
            pick = good.loc[good["marginal_cost"].idxmin()] if args.policy == "cheapest" else (
                good.iloc[int(rng.integers(len(good)))])  # fmt: skip
            order = one.assign(window_start=pick["window_start"][11:16],
                               window_end=pick["window_end"][11:16])  # fmt: skip
            after = fleetroute.insert_order(plan, order, road_map=road_map, eta=eta)
            book_s.append(time.perf_counter() - t0)
            if after.problem.n_orders - 1 in after.unassigned:
                failed += 1  # offered, then not bookable: a broken promise of the offer
                continue
            plan = after
            booked.append(order)
            since += 1
            if pending is not None and pending.done():
                plan, ok = _merged(
                    pending.result(), booked[len(booked) - since :], plan, road_map, eta
                )
                merged += ok
                discarded += not ok
                pending = None
            if pending is None and len(booked) % args.every == 0:
                pending = pool.submit(_replan, pd.concat(booked), vehicles, args.replan_s)
                since = 0
        if pending is not None:
            plan, ok = _merged(pending.result(), booked[len(booked) - since :], plan, road_map, eta)
            merged += ok
            discarded += not ok
    all_booked = pd.concat(booked, ignore_index=True)
    on_time, true_cost = replayed(road_map, plan, draws=3)
    once = fleetroute.plan(all_booked, vehicles, road_map=road_map, stores=stores,
                           plan_date=PLAN_DATE, eta=eta, time_limit_s=args.once_s)  # fmt: skip
    once_on_time, once_true = replayed(road_map, once, draws=3)
    n = len(all_booked)
    return {
        "policy": args.policy,
        "customers": args.stream,
        "vans": args.vans,
        "accepted": n - 10,
        "rejected": rejected,
        "offered_not_bookable": failed,
        "windows_offered_mean": round(float(np.mean(offered)), 2),
        "book_seconds_median": round(float(np.median(book_s)), 3),
        "replans_merged": merged,
        "replans_discarded": discarded,
        "final_assigned": plan.summary()["assigned"],
        "final_orders": n,
        "promises_kept_true_world": round(on_time, 4),
        "cost_per_order": round(plan.objective / n, 2),
        "true_cost_per_order": round(true_cost / n, 2),
        "at_once_assigned": once.summary()["assigned"],
        "at_once_cost_per_order": round(once.objective / n, 2),
        "at_once_true_cost_per_order": round(once_true / n, 2),
        "at_once_on_time_true_world": round(once_on_time, 4),
        "cost_ratio_to_at_once": round(plan.objective / once.objective, 3),
    }


def _merged(
    replanned: Any, since: list[pd.DataFrame], current: Any, road_map: Any, eta: Any
) -> tuple[Any, bool]:
    """The background re-plan with the bookings made while it ran, or the current plan
    if the re-plan left a booked order out or one of those bookings does not fit it."""
    if replanned.unassigned or replanned.objective >= current.objective:
        return current, False
    plan = replanned
    for order in since:
        plan = fleetroute.insert_order(plan, order, road_map=road_map, eta=eta)
        if plan.problem.n_orders - 1 in plan.unassigned:
            return current, False
    return (plan, True) if plan.objective < current.objective else (current, False)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--latency-orders", type=int, default=500)
    ap.add_argument("--new", type=int, default=30, help="new orders asking for windows")
    ap.add_argument("--check", type=int, default=10, help="of which this many are booked")
    ap.add_argument("--stream", type=int, default=300, help="customers booking in sequence")
    ap.add_argument("--vans", type=int, default=25)
    ap.add_argument("--every", type=int, default=50, help="re-plan every N bookings")
    ap.add_argument("--replan-s", type=float, default=20.0)
    ap.add_argument("--once-s", type=float, default=60.0)
    ap.add_argument("--policy", nargs="*", default=["cheapest", "random"])
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-stream", action="store_true")
    ap.add_argument("--json", type=Path, default=RESULTS / "slots.json")
    args = ap.parse_args()
    road_map, model, stores = city_and_model(QUANTILES)
    out: dict[str, Any] = {}
    if not args.skip_latency:
        out["latency"] = latency(args, road_map, model, stores)
        print(json.dumps(out["latency"], indent=1))
    if not args.skip_stream:
        out["stream"] = []
        for policy in args.policy:
            one = argparse.Namespace(**{**vars(args), "policy": policy})
            out["stream"].append(stream(one, road_map, model, stores))
            print(json.dumps(out["stream"][-1], indent=1))
    args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
