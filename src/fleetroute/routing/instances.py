"""Standard VRP instances as fleetroute Problems: Solomon and Gehring-Homberger VRPTW,
Li & Lim PDPTW, and CVRPLIB ``.vrp`` files.

Solomon-format and VRPLIB files are parsed with the ``vrplib`` package; Li & Lim's format
(which it does not read) is parsed here. Distances follow each family's convention
(data/vrp/README.md): VRPTW and PDPTW use exact Euclidean distances, so the integer
solver works in hundredths with travel times rounded up (a schedule feasible on them is
feasible on the exact times) and costs are re-evaluated in floats; CVRPLIB uses the
per-edge ``nint`` distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fleetroute.errors import InputError
from fleetroute.routing.problem import UNLIMITED, Problem

__all__ = ["Instance", "read_instance", "SCALE"]

#: Integer units per instance distance unit for the time-window families.
SCALE = 100
_ORIGIN = datetime(2000, 1, 1)


@dataclass(frozen=True)
class Instance:
    """A standard instance: the Problem to solve and how to score and number its routes.

    Attributes
    ----------
    name, family
        E.g. ``R101``, ``solomon`` / ``lilim`` / ``cvrp``.
    problem
        Orders are customers (or pickup-delivery requests); vehicles start and end at the depot.
    distance
        ``(nodes, nodes)`` float distances in the family's convention, node 0 the depot.
    pickup_node, dropoff_node
        The instance's node number of each order's pickup (-1 without) and drop-off.
    """

    name: str
    family: str
    problem: Problem
    distance: npt.NDArray[np.float64]
    pickup_node: npt.NDArray[np.int64]
    dropoff_node: npt.NDArray[np.int64]


def _euclid(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))


def _problem(
    xy: npt.NDArray[np.float64],
    travel: npt.NDArray[np.int64],
    distance_units: npt.NDArray[np.int64],
    *,
    n_vehicles: int,
    capacity: int,
    horizon: tuple[int, int],
    fixed_cost: float,
    orders: dict[str, npt.ArrayLike],
    stores: dict[str, npt.ArrayLike] | None = None,
) -> Problem:
    k = len(orders["loc"])  # type: ignore[arg-type]
    s = stores or {"loc": [], "open": [], "close": []}
    n_stores = len(s["loc"])  # type: ignore[arg-type]
    fields: dict[str, Any] = dict(  # Problem converts and checks every array itself
        origin=_ORIGIN,
        loc_lat=xy[:, 1],
        loc_lon=xy[:, 0],
        travel_s=travel,
        distance_m=distance_units,
        order_id=[str(i + 1) for i in range(k)],
        order_loc=orders["loc"],
        order_store=orders.get("store", np.full(k, -1)),
        demand=orders["demand"],
        items=np.ones(k),
        window_start_s=orders["ready"],
        window_end_s=orders["due"],
        dropoff_s=orders["service"],
        shop_s=orders.get("shop", np.zeros(k)),
        priority=np.zeros(k),
        store_id=[str(i) for i in range(n_stores)],
        store_loc=s["loc"],
        store_open_s=s["open"],
        store_close_s=s["close"],
        vehicle_id=[f"v{i + 1}" for i in range(n_vehicles)],
        start_loc=np.zeros(n_vehicles),
        end_loc=np.zeros(n_vehicles),
        capacity=np.full(n_vehicles, capacity),
        shift_start_s=np.full(n_vehicles, horizon[0]),
        shift_end_s=np.full(n_vehicles, horizon[1]),
        fixed_cost=np.full(n_vehicles, fixed_cost),
        cost_per_hour=np.zeros(n_vehicles),
        cost_per_km=np.ones(n_vehicles),
        max_stops=np.full(n_vehicles, UNLIMITED),
    )
    return Problem(**fields)


def _vehicle_cost(distance: npt.NDArray[np.float64]) -> float:
    """A fixed cost per vehicle above any route's distance cost: fewest vehicles first."""
    return float(2 * distance.max() * distance.shape[0] * SCALE / 1000.0)


def _read_solomon(path: Path) -> Instance:
    import vrplib

    d = vrplib.read_instance(path, instance_format="solomon")
    xy = np.asarray(d["node_coord"], dtype=np.float64)
    dist = _euclid(xy)
    tw = np.asarray(d["time_window"], dtype=np.float64)
    service = np.asarray(d["service_time"], dtype=np.float64)
    n = xy.shape[0] - 1
    problem = _problem(
        xy,
        np.ceil(dist * SCALE - 1e-9).astype(np.int64),
        np.round(dist * SCALE).astype(np.int64),
        n_vehicles=int(d["vehicles"]),
        capacity=int(d["capacity"]),
        horizon=(int(tw[0, 0] * SCALE), int(tw[0, 1] * SCALE)),
        fixed_cost=_vehicle_cost(dist),
        orders={
            "loc": np.arange(1, n + 1),
            "demand": np.asarray(d["demand"])[1:],
            "ready": np.round(tw[1:, 0] * SCALE),
            "due": np.round(tw[1:, 1] * SCALE),
            "service": np.round(service[1:] * SCALE),
        },
    )
    return Instance(str(d["name"]), "solomon", problem, dist, np.full(n, -1), np.arange(1, n + 1))


def _read_lilim(path: Path) -> Instance:
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    try:
        n_vehicles, capacity = int(rows[0][0]), int(rows[0][1])
        table = np.array([[float(x) for x in r[:9]] for r in rows[1:]])
    except (ValueError, IndexError):
        raise InputError(str(path), "is not a Li & Lim PDPTW file") from None
    node = table[:, 0].astype(int)
    if not (node == np.arange(node.shape[0])).all():
        raise InputError(str(path), "node ids must run 0, 1, 2, ... in order")
    xy = table[:, 1:3]
    dist = _euclid(xy)
    demand, ready, due, service = table[:, 3], table[:, 4], table[:, 5], table[:, 6]
    pickups = np.flatnonzero(demand > 0)
    deliveries = table[pickups, 8].astype(int)
    k = pickups.shape[0]
    problem = _problem(
        xy,
        np.ceil(dist * SCALE - 1e-9).astype(np.int64),
        np.round(dist * SCALE).astype(np.int64),
        n_vehicles=n_vehicles,
        capacity=capacity,
        horizon=(int(ready[0] * SCALE), int(due[0] * SCALE)),
        fixed_cost=_vehicle_cost(dist),
        orders={
            "loc": deliveries,
            "store": np.arange(k),
            "demand": demand[pickups].astype(int),
            "ready": np.round(ready[deliveries] * SCALE),
            "due": np.round(due[deliveries] * SCALE),
            "service": np.round(service[deliveries] * SCALE),
            "shop": np.round(service[pickups] * SCALE),
        },
        # each pickup is its own "store": open at its ready time, shopping done by due + service
        stores={
            "loc": pickups,
            "open": np.round(ready[pickups] * SCALE),
            "close": np.round((due[pickups] + service[pickups]) * SCALE),
        },
    )
    return Instance(
        path.stem, "lilim", problem, dist, pickups.astype(np.int64), deliveries.astype(np.int64)
    )


def _read_cvrp(path: Path) -> Instance:
    import vrplib

    d = vrplib.read_instance(path)
    xy = np.asarray(d["node_coord"], dtype=np.float64)
    depot = int(np.asarray(d["depot"]).ravel()[0])
    if depot != 0:
        order = np.r_[depot, np.delete(np.arange(xy.shape[0]), depot)]
        xy = xy[order]
        demand = np.asarray(d["demand"])[order]
    else:
        demand = np.asarray(d["demand"])
    dist = np.floor(_euclid(xy) + 0.5)  # TSPLIB nint
    n = xy.shape[0] - 1
    capacity = int(d["capacity"])
    n_vehicles = int(np.ceil(demand.sum() / capacity) * 1.3) + 3
    units = dist.astype(np.int64)
    problem = _problem(
        xy,
        units,
        units,
        n_vehicles=n_vehicles,
        capacity=capacity,
        horizon=(0, int(units.sum()) + 1),
        fixed_cost=0.0,
        orders={
            "loc": np.arange(1, n + 1),
            "demand": demand[1:],
            "ready": np.zeros(n),
            "due": np.full(n, int(units.sum()) + 1),
            "service": np.zeros(n),
        },
    )
    return Instance(
        str(d.get("name", path.stem)), "cvrp", problem, dist, np.full(n, -1), np.arange(1, n + 1)
    )


def read_instance(path: str | Path) -> Instance:
    """Read a Solomon/Homberger (``.txt`` with ``VEHICLE``), Li & Lim (``.txt``) or
    CVRPLIB (``.vrp``) instance.

    Raises
    ------
    InputError
        When the file is missing or in none of these formats.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(str(p), "no such file")
    if p.suffix.lower() == ".vrp":
        return _read_cvrp(p)
    head = p.read_text(errors="replace")[:400].upper()
    try:
        return _read_solomon(p) if "VEHICLE" in head else _read_lilim(p)
    except InputError:
        raise
    except Exception as exc:  # vrplib raises many error types for malformed files
        raise InputError(
            str(p), f"cannot read this instance ({type(exc).__name__}: {exc})"
        ) from None
