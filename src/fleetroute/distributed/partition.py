"""Partitioned planning: the orders of several depots or zones, each partition planned as
its own problem, in parallel on Dask.

Partitions come from a column that orders.csv and vehicles.csv share (``zone``,
``depot_id``, or any other), or with ``by="auto"`` from the vehicles' depots: each order
goes to the depot nearest to it in free-flow driving time, and each vehicle to its own
depot. Every partition is one task on a Dask cluster (a local one on all cores by default,
or an existing scheduler); the road map is sent to each worker once. The inputs are read
and checked whole on the caller's side first, so a bad cell is reported with the row of
the file it is in; a partition that fails on its worker (a depot off the map, say) is
reported by name, its orders are listed as unassigned with that reason, and the others
are planned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fleetroute.api import Progress
from fleetroute.distributed.cluster import TaskError, dask_client, run_named, share
from fleetroute.errors import InputError
from fleetroute.eta_model.baseline import EtaProvider
from fleetroute.io.readers import (
    FleetSpec,
    check_store_ids,
    read_orders,
    read_stores,
    read_vehicles,
)
from fleetroute.io.tables import TableSource, read_raw
from fleetroute.maps.load import load as load_map
from fleetroute.maps.roadmap import RoadMap
from fleetroute.routing.combined import PartitionedPlan, PlanTables
from fleetroute.routing.plan import Plan
from fleetroute.times import origin_of

__all__ = ["AUTO", "Partition", "split", "plan_partitioned"]

#: ``by`` value that partitions orders by their nearest depot.
AUTO = "auto"


@dataclass(frozen=True)
class Partition:
    """One partition's rows of each input, as read (text cells, spreadsheet row index)."""

    name: str
    orders: pd.DataFrame
    vehicles: pd.DataFrame | None
    stores: pd.DataFrame | None


def _rows(raw: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    part = raw.loc[mask]
    part.attrs["source"] = raw.attrs["source"]
    return part


def _key(raw: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """The partition column of a raw table, every cell filled."""
    label = raw.attrs["source"]
    if column not in raw.columns:
        raise InputError(label, f"has no '{column}' column to partition {what} by", row=1,
                         column=column)  # fmt: skip
    values = raw[column].astype(str).str.strip().to_numpy(object)
    empty = np.flatnonzero(values == "")
    if empty.size:
        raise InputError(label, f"is empty (every row needs its {column})",
                         row=int(raw.index[empty[0]]), column=column)  # fmt: skip
    return values


def _depot_keys(veh: pd.DataFrame, raw_v: pd.DataFrame) -> np.ndarray:
    """Each vehicle's depot name: its ``depot_id`` where the file has one, else
    ``depot-K`` numbered by first appearance of its start point."""
    if "depot_id" in raw_v.columns:
        return _key(raw_v, "depot_id", "vehicles")
    points = list(zip(veh["depot_lat"].round(6), veh["depot_lon"].round(6), strict=True))
    number: dict[tuple[float, float], int] = {}
    return np.array([f"depot-{number.setdefault(p, len(number) + 1)}" for p in points], object)


def _nearest_depot(
    rmap: RoadMap, veh: pd.DataFrame, depot_key: np.ndarray, o: pd.DataFrame
) -> np.ndarray:
    """Each order's nearest depot (free-flow driving time from the depot to the order)."""
    names = list(dict.fromkeys(depot_key.tolist()))
    first = [int(np.flatnonzero(depot_key == n)[0]) for n in names]
    d_node, _ = rmap.snap(veh["depot_lat"].to_numpy(float)[first],
                          veh["depot_lon"].to_numpy(float)[first])  # fmt: skip
    o_node, _ = rmap.snap(o["lat"].to_numpy(float), o["lon"].to_numpy(float))
    travel, _ = rmap.matrix(d_node, o_node)
    return np.asarray(names, dtype=object)[np.argmin(travel, axis=0)]


def split(
    orders: TableSource,
    vehicles: TableSource | None = None,
    *,
    by: str,
    road_map: RoadMap,
    stores: TableSource | None = None,
    fleet: FleetSpec | None = None,
    plan_date: date | None = None,
) -> tuple[list[Partition], pd.DataFrame]:
    """Read and check the inputs whole, then cut them into partitions.

    Returns
    -------
    partitions, left_out
        The partitions in order of first appearance in orders.csv, and ``order_id,
        reason, lat, lon, partition`` of orders whose partition has no vehicle.

    Raises
    ------
    InputError
        For a bad cell anywhere (with its file's row), a missing or empty partition column,
        or a fleet shorthand with a column partition (the shorthand has no such column).
    """
    origin = origin_of(plan_date or date.today())
    raw_o = read_raw(orders, "orders")
    o = read_orders(raw_o, origin=origin)
    raw_s = None
    known = pd.Series([], dtype=object)
    if stores is not None:
        raw_s = read_raw(stores, "stores")
        known = read_stores(raw_s, origin=origin)["store_id"]
    check_store_ids(o, known, orders_label=raw_o.attrs["source"],
                    stores_label=raw_s.attrs["source"] if raw_s is not None else None)  # fmt: skip
    raw_v = None
    if vehicles is not None:
        raw_v = read_raw(vehicles, "vehicles")
        veh = read_vehicles(raw_v, origin=origin)
    elif fleet is None:
        raise InputError(
            "--vehicles", "no fleet given: use --vehicles or --fleet-size with --depot"
        )

    if by == AUTO:
        if raw_v is None:  # the shorthand fleet has one depot: one partition
            return [Partition("depot-1", raw_o, None, raw_s)], _no_orders()
        v_key = _depot_keys(veh, raw_v)
        o_key = _nearest_depot(road_map, veh, v_key, o)
    else:
        if raw_v is None:
            raise InputError("--vehicles", f"partitioning by '{by}' needs a vehicles file with "
                             f"a '{by}' column, not the --fleet-size shorthand")  # fmt: skip
        o_key = _key(raw_o, by, "orders")
        v_key = _key(raw_v, by, "vehicles")

    parts: list[Partition] = []
    left: list[pd.DataFrame] = []
    store_ids = o["store_id"].to_numpy(object)
    for name in dict.fromkeys(o_key.tolist()):
        in_part = o_key == name
        if not (v_key == name).any():
            reason = f"no vehicle is based in its partition '{name}'"
            left.append(left_out_rows(raw_o[in_part], str(name), reason))
            continue
        part_stores = None
        if raw_s is not None:
            wanted = set(store_ids[in_part].tolist())
            ids = raw_s["store_id"].astype(str).str.strip()
            part_stores = _rows(raw_s, ids.isin(wanted).to_numpy())
        parts.append(
            Partition(str(name), _rows(raw_o, in_part), _rows(raw_v, v_key == name), part_stores)
        )
    return parts, pd.concat(left, ignore_index=True) if left else _no_orders()


#: The columns of the orders no partition planned.
LEFT_OUT_COLUMNS = ["order_id", "reason", "lat", "lon", "partition"]


def _no_orders() -> pd.DataFrame:
    return pd.DataFrame(columns=LEFT_OUT_COLUMNS)


def left_out_rows(orders: pd.DataFrame, partition: str, reason: str) -> pd.DataFrame:
    """``LEFT_OUT_COLUMNS`` of orders (raw rows, already checked) left out for ``reason``."""
    return pd.DataFrame(
        {
            "order_id": orders["order_id"].astype(str).str.strip().to_numpy(),
            "reason": reason,
            "lat": orders["lat"].astype(float).to_numpy(),
            "lon": orders["lon"].astype(float).to_numpy(),
            "partition": partition,
        },
        columns=LEFT_OUT_COLUMNS,
    )


def _plan_part(
    part: Partition,
    road_map: RoadMap,
    eta: EtaProvider | None,
    options: dict[str, Any],
    keep_plan: bool,
) -> Plan | PlanTables:
    """One task: plan one partition (on a worker); its tables only, unless ``keep_plan``."""
    from fleetroute import api

    plan = api.plan(
        part.orders, part.vehicles, road_map=road_map, stores=part.stores, eta=eta, **options
    )
    return plan if keep_plan else PlanTables.of(plan)


def plan_partitioned(
    orders: TableSource,
    vehicles: TableSource | None = None,
    *,
    road_map: RoadMap | str | Path,
    by: str = "zone",
    stores: TableSource | None = None,
    fleet: FleetSpec | None = None,
    plan_date: date | None = None,
    eta: EtaProvider | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    progress: Progress | None = None,
    keep_plans: bool = False,
    **options: Any,
) -> PartitionedPlan:
    """Plan each partition of the day as its own problem, in parallel on Dask.

    Parameters
    ----------
    orders, vehicles, stores, fleet, plan_date
        As for :func:`fleetroute.plan`; orders and vehicles carry the ``by`` column.
    road_map, eta
        The map, loaded or a path, and the ETA provider (default: free flow); each is
        sent to each worker once.
    by
        The column that names each row's partition (``zone``, ``depot_id``, ...), or
        ``"auto"``: each vehicle's depot (its ``depot_id``, or its start point), and each
        order to the depot nearest in free-flow driving time.
    scheduler
        Address of a running Dask scheduler; default: a local cluster of ``n_workers``
        processes (default: one per core).
    progress
        Called with how many partitions are planned as each one finishes.
    keep_plans
        Bring each partition's whole :class:`Plan` back from its worker (problem and
        matrices: about 5 MB per 500 orders), to work on it further; by default only its
        :class:`PlanTables` come back (about 100 KB), all that the files and views need.
    options
        Passed to :func:`fleetroute.plan` for every partition (time_limit_s,
        solution_limit, backend, eta, ...); ``workers`` defaults to 1 (the cluster gives
        the parallelism).

    Returns
    -------
    PartitionedPlan
        One plan of all partitions; ``.parts[name]`` is each partition's
        :class:`PlanTables` (or :class:`Plan`, with ``keep_plans``), ``.failed`` the
        partitions that could not be planned and why.

    Raises
    ------
    InputError
        Bad input found before planning; or, when every partition fails, the first
        partition's error.
    """
    t0 = time.perf_counter()
    plan_date = plan_date or date.today()
    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
    parts, left_out = split(
        orders, vehicles, by=by, road_map=rmap, stores=stores, fleet=fleet, plan_date=plan_date
    )
    options = {"workers": 1, "plan_date": plan_date, "fleet": fleet, **options}
    results: dict[str, Any] = {}
    if parts:
        done: list[str] = []

        def tell(name: str, result: Any) -> None:
            done.append(name)
            if progress is not None:
                progress(f"planning {len(parts)} partitions on Dask: {len(done)} done", None)

        if progress is not None:
            progress(f"starting Dask for {len(parts)} partitions", None)
        with dask_client(scheduler, n_workers) as client:
            shared_map, shared_eta = share(client, rmap), share(client, eta)
            tasks = {p.name: (p, shared_map, shared_eta, options, keep_plans) for p in parts}
            results = run_named(client, _plan_part, tasks, prefix="partition", on_done=tell)
    planned = {n: r for n, r in results.items() if isinstance(r, Plan | PlanTables)}
    failed = {n: str(r) for n, r in results.items() if isinstance(r, TaskError)}
    if failed and not planned:
        first = results[next(iter(failed))]
        if first.cause is not None:
            raise first.cause
        raise RuntimeError(str(first))
    lost = [
        left_out_rows(p.orders, p.name, f"its partition '{p.name}' could not be planned: "
                      f"{failed[p.name]}")
        for p in parts
        if p.name in failed
    ]  # fmt: skip
    if lost:
        left_out = pd.concat([left_out, *lost], ignore_index=True)
    timings: dict[str, float] = {}
    for part in planned.values():
        for stage, seconds in part.timings.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
    wall = time.perf_counter() - t0
    timings["partitions_wall"] = wall
    inputs = {
        "map": rmap.source,
        "map_fingerprint": rmap.fingerprint,
        "model": eta.name if eta is not None else "free flow",
        "partition_by": by,
        "scheduler": scheduler or f"local cluster ({n_workers or 'all cores'} workers)",
    }
    return PartitionedPlan(
        parts=planned,
        left_out=left_out,
        failed=failed,
        solve_time_s=wall,
        inputs=inputs,
        timings=timings,
    )
