"""Reaching Dask: a local cluster on all cores by default, or a running scheduler.

Batch planning, partitioned planning and distributed training all run named tasks on a
``distributed.Client``. The road map goes to every worker once (``scatter`` with
``broadcast=True``) and tasks refer to it by its future, so it is not re-sent per task.
A task that raises is reported by its name with the error's one line; the others go on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from typing import Any

from fleetroute.errors import FleetrouteError
from fleetroute.maps.roadmap import RoadMap

__all__ = ["dask_client", "run_named", "lean_map", "share", "TaskError"]


class TaskError(Exception):
    """A task that failed, with the one line that says why; ``cause`` is the exception
    the task raised."""

    def __init__(self, line: str, cause: BaseException | None = None) -> None:
        super().__init__(line)
        self.cause = cause


def cores() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextmanager
def dask_client(scheduler: str | None = None, n_workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: of the running scheduler at ``scheduler``, or of a local
    cluster of ``n_workers`` processes (default: one per core) with one thread each, closed
    on exit."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=n_workers or cores(), threads_per_worker=1, processes=True,
            dashboard_address=":0",  # any free port: clusters may run side by side
            # a failed task is reported once, by its name and one line (run_named); the
            # workers' own "Compute Failed ... Traceback" errors would repeat it
            silence_logs=logging.CRITICAL,
        )  # fmt: skip
    client = Client(cluster if cluster is not None else scheduler)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def lean_map(road_map: RoadMap) -> RoadMap:
    """The map's arrays only (no cached search graphs), to send to workers."""
    return RoadMap(**{f.name: getattr(road_map, f.name) for f in fields(road_map)})


def share(client: Any, value: Any) -> Any:
    """``value`` sent to every worker once; tasks take the returned future in its place.
    A :class:`RoadMap` goes without its cached search graphs; None stays None."""
    if value is None:
        return None
    if isinstance(value, RoadMap):
        value = lean_map(value)
    return client.scatter(value, broadcast=True)


def error_line(exc: BaseException) -> str:
    """The one line a failed task is reported with."""
    if isinstance(exc, FleetrouteError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def run_named(
    client: Any,
    fn: Callable[..., Any],
    tasks: Mapping[str, tuple[Any, ...]],
    *,
    prefix: str,
    on_done: Callable[[str, Any], None] | None = None,
) -> dict[str, Any]:
    """Run ``fn(*args)`` for each named task on the cluster.

    Returns
    -------
    dict
        Task name -> its result, or a :class:`TaskError` with the error's one line for a
        task that raised (the other tasks still complete). ``on_done(name, result)`` is
        called as each finishes.
    """
    from distributed import as_completed

    futures = {
        client.submit(fn, *args, key=f"{prefix}-{name}", pure=False): name
        for name, args in tasks.items()
    }
    results: dict[str, Any] = {}
    for future in as_completed(futures):
        name = futures[future]
        try:
            results[name] = future.result()
        except Exception as exc:  # one task's failure must not stop the others
            results[name] = TaskError(error_line(exc), exc)
        if on_done is not None:
            on_done(name, results[name])
    return {name: results[name] for name in tasks}
