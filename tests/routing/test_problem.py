"""The immutable Problem: validated once when built, changed only by making a new one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_strong_search import _banded


def test_a_problem_cannot_be_changed_in_place():
    """Its arrays are read-only: a what-if question is asked with ``replace``."""
    p = _banded(5, 0)
    with pytest.raises(ValueError):
        p.travel_s[0, 1] = 1
    with pytest.raises(ValueError):
        p.window_end_s[0] = 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"travel_s": np.zeros((3, 3), dtype=int)}, "locations x locations"),
        ({"window_end_s": np.zeros(5, dtype=int)}, "window ends before it starts"),
        ({"demand": np.ones(4, dtype=int)}, "demand must have 5 entries"),
        ({"order_loc": np.full(5, 99)}, "location that does not exist"),
        ({"order_vehicle": np.full(5, 7)}, "vehicle that does not exist"),
        ({"order_rank": np.zeros(5, dtype=int)}, "locked rank needs a locked vehicle"),
        ({"band_start_s": [0, 10, 5]}, "band_start_s must increase"),
    ],
)
def test_replace_validates_the_new_problem(change, message):
    """Every changed problem is checked again, with a message naming what is wrong."""
    with pytest.raises(ValueError, match=message):
        _banded(5, 0).replace(**change)


def test_replace_leaves_the_original_as_it_was():
    p = _banded(5, 0)
    fewer = p.replace(capacity=p.capacity // 2)
    assert (fewer.capacity == p.capacity // 2).all() and (p.capacity == 40).all()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 4), st.integers(0, 20 * 3600), st.integers(0, 4 * 3600))
def test_with_window_is_replace_with_that_one_window(order, start, length):
    """A booking tries each candidate window with ``with_window``, which checks only the
    windows again: the problem must be the one ``replace`` would build, read-only, and the
    original unchanged."""
    p = _banded(5, 0)
    windows, first, last = p.order_windows.copy(), p.window_start_s.copy(), p.window_end_s.copy()
    windows[order], first[order], last[order] = (start, start + length), start, start + length
    slow = p.replace(order_windows=windows, window_start_s=first, window_end_s=last)
    fast = p.with_window(order, start, start + length)
    for name in ("order_windows", "window_start_s", "window_end_s", "travel_s", "demand"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name))
    assert not fast.window_end_s.flags.writeable
    assert np.array_equal(p.order_windows, _banded(5, 0).order_windows)
    with pytest.raises(ValueError, match="window ends before it starts"):
        p.with_window(order, start + 1, start)


def test_with_orders_and_with_vehicles_keep_locks_on_the_kept_vehicles():
    p = _banded(6, 1, vehicles=3).replace(order_vehicle=[0, 1, 2, -1, 2, 1], order_rank=[-1] * 6)
    sub = p.with_orders([4, 1]).with_vehicles([2, 1])
    assert sub.order_id == ("o4", "o1")
    # o4 was locked to vehicle 2 (now 0), o1 to vehicle 1 (now 1)
    assert sub.order_vehicle.tolist() == [0, 1]
    assert p.with_vehicles([0]).order_vehicle.tolist() == [0, -1, -1, -1, -1, -1]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 23 * 3600))
def test_the_slowest_matrix_holds_for_every_departure_in_a_places_hours(seed, when):
    """Each row of ``slowest_travel_s`` is at least the band of any departure from that
    place inside its hours, so a plan feasible on it stays feasible when driven."""
    p = _banded(8, seed, vehicles=2, slow=1.0 + (seed % 7) / 5)
    locs = np.arange(p.loc_lat.shape[0])
    worst = p.slowest_travel_s(locs)
    for i in p.order_loc.tolist():
        k = int(np.flatnonzero(p.order_loc == i)[0])
        if p.window_start_s[k] <= when <= p.window_end_s[k] + p.dropoff_s[k]:
            for j in locs.tolist():
                assert p.leg_s(i, j, when) <= worst[i, j]
