"""Regenerate the bundled example: a small synthetic city and one day of orders.

    python examples/generate.py

Writes city.graphml, orders.csv, vehicles.csv and stores.csv beside this file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fleetroute.maps import synthetic_city

HERE = Path(__file__).parent


def main() -> None:
    import osmnx as ox

    rng = np.random.default_rng(7)
    G = synthetic_city(900, seed=7, center=(52.37, 4.89), block_m=150)
    ox.save_graphml(G, HERE / "city.graphml")
    lat = np.array([d["y"] for _, d in G.nodes(data=True)])
    lon = np.array([d["x"] for _, d in G.nodes(data=True)])
    box = (lat.min(), lat.max(), lon.min(), lon.max())

    def points(k: int) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.round(rng.uniform(box[0], box[1], k), 6),
            np.round(rng.uniform(box[2], box[3], k), 6),
        )

    slat, slon = points(2)
    pd.DataFrame(
        {
            "store_id": ["S1", "S2"],
            "lat": slat,
            "lon": slon,
            "open": ["07:00", "08:00"],
            "close": ["21:00", "20:00"],
        }
    ).to_csv(HERE / "stores.csv", index=False)

    n = 40
    olat, olon = points(n)
    start_h = rng.choice([9, 10, 11, 12, 13, 14, 15], n)
    width_h = rng.choice([1, 2, 2, 3], n)
    store = np.where(rng.random(n) < 0.5, rng.choice(["S1", "S2"], n), "")
    pd.DataFrame(
        {
            "order_id": [f"A{i + 1:03d}" for i in range(n)],
            "lat": olat,
            "lon": olon,
            "store_id": store,
            "items": rng.integers(1, 30, n),
            "demand": rng.integers(1, 4, n),
            "window_start": [f"{h:02d}:00" for h in start_h],
            "window_end": [f"{h + w:02d}:00" for h, w in zip(start_h, width_h, strict=True)],
            "customer": [f"customer {i + 1}" for i in range(n)],
        }
    ).to_csv(HERE / "orders.csv", index=False)

    depot = (round(float(np.median(lat)), 6), round(float(np.median(lon)), 6))
    pd.DataFrame(
        {
            "vehicle_id": ["van1", "van2", "van3", "van4"],
            "depot_lat": [depot[0]] * 4,
            "depot_lon": [depot[1]] * 4,
            "capacity": [20, 20, 20, 30],
            "shift_start": ["08:00", "08:00", "12:00", "08:00"],
            "shift_end": ["16:00", "16:00", "20:00", "18:00"],
            "fixed_cost": [20, 20, 20, 30],
            "cost_per_hour": [25, 25, 25, 30],
            "cost_per_km": [0.3, 0.3, 0.3, 0.4],
        }
    ).to_csv(HERE / "vehicles.csv", index=False)


if __name__ == "__main__":
    main()
