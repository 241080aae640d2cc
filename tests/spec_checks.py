"""Checks of the SPEC.md identities, applied to every plan the tests produce."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from fleetroute.routing import ROUTE_COLUMNS, Plan


def _seconds(col: pd.Series, origin: datetime) -> np.ndarray:
    return np.array([(datetime.fromisoformat(t) - origin).total_seconds() for t in col])


def assert_plan_valid(plan: Plan, *, hard_windows: bool = True) -> pd.DataFrame:
    """Assert every SPEC identity on ``plan`` and return its routes table."""
    p = plan.problem
    table = plan.routes_table()
    assert list(table.columns[: len(ROUTE_COLUMNS)]) == list(ROUTE_COLUMNS)
    delivered: list[str] = []
    for vehicle_id, rows in table.groupby("vehicle_id", sort=False):
        v = p.vehicle_id.index(vehicle_id)
        arr = _seconds(rows["arrival"], p.origin)
        dep = _seconds(rows["departure"], p.origin)
        travel = rows["travel_s"].to_numpy()
        wait = rows["wait_s"].to_numpy()
        service = rows["service_s"].to_numpy()
        kinds = rows["kind"].tolist()
        assert kinds[0] == "start" and kinds[-1] == "end"
        assert list(rows["seq"]) == list(range(len(rows)))
        # arrival = previous departure + travel_s; departure = arrival + wait + service
        np.testing.assert_array_equal(arr[1:], dep[:-1] + travel[1:])
        np.testing.assert_array_equal(dep, arr + wait + service)
        assert (wait >= 0).all() and (travel >= 0).all()
        # load within capacity, never negative, empty at the end
        load = rows["load"].to_numpy()
        assert (load >= 0).all() and (load <= p.capacity[v]).all()
        assert load[-1] == 0
        # the shift is kept
        assert dep[0] >= p.shift_start_s[v] and arr[-1] <= p.shift_end_s[v]
        # a pickup comes before its drop-off, on the same vehicle
        order_ids = rows["order_id"].tolist()
        for pos, (kind, oid) in enumerate(zip(kinds, order_ids, strict=True)):
            if kind == "dropoff":
                delivered.append(oid)
                i = p.order_id.index(oid)
                if p.order_store[i] >= 0:
                    picks = [k for k in range(pos) if kinds[k] == "pickup" and order_ids[k] == oid]
                    assert len(picks) == 1, f"order {oid} delivered without its pickup before"
        # windows kept: service starts inside them
        begin = arr + wait
        ws = _seconds(rows["window_start"], p.origin)
        we = _seconds(rows["window_end"], p.origin)
        stops = np.array([k in ("pickup", "dropoff") for k in kinds])
        assert (begin[stops] >= ws[stops]).all()
        if hard_windows:
            assert (rows["late_s"].to_numpy() == 0).all()
            drop = np.array([k == "dropoff" for k in kinds])
            assert (begin[drop] <= we[drop]).all()
        # travel and distance are those of the problem's matrices
        locs = [
            np.flatnonzero((p.loc_lat == la) & (p.loc_lon == lo))
            for la, lo in zip(rows["lat"], rows["lon"], strict=True)
        ]
        for k in range(1, len(rows)):  # the band of the leg's departure, when travel has bands
            assert any(
                p.leg_s(a, b, int(dep[k - 1])) == travel[k] for a in locs[k - 1] for b in locs[k]
            )
    # every order is delivered once or listed as unassigned with a reason
    assert len(delivered) == len(set(delivered))
    unassigned = plan.unassigned_table()
    assert set(delivered) | set(unassigned["order_id"]) == set(p.order_id)
    assert not set(delivered) & set(unassigned["order_id"])
    assert all(isinstance(r, str) and len(r) > 10 for r in unassigned["reason"])
    s = plan.summary()
    assert s["assigned"] == len(delivered) and s["unassigned"] == len(unassigned)
    assert s["total_distance_m"] == int(table["distance_m"].sum())
    return table
