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
        ({"shop_band_s": np.ones((5, 2), dtype=int)}, "shop_band_s must be"),
        ({"shop_band_s": np.full((5, 3), -1)}, "shop_band_s must be"),
    ],
)
def test_replace_validates_the_new_problem(change, message):
    """Every changed problem is checked again, with a message naming what is wrong."""
    with pytest.raises(ValueError, match=message):
        _banded(5, 0).replace(**change)


def test_replace_checks_the_matrices_again_only_when_they_change():
    """A changed matrix is checked entry by entry; other changes keep the matrices (a big
    day's checks took 0.13 s a time) and give the problem ``__init__`` would build."""
    import dataclasses

    p = _banded(5, 0)
    with pytest.raises(ValueError, match="must not be negative"):
        p.replace(travel_s=-np.ones_like(p.travel_s))
    with pytest.raises(ValueError, match="must not be negative"):
        p.replace(band_travel_s=-np.ones_like(p.band_travel_s))
    with pytest.raises(TypeError, match="no field 'speed'"):
        p.replace(speed=2)
    fewer = p.with_orders([0, 2, 3])
    built = dataclasses.replace(fewer)  # through __init__ and every check
    for f in dataclasses.fields(p):
        a, b = getattr(fewer, f.name), getattr(built, f.name)
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b, f.name
    assert fewer.travel_s is p.travel_s and not fewer.shop_s.flags.writeable


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


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 5), min_size=1, max_size=6, unique=True),
    st.lists(st.integers(0, 20 * 3600), min_size=6, max_size=6),
)
def test_shops_re_timed_take_the_time_of_the_band_they_begin_in(orders, begin):
    """Bands start at 0, 12:00 and 14:00: each re-timed shop takes its band's time, the
    other orders keep theirs, and cutting the problem to some orders keeps their rows;
    without hour-dependent shop times the problem is returned as it is."""
    p = _banded(6, 2)
    shops = np.arange(18).reshape(6, 3) * 100
    p = p.replace(shop_band_s=shops)
    at = np.array(begin[: len(orders)])
    retimed = p.with_shops_at(orders, at)
    band = (at >= 12 * 3600).astype(int) + (at >= 14 * 3600)
    assert retimed.shop_s[orders].tolist() == shops[orders, band].tolist()
    others = np.setdiff1d(np.arange(6), orders)
    assert retimed.shop_s[others].tolist() == p.shop_s[others].tolist()
    assert p.with_orders(orders).shop_band_s.tolist() == shops[orders].tolist()
    plain = _banded(6, 2)  # shop times that do not depend on the hour stay as they are
    assert plain.with_shops_at(orders, at) is plain


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


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 23 * 3600))
def test_a_leg_is_charged_every_band_it_may_be_driven_in_on_time(seed, when):
    """With the latest arrivals, a leg's row covers each departure from which the leg can
    still reach its end in time on the matrix's own figure: a plan feasible on it stays
    feasible when each leg is driven in the band it leaves in."""
    p = _banded(8, seed, vehicles=2, slow=1.0 + (seed % 7) / 5)
    locs = np.arange(p.loc_lat.shape[0])
    lo, hi = p.departure_spans()
    arrive_by = p.latest_arrivals()
    worst = p.worst_travel_s(locs, lo, hi, arrive_by)
    for i in locs.tolist():
        if lo[i] <= when <= hi[i]:
            for j in locs.tolist():
                if when + worst[i, j] <= arrive_by[j]:
                    assert p.leg_s(i, j, when) <= worst[i, j]


def test_a_leg_between_two_stops_of_one_window_is_not_charged_the_next_bands_rush():
    """Two drop-offs in 10:00-12:00, just before the 12:00-14:00 rush: the leg between them
    must arrive by 12:00, so it is planned in its own band; leaving the second drop-off
    for a later stop may fall in the rush, and is planned so."""
    p = _banded(3, 0, slow=2.0).replace(
        window_start_s=[10 * 3600, 10 * 3600, 12 * 3600],
        window_end_s=[12 * 3600, 12 * 3600, 14 * 3600],
    )
    locs = np.arange(p.loc_lat.shape[0])
    lo, hi = p.departure_spans()
    a, b, c = p.order_loc.tolist()
    by_row = p.worst_travel_s(locs, lo, hi)
    by_leg = p.worst_travel_s(locs, lo, hi, p.latest_arrivals())
    free, rush = p.band_travel_s[0], p.band_travel_s[1]
    assert by_row[a, b] == rush[a, b]  # the row's slowest band: a may be left after 12:00
    assert by_leg[a, b] == free[a, b]
    assert by_leg[b, c] == rush[b, c]
