"""Reading orders, vehicles and stores: typed cells, and one clear error per bad file."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import DATA
from fleetroute.errors import InputError
from fleetroute.io.readers import read_orders, read_stores, read_vehicles
from fleetroute.times import format_time, parse_time_s

ORIGIN = datetime(2026, 3, 2)


def test_valid_orders_are_typed_with_defaults_and_extra_columns_kept():
    """Optional columns get SPEC defaults; HH:MM and ISO times become seconds; extras stay."""
    o = read_orders(DATA / "orders_valid.csv", origin=ORIGIN)
    assert list(o.index) == [2, 3, 4]  # spreadsheet rows
    assert o.loc[2, "window_start"] == 9 * 3600
    assert o.loc[3, "window_end"] == 12 * 3600 + 1800
    assert o.loc[4, "items"] == 1 and o.loc[4, "demand"] == 1
    assert pd.isna(o.loc[4, "window_start"]) and np.isnan(o.loc[2, "service_s"])
    assert o.loc[3, "service_s"] == 90 and o.loc[3, "priority"] == 1
    assert o.loc[2, "note"] == "ring twice"


def test_dataframe_input_reads_like_the_file():
    """A dispatch system can pass a DataFrame instead of a path, with the same result."""
    from_file = read_orders(DATA / "orders_valid.csv", origin=ORIGIN)
    raw = pd.read_csv(DATA / "orders_valid.csv")
    from_frame = read_orders(raw, origin=ORIGIN)
    pd.testing.assert_frame_equal(
        from_file.drop(columns="note"), from_frame.drop(columns="note"), check_dtype=False
    )


@pytest.mark.parametrize(
    ("name", "row", "column", "words"),
    [
        ("orders_misspelt_column.csv", 1, "lat", "found 'latt'"),
        ("orders_comma_decimal.csv", 2, "lat", "use a dot as the decimal separator"),
        ("orders_comma_decimal_unquoted.csv", 3, None, "more cells than the header"),
        ("orders_window_end_before_start.csv", 3, "window_end", "not after window_start"),
        ("orders_duplicate_id.csv", 4, "order_id", "used twice"),
        ("orders_bad_time.csv", 2, "window_start", "is not a time"),
        ("orders_lat_out_of_range.csv", 2, "lat", "not a latitude"),
    ],
)
def test_bad_orders_name_file_row_and_column(name, row, column, words):
    """Each bad file fails with one line naming the file, the row and the column."""
    path = DATA / name
    with pytest.raises(InputError) as err:
        read_orders(path, origin=ORIGIN)
    e = err.value
    assert (e.row, e.column) == (row, column)
    text = str(e)
    assert text.startswith(str(path)) and words in text and "\n" not in text
    if column:
        assert f"row {row}, column '{column}'" in text


def test_vehicles_defaults_and_checks():
    """Vehicle defaults follow SPEC; a shift that ends before it starts is named."""
    v = read_vehicles(DATA / "vehicles_valid.csv", origin=ORIGIN)
    assert v.loc[3, "cost_per_hour"] == 1.0 and pd.isna(v.loc[3, "capacity"])
    assert v.loc[3, "max_stops"] == 5 and v.loc[2, "shift_end"] == 16 * 3600
    with pytest.raises(InputError, match=r"row 2, column 'shift_end'"):
        read_vehicles(DATA / "vehicles_shift_end_before_start.csv", origin=ORIGIN)
    with pytest.raises(InputError, match=r"column 'end_lon'.*go together"):
        read_vehicles(DATA / "vehicles_end_lat_without_lon.csv", origin=ORIGIN)


def test_stores_open_close():
    s = read_stores(DATA / "stores_valid.csv", origin=ORIGIN)
    assert s.loc[2, "open"] == 7 * 3600 and s.loc[2, "close"] == 21 * 3600


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_orders(tmp_path / "nope.csv", origin=ORIGIN)


@given(st.integers(min_value=0, max_value=24 * 3600 - 1))
def test_hhmm_and_iso_times_round_trip(seconds):
    """Any time of the plan day reads the same as HH:MM:SS and as an ISO date-time."""
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    assert parse_time_s(f"{h:02d}:{m:02d}:{s:02d}", ORIGIN) == seconds
    assert parse_time_s(format_time(seconds, ORIGIN), ORIGIN) == seconds


@given(
    st.lists(
        st.tuples(
            st.floats(min_value=-90, max_value=90, allow_nan=False),
            st.floats(min_value=-180, max_value=180, allow_nan=False),
            st.integers(min_value=0, max_value=500),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_any_valid_orders_table_reads_back_exactly(rows):
    """Numbers written by pandas read back to the same values, whatever they are."""
    frame = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "lat": [r[0] for r in rows],
            "lon": [r[1] for r in rows],
            "items": [r[2] for r in rows],
        }
    )
    o = read_orders(frame.astype(str), origin=ORIGIN)
    np.testing.assert_array_equal(o["lat"].to_numpy(), frame["lat"].to_numpy())
    np.testing.assert_array_equal(o["items"].to_numpy(), frame["items"].to_numpy())


@given(st.text(min_size=1, max_size=12))
def test_garbage_time_cells_fail_cleanly(text):
    """A time cell either parses or raises ValueError with a message; never anything else."""
    try:
        parse_time_s(text, ORIGIN)
    except ValueError as exc:
        assert str(exc)
