"""The one schedule function: SPEC identities for any route, waiting and lateness."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetroute.routing import DROPOFF, PICKUP, Problem, Route, schedule


def _problem(n: int, seed: int, *, stores: bool) -> Problem:
    rng = np.random.default_rng(seed)
    locs = n + 3
    xy = rng.uniform(0, 5000, (locs, 2))
    dist = np.rint(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))).astype(int)
    ws = rng.integers(8 * 3600, 14 * 3600, n)
    return Problem(
        origin=datetime(2026, 3, 2),
        loc_lat=xy[:, 0],
        loc_lon=xy[:, 1],
        travel_s=dist // 8,
        distance_m=dist,
        order_id=[f"o{i}" for i in range(n)],
        order_loc=np.arange(n) + 3,
        order_store=rng.integers(-1, 2, n) if stores else np.full(n, -1),
        demand=rng.integers(1, 4, n),
        items=rng.integers(1, 9, n),
        window_start_s=ws,
        window_end_s=ws + rng.integers(600, 7200, n),
        dropoff_s=rng.integers(30, 600, n),
        shop_s=rng.integers(60, 900, n),
        priority=np.zeros(n),
        store_id=["S1", "S2"],
        store_loc=[1, 2],
        store_open_s=[7 * 3600, 9 * 3600],
        store_close_s=[22 * 3600] * 2,
        vehicle_id=["v1"],
        start_loc=[0],
        end_loc=[0],
        capacity=[10**6],
        shift_start_s=[6 * 3600],
        shift_end_s=[23 * 3600],
        fixed_cost=[0.0],
        cost_per_hour=[1.0],
        cost_per_km=[0.0],
        max_stops=[10**6],
    )


@st.composite
def routes(draw):
    n = draw(st.integers(min_value=1, max_value=12))
    seed = draw(st.integers(min_value=0, max_value=10_000))
    problem = _problem(n, seed, stores=draw(st.booleans()))
    order = draw(st.permutations(range(n)))
    kinds: list[str] = []
    seq: list[int] = []
    for i in order:  # a store order's pickup goes right before its drop-off or earlier
        if problem.order_store[i] >= 0:
            at = draw(st.integers(min_value=0, max_value=len(seq)))
            kinds.insert(at, PICKUP)
            seq.insert(at, i)
        kinds.append(DROPOFF)
        seq.append(i)
    return problem, Route(0, tuple(kinds), tuple(seq))


@settings(max_examples=150, deadline=None)
@given(routes())
def test_any_route_satisfies_the_spec_identities(case):
    """arrival = previous departure + travel; departure = arrival + wait + service; loads add up."""
    problem, route = case
    s = schedule(problem, route)
    np.testing.assert_array_equal(s.arrival_s[1:], s.departure_s[:-1] + s.travel_s[1:])
    np.testing.assert_array_equal(s.departure_s, s.arrival_s + s.wait_s + s.service_s)
    assert (s.wait_s >= 0).all() and (s.late_s >= 0).all()
    begin = s.arrival_s + s.wait_s
    assert (begin[1:-1] >= s.window_start_s[1:-1]).all()
    np.testing.assert_array_equal(
        s.late_s, np.maximum(0, begin - s.window_end_s) * (np.arange(len(begin)) > 0)
    )
    assert (s.load >= 0).all() and s.load[-1] == 0
    assert s.departure_s[0] >= problem.shift_start_s[0]


@settings(max_examples=100, deadline=None)
@given(routes())
def test_leaving_later_never_makes_a_stop_later_or_the_route_longer(case):
    """The delayed start saves waiting only: no stop's lateness or the end time grows."""
    problem, route = case
    s = schedule(problem, route)
    start = int(problem.shift_start_s[0])
    # the same route driven from the shift start with no delay
    t, late, end = start, [], None
    for k in range(1, len(s.loc)):
        a = t + int(s.travel_s[k])
        b = max(a, int(s.window_start_s[k]))
        late.append(max(0, b - int(s.window_end_s[k])))
        t = b + int(s.service_s[k])
        end = a
    assert (s.late_s[1:] <= np.array(late)).all()
    assert s.arrival_s[-1] <= end


def test_waiting_and_lateness_are_reported():
    """Arriving early means waiting for the window; arriving after it means late_s."""
    p = _problem(2, 1, stores=False).replace(
        window_start_s=[6 * 3600, 6 * 3600],
        window_end_s=[6 * 3600 + 60, 6 * 3600 + 60],
        shift_start_s=[6 * 3600],
    )
    s = schedule(p, Route(0, (DROPOFF, DROPOFF), (0, 1)))
    assert s.late_s[1] > 0 or s.late_s[2] > 0
    p2 = p.replace(window_start_s=[20 * 3600, 20 * 3600], window_end_s=[21 * 3600, 21 * 3600])
    s2 = schedule(p2, Route(0, (DROPOFF, DROPOFF), (0, 1)))
    assert s2.late_s.sum() == 0
    assert s2.arrival_s[1] + s2.wait_s[1] == 20 * 3600
    assert s2.wait_s[1] == 0  # the van left late enough not to wait
