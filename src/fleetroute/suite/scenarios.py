"""The suite's scenarios: the versioned scenarios file, each scenario's city, day and model."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fleetroute.errors import InputError

PLAN_DATE = date(2026, 3, 2)
#: Scenario keys and their defaults.
DEFAULTS: dict[str, Any] = {
    "layout": "grid",
    "stores": 0,
    "window_h": 2,
    "vehicles": 10,
    "time_limit_s": 10.0,
    "model_days": 0,
    "store_share": 0.5,
    "seed": 1,
}
_REQUIRED = ("name", "nodes", "orders")


def load_scenarios(
    path: str | Path, profile: str, names: list[str] | None = None
) -> list[dict[str, Any]]:
    """The scenarios of ``profile`` in a scenarios file, defaults filled in; or, given
    ``names``, those scenarios of the file whatever their profile."""
    source = Path(path)
    if not source.is_file():
        raise InputError(str(source), "no such scenarios file")
    try:
        doc = tomllib.loads(source.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(source), f"is not valid TOML ({exc})") from None
    by_name = {}
    for i, sc in enumerate(doc.get("scenario", [])):
        missing = [k for k in _REQUIRED if k not in sc]
        if missing:
            raise InputError(str(source), f"scenario {i + 1} has no {missing[0]}")
        unknown = set(sc) - set(DEFAULTS) - set(_REQUIRED)
        if unknown:
            raise InputError(
                str(source), f"scenario {sc['name']}: unknown key {sorted(unknown)[0]}"
            )
        by_name[sc["name"]] = {**DEFAULTS, **sc, "version": doc.get("version", 0)}
    if names:
        missing_names = [n for n in names if n not in by_name]
        if missing_names:
            raise InputError(str(source), f"has no scenario '{missing_names[0]}'")
        return [by_name[n] for n in names]
    profiles = doc.get("profiles", {})
    if profile not in profiles:
        have = ", ".join(sorted(profiles)) or "none"
        raise InputError(str(source), f"no profile '{profile}' (it has {have})")
    names = profiles[profile]
    unknown_names = [n for n in names if n not in by_name]
    if unknown_names:
        raise InputError(str(source), f"profile {profile} names no scenario '{unknown_names[0]}'")
    return [by_name[n] for n in names]


def city_file(sc: dict[str, Any], cache: Path) -> Path:
    """The scenario's city file, made once (in a child process, so that building the graph
    with OSMnx does not count toward the peak memory of the process that plans on it)."""
    path = cache / f"city_{sc['layout']}_{sc['nodes']}_{sc['seed']}.graphml"
    if not path.exists():
        args = [str(path), str(sc["nodes"]), str(sc["seed"]), sc["layout"]]
        subprocess.run([sys.executable, "-c", _GENERATE, *args], capture_output=True, check=True)
    return path


_GENERATE = """import sys
from fleetroute.maps import write_synthetic_city
path, nodes, seed, layout = sys.argv[1:]
write_synthetic_city(path + ".tmp", int(nodes), seed=int(seed), layout=layout)
import os
os.replace(path + ".tmp", path)
"""


def scenario_stores(road_map: Any, k: int, rng: np.random.Generator) -> pd.DataFrame:
    """``k`` stores at random nodes of the map, open 07:00-22:00."""
    pick = rng.choice(road_map.n_nodes, k, replace=False) if k else np.zeros(0, dtype=int)
    return pd.DataFrame(
        {
            "store_id": [f"S{i + 1}" for i in range(k)],
            "lat": road_map.lat[pick],
            "lon": road_map.lon[pick],
            "open": "07:00",
            "close": "22:00",
        }
    )


def vans(road_map: Any, n: int) -> pd.DataFrame:
    """``n`` vans at the map's centre: capacity 30, 08:00-22:00, fixed 40, 25/h, 0.3/km."""
    lat, lon = road_map.centre
    return pd.DataFrame(
        {
            "vehicle_id": [f"van{i + 1:03d}" for i in range(n)],
            "depot_lat": lat,
            "depot_lon": lon,
            "capacity": 30,
            "shift_start": "08:00",
            "shift_end": "22:00",
            "fixed_cost": 40.0,
            "cost_per_hour": 25.0,
            "cost_per_km": 0.3,
        }
    )


def scenario_day(sc: dict[str, Any], road_map: Any) -> tuple[Any, Any, Any]:
    """The scenario's day on its city: orders, vehicles and stores (DataFrames)."""
    from fleetroute.simulator.world import simulate_orders

    rng = np.random.default_rng(sc["seed"])
    stores = scenario_stores(road_map, sc["stores"], rng)
    orders = simulate_orders(
        road_map,
        stores,
        n_orders=sc["orders"],
        window_h=sc["window_h"],
        store_share=sc["store_share"],
        seed=sc["seed"],
    )
    return orders, vans(road_map, sc["vehicles"]), stores


def scenario_model(
    sc: dict[str, Any], road_map: Any, stores: pd.DataFrame
) -> tuple[Any, dict[str, Any], float]:
    """The ETA model trained on ``model_days`` of the city's simulated history, its metrics
    on two later days, and the seconds training took. The history's shops happen at the
    day's ``stores`` (:func:`scenario_day`'s; none: the simulator draws its own), as a
    business's history would: drawn elsewhere, the model put the stores' shop times where
    they were not (on the 400-order store day its median covered 58% of the shops at the
    day's stores, 49% at its own)."""
    import fleetroute
    from fleetroute.simulator.world import simulate_history

    shops_at = stores if len(stores) else None
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        per_day = 2000
        train = simulate_history(
            road_map, root / "train", days=sc["model_days"], trips_per_day=per_day,
            stops_per_day=per_day * 2 // 3, seed=sc["seed"],
            stores=shops_at,
        )  # fmt: skip
        test = simulate_history(
            road_map, root / "test", days=2, trips_per_day=per_day,
            stops_per_day=per_day * 2 // 3, seed=sc["seed"] + 1, start=PLAN_DATE,
            stores=shops_at,
        )  # fmt: skip
        t0 = time.perf_counter()
        model = fleetroute.train_eta(road_map, train["trips"], train["stops"])
        train_s = time.perf_counter() - t0
        metrics = fleetroute.evaluate_eta(model, road_map, test["trips"], test["stops"])
    return model, metrics, train_s
