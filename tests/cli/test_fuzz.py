"""Fuzzed input files: whatever orders.csv, vehicles.csv and stores.csv hold, reading and
checking them ends in a problem or in one InputError (never another exception), and
`route plan` ends with exit 0 or 2, no traceback, and a complete folder or none.

The reading layer takes thousands of cases here; whole `route plan` runs take fewer (each
one solves). `benchmarks/fuzz.py` runs both for longer."""

from __future__ import annotations

import functools
import os
import string
import warnings

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, PLAN_DATE
from fleetroute import InputError, InputWarning, build_problem, maps
from fleetroute.cli import cli
from fleetroute.io.writers import PLAN_FILES

#: How many cases: CI's share by default, more with FLEETROUTE_FUZZ_SCALE (the benchmark).
SCALE = float(os.environ.get("FLEETROUTE_FUZZ_SCALE", "1"))

#: Cells that probe the readers: numbers out of range, times, formulas, blanks, markup.
NASTY = ["", " ", "nan", "NaN", "inf", "-1", "0", "1e309", "1,5", "52.37", "4.89", "-90.5",
         "08:00", "25:00", "7:60", "2026-03-02T09:00", "08:00-10:00;12:00-14:00", "10:00-08:00",
         "=1+1", "'=x", "<script>", "frozen", "frozen;;heavy", "S1", "S9", "van1", "\u00e9\u00e8",
         "9" * 30, "1.0", "3.5", "true"]  # fmt: skip

ORDER_COLUMNS = ["order_id", "lat", "lon", "store_id", "items", "demand", "window_start",
                 "window_end", "service_s", "priority", "skills", "demand_kg", "windows",
                 "late_cost_per_h", "max_late_s", "weight", "note"]  # fmt: skip
VEHICLE_COLUMNS = ["vehicle_id", "depot_lat", "depot_lon", "end_lat", "end_lon", "capacity",
                   "shift_start", "shift_end", "fixed_cost", "cost_per_hour", "cost_per_km",
                   "skills", "capacity_kg", "max_route_s", "max_distance_m", "reload_s",
                   "break_start", "max_stops"]  # fmt: skip
STORE_COLUMNS = ["store_id", "lat", "lon", "open", "close", "visit_s"]

#: Plausible values by column, so that cases get past the first check now and then.
PLAUSIBLE = {
    "order_id": st.sampled_from(["a", "b", "c", "a"]),
    "vehicle_id": st.sampled_from(["v1", "v2", "v1"]),
    "store_id": st.sampled_from(["", "S1", "S2"]),
    "lat": st.floats(52.355, 52.39).map(lambda x: f"{x:.5f}"),
    "depot_lat": st.floats(52.355, 52.39).map(lambda x: f"{x:.5f}"),
    "lon": st.floats(4.87, 4.92).map(lambda x: f"{x:.5f}"),
    "depot_lon": st.floats(4.87, 4.92).map(lambda x: f"{x:.5f}"),
    "window_start": st.sampled_from(["08:00", "10:00", "14:00"]),
    "window_end": st.sampled_from(["12:00", "16:00", "09:00"]),
    "shift_start": st.sampled_from(["07:00", "08:00"]),
    "shift_end": st.sampled_from(["18:00", "20:00", "06:00"]),
}


def _nasty() -> st.SearchStrategy[str]:
    junk = st.text(alphabet=string.printable + "\u00e9\u2028", max_size=6)
    return st.one_of(st.sampled_from(NASTY), junk, st.integers(-5, 500).map(str))


def _plausible(column: str) -> st.SearchStrategy[str]:
    return PLAUSIBLE.get(column, st.one_of(st.just(""), st.integers(0, 30).map(str)))


@st.composite
def tables(draw, columns: list[str], required: int, max_rows: int) -> pd.DataFrame:
    """A table of text cells: usually the first ``required`` columns, some of the others;
    three in four plausible but for at most one cell, the others messy throughout."""
    keep = [c for c in columns[:required] if draw(st.integers(0, 19)) > 0]
    keep += draw(st.lists(st.sampled_from(columns[required:]), max_size=5, unique=True))
    n = draw(st.integers(0, max_rows))
    ids = columns[0]
    if draw(st.integers(0, 3)) > 0:
        table = {c: [draw(_plausible(c)) for _ in range(n)] for c in keep}
        if ids in table:
            table[ids] = [f"{ids[0]}{i}" for i in range(n)]
        if n and keep and draw(st.integers(0, 2)) == 0:
            table[draw(st.sampled_from(keep))][draw(st.integers(0, n - 1))] = draw(_nasty())
    else:
        table = {c: [draw(st.one_of(_plausible(c), _nasty())) for _ in range(n)] for c in keep}
    return pd.DataFrame(table, dtype=object)


SLOW_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

DAYS = st.tuples(
    tables(ORDER_COLUMNS, 3, 6),
    tables(VEHICLE_COLUMNS, 3, 3),
    st.one_of(st.none(), tables(STORE_COLUMNS, 3, 2)),
)


@functools.cache
def _example_map():
    return maps.load(EXAMPLES / "city.graphml")


def _write(tmp, orders, vehicles, stores):
    paths = {"orders": tmp / "orders.csv", "vehicles": tmp / "vehicles.csv"}
    orders.to_csv(paths["orders"], index=False)
    vehicles.to_csv(paths["vehicles"], index=False)
    if stores is not None:
        paths["stores"] = tmp / "stores.csv"
        stores.to_csv(paths["stores"], index=False)
    return paths


@settings(max_examples=int(1500 * SCALE), deadline=None, suppress_health_check=SLOW_OK)
@given(day=DAYS)
def test_any_files_read_into_a_problem_or_one_input_error(tmp_path, day):
    paths = _write(tmp_path, *day)
    try:
        warnings.simplefilter("ignore", InputWarning)  # look-alike columns: planned anyway
        problem, _ = build_problem(paths["orders"], paths["vehicles"], road_map=_example_map(),
                                   stores=paths.get("stores"), plan_date=PLAN_DATE)  # fmt: skip
        event(f"a problem of {min(problem.n_orders, 2)}+ orders")
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).strip()
        event(f"refused: {exc.column or exc.path.rsplit('/', 1)[-1]}")


@settings(max_examples=int(40 * SCALE), deadline=None, suppress_health_check=SLOW_OK)
@given(day=DAYS)
def test_route_plan_on_any_files_exits_0_or_2_with_a_whole_folder_or_none(tmp_path, day):
    paths = _write(tmp_path, *day)
    out = tmp_path / "out"
    if out.exists():  # hypothesis reuses the folder between cases
        for f in out.iterdir():
            f.unlink()
        out.rmdir()
    args = ["plan", str(paths["orders"]), "--map", str(EXAMPLES / "city.graphml"),
            "--vehicles", str(paths["vehicles"]), "--date", PLAN_DATE.isoformat(),
            "--solution-limit", "1", "--workers", "1", "--quiet", "--out", str(out)]  # fmt: skip
    if "stores" in paths:
        args[4:4] = ["--stores", str(paths["stores"])]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code in (0, 2), r.output
    assert "Traceback" not in r.output
    if r.exit_code == 2:
        errors = [line for line in r.output.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, r.output
        assert not out.exists()
    else:
        assert sorted(p.name for p in out.iterdir()) == sorted(PLAN_FILES)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".fleetroute-")]


@pytest.mark.parametrize("garbage", [b"\xff\xfe\x00bad", b'order_id,lat\n"a,52', b"", b"\n\n"])
def test_files_that_are_not_csv_text_are_one_line(tmp_path, garbage):
    path = tmp_path / "orders.csv"
    path.write_bytes(garbage)
    r = CliRunner().invoke(cli, ["plan", str(path), "--map", str(EXAMPLES / "city.graphml"),
                                 "--vehicles", str(EXAMPLES / "vehicles.csv"), "--quiet",
                                 "--out", str(tmp_path / "out")])  # fmt: skip
    assert r.exit_code == 2 and "orders.csv" in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
