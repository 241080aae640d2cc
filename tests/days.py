"""Small delivery days on the tiny synthetic city, shared by the routing tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from conftest import PLAN_DATE
from fleetroute import build_problem
from fleetroute.routing import Problem


def day_orders(city, n, *, seed=0, store_share=0.0, window=None):
    rng = np.random.default_rng(seed)
    nodes = rng.choice(city.n_nodes, n, replace=False)
    frame = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "lat": city.lat[nodes],
            "lon": city.lon[nodes],
            "items": rng.integers(1, 10, n),
            "demand": rng.integers(1, 4, n),
        }
    )
    if store_share:
        frame["store_id"] = np.where(rng.random(n) < store_share, rng.choice(["S1", "S2"], n), "")
    if window is not None:
        start = rng.integers(window[0], window[1], n)
        frame["window_start"] = [f"{h:02d}:00" for h in start]
        frame["window_end"] = [f"{h + 1:02d}:30" for h in start]
    return frame


def day_vehicles(city, k, **columns):
    depot = int(np.argmin((city.lat - city.lat.mean()) ** 2 + (city.lon - city.lon.mean()) ** 2))
    frame = pd.DataFrame(
        {
            "vehicle_id": [f"v{i}" for i in range(k)],
            "depot_lat": city.lat[depot],
            "depot_lon": city.lon[depot],
            "shift_start": "08:00",
            "shift_end": "18:00",
        }
    )
    for name, value in columns.items():
        frame[name] = value
    return frame


def day_stores(city):
    return pd.DataFrame(
        {
            "store_id": ["S1", "S2"],
            "lat": city.lat[[5, 300]],
            "lon": city.lon[[5, 300]],
            "open": ["08:00", "09:00"],
            "close": ["20:00", "20:00"],
        }
    )


def day_problem(city, orders, vehicles, stores=None) -> Problem:
    problem, _ = build_problem(orders, vehicles, road_map=city, stores=stores, plan_date=PLAN_DATE)
    return problem
