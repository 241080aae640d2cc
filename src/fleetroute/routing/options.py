"""How to search: the options every solver backend takes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fleetroute.routing.schedule import Route

__all__ = [
    "SolveOptions",
    "BACKENDS",
    "default_workers",
    "pool_context",
    "pyvrp_iterations",
    "side_by_side",
]

#: Solver backends: ``auto`` picks per problem (see :func:`fleetroute.routing.solve.solve`).
BACKENDS = ("auto", "pyvrp", "ortools")


@dataclass(frozen=True)
class SolveOptions:
    """How long and how to search.

    Attributes
    ----------
    time_limit_s
        Wall-clock limit of the whole solve (screening, model building and the first
        plan included). OR-Tools alone always finishes its first complete plan, even when
        that alone takes longer.
    solution_limit
        A deterministic effort limit instead of the clock (for tests and reproducible
        runs): OR-Tools stops after this many improving solutions, PyVRP after
        ``ITERATIONS_PER_SOLUTION`` times this many iterations.
    backend
        ``auto`` (PyVRP wherever it can model the day; for locks, breaks and stop limits
        on store routes, a portfolio of PyVRP-then-OR-Tools and OR-Tools alone, see
        :mod:`fleetroute.routing.portfolio`), ``pyvrp`` or ``ortools``.
    workers
        Independent PyVRP searches run side by side (different seeds; every other one
        minimises the fleet first), the cheapest plan kept; or the portfolio's two
        searches. ``None``: one per core, at most two. OR-Tools alone with two workers
        searches from two first plans (``first_solution`` and path cheapest arc), the
        cheaper plan kept; with one, from ``first_solution``.
    first_solution
        OR-Tools ``FirstSolutionStrategy`` name: its one search's first plan, or the first
        of its two searches' (the other starts from path cheapest arc; from parallel
        cheapest insertion when this is path cheapest arc).
    metaheuristic
        OR-Tools ``LocalSearchMetaheuristic`` name.
    zone_orders
        Days OR-Tools searches with more orders than this are cut into compass sectors of
        about this many orders, searched side by side (:mod:`fleetroute.routing.zones`);
        ``None`` never cuts. Days with dispatch locks, and days PyVRP takes whole (it
        scales), are not cut.
    seed
        PyVRP's random seed (the first worker's); OR-Tools' routing search has none and is
        deterministic for the same inputs and a solution limit.
    inputs
        What the plan was made from, recorded in plan.json.
    on_solution
        Called with the search's cost (cost units, penalties for left-out orders included)
        each time OR-Tools finds a better plan, for progress displays. PyVRP's searches
        run in other processes and do not call it.
    warm_start
        Routes (:class:`fleetroute.routing.schedule.Route`, in the problem's vehicle and
        order indices) PyVRP's searches start from instead of a plan of their own: a
        second search of a day goes on from the first's plan. Orders it leaves out are
        placed by the search; OR-Tools ignores them.
    """

    time_limit_s: float = 10.0
    solution_limit: int | None = None
    backend: str = "auto"
    workers: int | None = None
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    seed: int = 0
    zone_orders: int | None = 500
    inputs: Mapping[str, Any] = field(default_factory=dict)
    on_solution: Callable[[float], None] | None = field(default=None, compare=False, repr=False)
    warm_start: tuple[Route, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.workers is not None and self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.zone_orders is not None and self.zone_orders < 1:
            raise ValueError("zone_orders must be at least 1")


#: PyVRP iterations per unit of ``solution_limit``.
ITERATIONS_PER_SOLUTION = 50


def pyvrp_iterations(opts: SolveOptions, share: float = 1.0) -> int | None:
    """PyVRP's fixed effort for ``share`` of the options' ``solution_limit`` (None: the
    clock decides)."""
    if opts.solution_limit is None:
        return None
    return max(1, int(opts.solution_limit * ITERATIONS_PER_SOLUTION * share))


def default_workers() -> int:
    """Searches to run side by side: one per core, at most two."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(2, cores or 1))


def pool_context() -> multiprocessing.context.BaseContext:
    """Worker processes are forked where the OS can (they inherit the problem's matrices
    instead of receiving a pickled copy)."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


#: Searches still running this long past the time limit are stopped (the limit's promise:
#: the whole solve ends within the limit + 5%; the rest is for reading the plan back).
OVERRUN_SHARE = 0.03


#: Set to end the running searches early, each with the best plan it has (``route plan``
#: sets it on Ctrl-C): PyVRP looks at it every iteration, OR-Tools at each solution it
#: finds. Worker processes share it: they are forked while it exists.
STOP = pool_context().Event()


def stop_requested() -> bool:
    """Whether the searches were asked to end early (:data:`STOP`)."""
    return STOP.is_set()


def request_stop(ask: bool = True) -> None:
    """Ask the searches of this process (and its workers) to end early, or, with
    ``ask=False``, withdraw the request before the next search."""
    if ask:
        STOP.set()
    else:
        STOP.clear()


def die_with_parent(parent: int) -> None:
    """A worker process's initializer: the kernel kills it when its parent ends, however
    the parent ends (``kill -9`` included; Linux's ``PR_SET_PDEATHSIG``), and it ends at
    once if the parent is already gone. Elsewhere only the second check applies."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    # Ctrl-C reaches every process of the terminal's group: the parent decides (it sets
    # STOP and the worker ends its search with the best plan it has)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_PR_SET_PDEATHSIG = 1


def worker_pool_kwargs() -> dict[str, Any]:
    """The initializer arguments of every worker pool: its processes end with this one."""
    return {"initializer": die_with_parent, "initargs": (os.getpid(),)}


def side_by_side(
    fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], *, deadline: float | None
) -> list[Any]:
    """``fn(*args)`` for every ``args`` of ``calls``, each in its own worker process; the
    results in order, ``None`` for a call still running at ``deadline`` (a
    ``time.perf_counter()`` value; ``None``: wait for all), whose process is then stopped.
    When none has finished by then, the first to finish is waited for."""
    ctx = pool_context()
    pool = ctx.Pool(processes=len(calls), **worker_pool_kwargs())
    try:
        pending = [pool.apply_async(fn, args) for args in calls]
        if deadline is not None:
            for job in pending:
                job.wait(max(0.0, deadline - time.perf_counter()))
            while not any(job.ready() for job in pending):
                time.sleep(0.05)
        out = [job.get() if job.ready() or deadline is None else None for job in pending]
    finally:
        pool.terminate()
        pool.join()
    return out
