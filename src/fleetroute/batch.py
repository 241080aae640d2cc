"""Many days at once: plan a folder of order files as one Dask job, one output folder each.

Each order file is one task on a Dask cluster (a local one on all cores by default, or an
existing scheduler). The road map is sent to every worker once (``scatter(broadcast=True)``)
and the tasks refer to it, so it is not re-sent per day. Every task plans its day with one
search (the cluster gives the parallelism) and writes ``OUT/<file stem>/`` with the usual
files. A rerun skips days whose folder already holds a plan.json (resumable); a day that
fails is reported by name while the others complete.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fleetroute.errors import FleetrouteError, InputError
from fleetroute.maps.load import load as load_map
from fleetroute.maps.roadmap import RoadMap

__all__ = ["BatchDay", "plan_batch", "order_files"]


@dataclass
class BatchDay:
    """What became of one order file."""

    name: str
    source: str
    out: str
    status: str  # planned | skipped | failed
    error: str = ""
    summary: dict[str, Any] = field(default_factory=dict)


def order_files(folder: str | Path) -> list[Path]:
    """The ``*.csv`` order files of a folder, by name."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(str(root), "no such folder of order files")
    files = sorted(p for p in root.glob("*.csv") if p.is_file())
    if not files:
        raise InputError(str(root), "holds no .csv order files")
    return files


def _lean(road_map: RoadMap) -> RoadMap:
    """The map's arrays only (no cached search graphs), to send to workers."""
    return RoadMap(
        **{f.name: getattr(road_map, f.name) for f in fields(road_map)},
    )


def _plan_day(source: str, out: str, road_map: RoadMap, options: dict[str, Any]) -> dict[str, Any]:
    """One task: plan one order file and write its folder; returns the plan's summary."""
    import fleetroute

    result = fleetroute.plan(source, road_map=road_map, **options)
    fleetroute.write_plan(result, out)
    return result.summary()


def plan_batch(
    sources: list[Path],
    out_root: str | Path,
    *,
    road_map: RoadMap | str | Path,
    scheduler: str | None = None,
    n_workers: int | None = None,
    **options: Any,
) -> list[BatchDay]:
    """Plan each order file as its own Dask task; write ``out_root/<stem>/`` for each.

    Parameters
    ----------
    sources
        Order files (orders.csv format).
    out_root
        Where the per-day folders and ``batch.json`` go.
    road_map
        The map, loaded or a path; sent to each worker once.
    scheduler
        Address of a running Dask scheduler; default: a local cluster of ``n_workers``
        processes (default: one per core), one thread each.
    options
        Passed to :func:`fleetroute.plan` for every day (vehicles, stores, fleet,
        plan_date, time_limit_s, solution_limit, backend, ...); ``workers`` defaults to 1.

    Returns
    -------
    list of BatchDay
        One per source, in order: planned, skipped (its plan.json was already there) or
        failed (with the error's one line).
    """
    from distributed import Client, LocalCluster, as_completed

    root = Path(out_root)
    root.mkdir(parents=True, exist_ok=True)
    names = [p.stem for p in sources]
    if len(set(names)) != len(names):
        raise InputError(str(sources[0].parent), "two order files have the same name")
    days = [BatchDay(p.stem, str(p), str(root / p.stem), "pending") for p in sources]
    todo = []
    for day in days:
        if (Path(day.out) / "plan.json").is_file():
            day.status = "skipped"
        else:
            todo.append(day)
    options = {"workers": 1, **options}
    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
    if todo:
        cluster = None
        if scheduler is None:
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
            cluster = LocalCluster(
                n_workers=n_workers or cores, threads_per_worker=1, processes=True,
                dashboard_address=None,
            )  # fmt: skip
        client = Client(cluster if cluster is not None else scheduler)
        try:
            shared = client.scatter(_lean(rmap), broadcast=True)
            futures = {
                client.submit(
                    _plan_day, day.source, day.out, shared, options, key=f"plan-{day.name}",
                    pure=False,
                ): day
                for day in todo
            }  # fmt: skip
            for future in as_completed(futures):
                day = futures[future]
                try:
                    day.summary = future.result()
                    day.status = "planned"
                except FleetrouteError as exc:
                    day.status, day.error = "failed", str(exc)
                except Exception as exc:  # one day's crash must not stop the others
                    day.status, day.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    doc = {"days": [day.__dict__ for day in days]}
    (root / "batch.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
    return days
