"""Risk margins: plans on median times whose every drop-off is late with at most the
problem's ``late_chance``.

A fixed margin before each window is too much for a stop just after a wait and too little
late in a long run of legs, where the delays of every leg and stop since the van last
waited add up. So a plan with a ``late_chance`` is made twice. The first search's routes
are driven many times with log-normal travel and service times around the planned ones
(the problem's spreads, ``travel_sd`` per band and ``dropoff_sd``/``shop_sd`` per order),
waiting for windows as the van would. Each drop-off's margin is how much later than
planned it starts in all but ``late_chance`` of those drives. The second search plans
with each order's windows closing its margin earlier (:attr:`Problem.order_margin_s`).

The same drives forecast how many of a plan's promises it keeps (:func:`forecast_on_time`):
every learned plan reports it. A plan made on a higher quantile than the median
(:attr:`Problem.plan_quantile`) is driven around its times moved back to the median.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from fleetroute.routing.problem import Problem
from fleetroute.routing.schedule import DROPOFF, Route, schedule

__all__ = ["risk_margins", "forecast_on_time", "SAMPLES"]

#: Drives of each route. The 0.9 quantile of a drop-off's delay from 400 draws moves by
#: about 3% between seeds.
SAMPLES = 400


def _drives(
    p: Problem, route: Route, rng: np.random.Generator, samples: int
) -> Iterator[tuple[int, npt.NDArray[np.float64], float, float]]:
    """Each drop-off of ``route`` driven ``samples`` times with log-normal travel and
    service times around the median ones (the planned times moved back from
    ``p.plan_quantile``), the van waiting for windows as it would: the order, when each
    drive starts it, when the plan starts it, and when its window closes."""
    sched = schedule(p, route)
    bands = np.minimum(p.band_at(sched.departure_s), p.travel_sd.shape[0] - 1)
    # log(median / planned) in spreads: 0 for a plan on the median
    back = -NormalDist().inv_cdf(p.plan_quantile)
    t = np.full(samples, float(sched.departure_s[0]))
    for k in range(1, len(sched.kind)):
        if sched.travel_s[k] > 0:
            spread = p.travel_sd[bands[k - 1]]
            t = t + sched.travel_s[k] * np.exp(rng.normal(back * spread, spread, samples))
        if k == len(sched.kind) - 1:  # the route's end
            break
        begin = np.maximum(t, float(sched.window_start_s[k]))
        service = np.full(samples, float(sched.service_s[k]))
        order = route.orders[k - 1]
        if order >= 0:  # a break or a reload lasts as planned
            drop = sched.kind[k] == DROPOFF
            if drop:
                planned = float(sched.arrival_s[k] + sched.wait_s[k])
                yield order, begin, planned, float(sched.window_end_s[k])
            spread = (p.dropoff_sd if drop else p.shop_sd)[order]
            service = service * np.exp(rng.normal(back * spread, spread, samples))
        t = begin + service


def risk_margins(
    p: Problem, routes: Sequence[Route], *, seed: int = 0, samples: int = SAMPLES
) -> npt.NDArray[np.int64]:
    """Per order: how much later than planned its drop-off starts in all but
    ``p.late_chance`` of ``samples`` drives of its route (0 for orders not routed, and
    when the problem has no spreads)."""
    out = np.zeros(p.n_orders, dtype=np.int64)
    if not p.has_spreads or p.late_chance <= 0:
        return out
    rng = np.random.default_rng(seed)
    for route in routes:
        for order, begin, planned, _ in _drives(p, route, rng, samples):
            late = np.quantile(begin - planned, 1.0 - p.late_chance)
            out[order] = max(0, int(np.ceil(late)))
    return out


def forecast_on_time(
    p: Problem, routes: Sequence[Route], *, seed: int = 0, samples: int = SAMPLES
) -> float | None:
    """The share of the routes' drop-offs that start by the end of their windows, over
    ``samples`` drives of each route: what the plan can expect to keep of its promises
    when the times vary as the problem's spreads say. ``None`` when the problem has no
    spreads or the routes no drop-off."""
    if not p.has_spreads:
        return None
    rng = np.random.default_rng(seed)
    kept, drops = 0, 0
    for route in routes:
        for _, begin, _, closes in _drives(p, route, rng, samples):
            kept += int((begin <= closes).sum())
            drops += samples
    return kept / drops if drops else None
