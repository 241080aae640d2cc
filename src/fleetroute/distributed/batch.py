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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleetroute.distributed.cluster import TaskError, dask_client, run_named, share
from fleetroute.errors import InputError
from fleetroute.eta_model.baseline import EtaProvider
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


def _plan_day(
    source: str, out: str, road_map: RoadMap, eta: EtaProvider | None, options: dict[str, Any]
) -> dict[str, Any]:
    """One task: plan one order file and write its folder; returns the plan's summary."""
    from fleetroute import api
    from fleetroute.io.writers import write_plan

    result = api.plan(source, road_map=road_map, eta=eta, **options)
    write_plan(result, out)
    return result.summary()


def plan_batch(
    sources: list[Path],
    out_root: str | Path,
    *,
    road_map: RoadMap | str | Path,
    eta: EtaProvider | None = None,
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
    road_map, eta
        The map, loaded or a path, and the ETA provider (default: free flow); each is
        sent to each worker once.
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
    root = Path(out_root)
    root.mkdir(parents=True, exist_ok=True)
    names = [p.stem for p in sources]
    if len(set(names)) != len(names):
        raise InputError(str(sources[0].parent), "two order files have the same name")
    days = [BatchDay(p.stem, str(p), str(root / p.stem), "pending") for p in sources]
    todo = {}
    for day in days:
        if (Path(day.out) / "plan.json").is_file():
            day.status = "skipped"
        else:
            todo[day.name] = day
    options = {"workers": 1, **options}
    rmap = road_map if isinstance(road_map, RoadMap) else load_map(road_map)
    if todo:
        with dask_client(scheduler, n_workers) as client:
            shared_map, shared_eta = share(client, rmap), share(client, eta)
            tasks = {n: (d.source, d.out, shared_map, shared_eta, options) for n, d in todo.items()}
            for name, result in run_named(client, _plan_day, tasks, prefix="plan").items():
                day = todo[name]
                if isinstance(result, TaskError):
                    day.status, day.error = "failed", str(result)
                else:
                    day.status, day.summary = "planned", result
    doc = {"days": [day.__dict__ for day in days]}
    (root / "batch.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
    return days
