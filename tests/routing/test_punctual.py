"""Risk margins: each drop-off's slack sized to the delay its route can gather."""

from __future__ import annotations

import numpy as np
import pytest
from test_strong_search import _banded

from fleetroute.routing import DROPOFF, Route, SolveOptions, schedule, solve
from fleetroute.routing.punctual import forecast_on_time, risk_margins
from spec_checks import assert_plan_valid

FAST = SolveOptions(time_limit_s=5, solution_limit=20, workers=1)


def _uncertain(n: int, *, vehicles: int = 1, chance: float = 0.1, spread: float = 0.2):
    p = _banded(n, 3, vehicles=vehicles)
    return p.replace(
        travel_sd=np.full(p.n_bands, spread),
        dropoff_sd=np.full(n, spread),
        shop_sd=np.full(n, spread),
        late_chance=chance,
    )


def _drops(n: int) -> Route:
    return Route(0, (DROPOFF,) * n, tuple(range(n)))


def _open_all_day(p):
    """``p`` with every order a drop-off whose window is open 07:00-22:00."""
    n = p.n_orders
    open_all_day = np.stack([np.full(n, 7 * 3600), np.full(n, 22 * 3600)], axis=1)[:, None]
    return p.replace(
        order_store=np.full(n, -1),
        order_windows=open_all_day,
        window_start_s=open_all_day[:, 0, 0],
        window_end_s=open_all_day[:, 0, 1],
    )


def test_the_margin_grows_along_a_run_of_legs_and_starts_again_after_a_wait():
    """With windows open all day a van never waits, so each drop-off carries the delays
    of every leg and stop before it; a stop the van must wait for starts on time."""
    n = 8
    p = _open_all_day(_uncertain(n))
    route = _drops(n)
    m = risk_margins(p, [route])
    assert (m > 0).all()
    assert m[-1] > 2 * m[0]
    assert (np.diff(m) > -0.1 * m[1:]).all()  # (sampling wobbles a little)
    # the fifth stop opens two hours after the van would arrive, and the first closes
    # soon after it arrives (so the van cannot leave later instead): it waits there
    sched = schedule(p, route)
    w = p.order_windows.copy()
    w[0, 0, 1] = int(sched.arrival_s[1]) + 300
    w[4, 0, 0] = int(sched.arrival_s[5]) + 2 * 3600
    waits = p.replace(order_windows=w, window_start_s=w[:, 0, 0], window_end_s=w[:, 0, 1])
    assert schedule(waits, route).wait_s[5] > 3600
    m2 = risk_margins(waits, [route])
    assert m2[4] == 0
    assert m2[5] < m[5] and (m2[:4] == m[:4]).all()


def test_no_spread_or_no_late_chance_means_no_margin():
    p = _uncertain(6, spread=0.0)
    assert (risk_margins(p, [_drops(6)]) == 0).all()
    q = _uncertain(6).replace(late_chance=0.0)
    assert (risk_margins(q, [_drops(6)]) == 0).all()


def test_a_smaller_late_chance_asks_for_more_margin():
    loose, tight = _uncertain(8, chance=0.3), _uncertain(8, chance=0.02)
    route = [_drops(8)]
    assert (risk_margins(tight, route) >= risk_margins(loose, route)).all()
    assert risk_margins(tight, route).sum() > risk_margins(loose, route).sum()


def test_a_plan_with_a_late_chance_keeps_each_orders_own_margin():
    """The second search plans each drop-off its risk margin before its window closes;
    the plan answers the problem with those margins (its schedule keeps them) and
    promises the windows as given."""
    p = _uncertain(30, vehicles=4)
    plan = solve(p, FAST)
    assert_plan_valid(plan)
    assert plan.summary()["assigned"] == 30
    assert plan.inputs["late_chance"] == 0.1
    risk = plan.inputs["search"]["risk_margins"]
    assert risk["kept"].startswith("the second")
    margin = plan.problem.order_margin_s
    assert (margin > 0).sum() == risk["orders_with_margin"] > 0
    assert (plan.problem.window_end_s == p.window_end_s).all()
    for s in plan.schedules:
        drop = np.array([k == DROPOFF for k in s.kind])
        orders = np.array(s.route.orders)[drop[1:-1]]
        begin = (s.arrival_s + s.wait_s)[drop]
        assert (begin <= s.window_end_s[drop] - margin[orders]).all()


def test_spreads_are_checked_with_the_problem():
    p = _banded(5, 0)
    with pytest.raises(ValueError, match="late_chance needs"):
        p.replace(late_chance=0.1)
    with pytest.raises(ValueError, match="travel_sd"):
        p.replace(travel_sd=np.full(p.n_bands + 1, 0.1))
    with pytest.raises(ValueError, match="dropoff_sd"):
        p.replace(dropoff_sd=np.full(5, -0.1))


def _promised_at_planned_start(p, route):
    """``p`` with every drop-off of ``route`` promised to start no later than planned."""
    sched = schedule(p, route)
    begin = (sched.arrival_s + sched.wait_s)[1:-1].astype(np.int64)
    w = p.order_windows.copy()
    w[np.array(route.orders), 0, 1] = begin
    return p.replace(order_windows=w, window_end_s=w[:, 0, 1])


def test_a_forecast_keeps_the_promises_its_times_leave_room_for():
    """Promised exactly at the planned starts, a plan on the median times keeps about half
    of them when driven, the same plan on 0.9-quantile times nearly all; promised hours
    later, all of them; without spreads there is no forecast."""
    n = 8
    p = _open_all_day(_uncertain(n, chance=0.0))
    route = _drops(n)
    assert forecast_on_time(p, [route]) == 1.0
    tight = _promised_at_planned_start(p, route)
    on_median = forecast_on_time(tight, [route])
    on_p90 = forecast_on_time(tight.replace(plan_quantile=0.9), [route])
    assert on_median is not None and on_p90 is not None
    assert 0.35 < on_median < 0.6
    assert on_p90 > 0.9
    assert forecast_on_time(p.replace(travel_sd=np.zeros(0)), [route]) is None


def test_a_learned_plan_reports_its_forecast_in_the_summary():
    p = _uncertain(20, vehicles=3, chance=0.0)
    plan = solve(p, FAST)
    forecast = plan.summary()["on_time_forecast"]
    assert forecast == plan.on_time_forecast and 0.5 < forecast <= 1.0
    certain = solve(p.replace(travel_sd=np.zeros(0)), FAST)
    assert "on_time_forecast" not in certain.summary()
