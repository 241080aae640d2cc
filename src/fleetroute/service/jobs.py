"""Solving a job in a worker process: the map and model are loaded once per process (at its
start), the job's inputs read from the store, the plan and its files written back to it."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from fleetroute import api
from fleetroute.errors import FleetrouteError
from fleetroute.service.store import JobStore
from fleetroute.service.vroom import VroomError, vroom_solution, vroom_tables
from fleetroute.times import parse_time_s

__all__ = ["start_worker", "run_job", "solve_vroom", "table_of", "rows_table"]

_log = logging.getLogger("fleetroute.service")

#: What a worker process holds for all its jobs: the maps by name, each with its ETA
#: provider (None: free flow), and the store.
_WORKER: dict[str, Any] = {}


def start_worker(
    parent: int, maps: dict[str, str], eta_model: str | None, quantile: float | None, db: str
) -> None:
    """A worker process's initializer: end with the server, load the maps and the model
    (for the first map) once."""
    api.die_with_parent(parent)
    # the server cancels the job this process runs with SIGUSR1: its search ends at once
    signal.signal(signal.SIGUSR1, lambda *_: api.request_stop())
    places = {}
    for k, (name, path) in enumerate(maps.items()):
        road_map = api.load_map(path)
        eta = (
            api.LearnedEta.load(eta_model, road_map, quantile=quantile)
            if eta_model and k == 0
            else None
        )
        places[name] = (road_map, eta)
    _WORKER["maps"] = places
    _WORKER["store"] = JobStore(db)


def _place(name: str | None) -> tuple[api.RoadMap, Any]:
    """The map called ``name`` (default: the first) and its ETA provider."""
    places = _WORKER["maps"]
    if name is None:
        return next(iter(places.values()))
    if name not in places:
        raise DispatchError(422, f"unknown map '{name}': one of {', '.join(places)}")
    return places[name]


def table_of(rows: list[dict[str, Any]] | None, name: str) -> pd.DataFrame | None:
    """:func:`rows_table` of ``rows``, None for None."""
    return None if rows is None else rows_table(rows, name)


def rows_table(rows: list[dict[str, Any]], name: str) -> pd.DataFrame:
    """JSON rows (a CSV file's columns) as the text table the readers check, named so that
    an error says which list; the spreadsheet row of item ``k`` is ``k + 2``."""
    table = pd.DataFrame(
        [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows], dtype=object
    ).fillna("")
    table.attrs["source"] = name
    return table


def run_job(job: str) -> None:
    """Plan one job; its status, progress, error or files go to the store."""
    store: JobStore = _WORKER["store"]
    api.request_stop(False)
    if not store.start(job, os.getpid()):
        return  # cancelled while queued
    request = store.request(job)
    last = [0.0]

    def progress(step: str, cost: float | None = None) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or cost is None:
            last[0] = now
            store.progress(job, f"best cost {cost:,.2f}" if cost is not None else step)

    options = request.get("options", {})
    road, eta = _place(request.get("map"))
    try:
        result = api.plan(
            rows_table(request["orders"], "orders"),
            table_of(request.get("vehicles"), "vehicles"),
            road_map=road,
            stores=table_of(request.get("stores"), "stores"),
            plan_date=date.fromisoformat(request["date"]) if request.get("date") else None,
            eta=eta,
            time_limit_s=float(options.get("time_limit", 10.0)),
            seed=int(options.get("seed", 0)),
            backend=str(options.get("backend", "auto")),
            workers=1,
            progress=progress,
        )
        files = _files(result, road)
    except FleetrouteError as exc:  # bad input found while planning: the client's to fix
        store.set_status(job, "failed", error=str(exc), only_from=("running",))
        return
    except Exception:  # ours: logged here, never sent (no paths or tracebacks in answers)
        _log.exception("job %s failed", job)
        store.set_status(
            job, "failed", error="internal error while planning", only_from=("running",)
        )
        return
    store.finish(job, result.summary(), files)


def _files(result: api.Plan, road_map: api.RoadMap) -> dict[str, bytes]:
    """The plan's files (SPEC) and views, as stored for the download endpoints."""
    routes, unassigned = io.StringIO(), io.StringIO()
    api.neutralise_table(result.routes_table()).to_csv(routes, index=False)
    api.neutralise_table(result.unassigned_table()).to_csv(unassigned, index=False)
    geojson = api.plan_geojson(result, road_map)
    with tempfile.TemporaryDirectory() as tmp:
        api.write_plan(result, tmp)
        report = api.plan_report(tmp, road_map=road_map, tiles=True)
    return {
        "report.html": report.encode(),
        "plan.json": json.dumps(result.to_dict(), ensure_ascii=False).encode(),
        "routes.csv": routes.getvalue().encode(),
        "unassigned.csv": unassigned.getvalue().encode(),
        "routes.geojson": json.dumps(geojson, ensure_ascii=False).encode(),
        "map.html": api.map_html(
            geojson, title=f"fleetroute plan {Path(road_map.source).name}"
        ).encode(),
    }


def solve_vroom(problem: dict[str, Any]) -> dict[str, Any]:
    """A VROOM problem planned here: VROOM's solution, or ``{"code": 2, "error"}`` for what
    it cannot plan (``code`` 1 for our own failures, logged)."""
    t0 = time.perf_counter()
    try:
        orders, vehicles, day, clock = vroom_tables(problem)
        loaded = time.perf_counter()
        options = problem.get("options") or {}
        road, eta = _place(options.get("map"))
        result = api.plan(
            orders, vehicles, road_map=road, plan_date=day, eta=eta,
            time_limit_s=float(options.get("time_limit", 5.0)), workers=1,
        )  # fmt: skip
        solved = time.perf_counter()
        seconds = {"loading": loaded - t0, "solving": solved - loaded, "routing": 0.0}
        return vroom_solution(
            result.routes_table(), result.unassigned_table(), vehicles, orders, clock, seconds
        )
    except (VroomError, FleetrouteError, DispatchError, TypeError, ValueError, KeyError) as exc:
        return {"code": 2, "error": str(exc) if str(exc) else type(exc).__name__}
    except Exception:
        _log.exception("a VROOM problem failed")
        return {"code": 1, "error": "internal error"}


class DispatchError(Exception):
    """A dispatch operation the client must fix: its HTTP status and one line."""

    def __init__(self, status: int, line: str) -> None:
        super().__init__(status, line)  # both in args: it crosses processes pickled
        self.status, self.line = status, line

    def __str__(self) -> str:
        return self.line


def _stored(job: str) -> tuple[api.Plan, dict[str, Any], dict[str, Any], Any]:
    """The stored plan as it is driven (rebuilt from its routes.csv and inputs), its request,
    the inputs ``check_routes`` and friends take, and its ETA provider."""
    store: JobStore = _WORKER["store"]
    request = store.request(job)
    routes = store.file(job, "routes.csv")
    if routes is None:
        raise DispatchError(409, "the plan is not done")
    road, eta = _place(request.get("map"))
    inputs: dict[str, Any] = {
        "road_map": road,
        "stores": table_of(request.get("stores"), "stores"),
        "plan_date": date.fromisoformat(request["date"]) if request.get("date") else None,
    }
    table = api.restore_table(pd.read_csv(io.BytesIO(routes), dtype=str, keep_default_na=False))
    current, _ = api.check_routes(
        table, rows_table(request["orders"], "orders"),
        table_of(request.get("vehicles"), "vehicles"), eta=eta, **inputs,
    )  # fmt: skip
    return current, request, inputs, eta


def dispatch(operation: str, job: str, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
    """Run a dispatch operation on a stored plan (in a solver process). ``insert`` and
    ``replan`` store their plan as a new done job; ``check`` and ``eta`` answer at once.

    Raises
    ------
    DispatchError
        With the status to answer (409, 422) and one line.
    """
    store: JobStore = _WORKER["store"]
    try:
        if operation == "eta":
            return _eta(body)
        current, request, inputs, eta = _stored(job)
        road = inputs["road_map"]
        if operation == "check":
            return _check(current, request, inputs, eta, body)
        if operation == "slots":
            return _slots(current, road, eta, body)
        if operation == "insert":
            new = [dict(row) for row in body.get("orders") or []]
            if not new:
                raise DispatchError(422, "orders: give at least one new order")
            result, placed = current, []
            for row in new:
                result = api.insert_order(result, rows_table([row], "orders"),
                                          road_map=road, eta=eta)  # fmt: skip
                i = result.problem.n_orders - 1
                on = [result.problem.vehicle_id[r.vehicle] for r in result.routes if i in r.orders]
                placed.append({"order_id": str(row.get("order_id")),
                               "vehicle_id": on[0] if on else None,
                               "reason": result.unassigned.get(i)})  # fmt: skip
            request = {**request, "orders": request["orders"] + new}
            made = f"inserted {len(new)} orders into {job}"
        elif operation == "replan":
            positions = {str(p["vehicle_id"]): (float(p["lat"]), float(p["lon"]))
                         for p in body.get("positions") or []}  # fmt: skip
            result = api.replan(
                current, now=str(body["now"]), road_map=road, eta=eta,
                done=body.get("done"), positions=positions or None,
                keep=str(body.get("keep", "none")),
                time_limit_s=float(body.get("time_limit", 5.0)), workers=1,
            )  # fmt: skip
            placed, made = [], f"re-planned {job} at {body['now']}"
        else:
            raise DispatchError(404, f"no operation '{operation}'")
    except FleetrouteError as exc:
        raise DispatchError(422, str(exc)) from None
    except KeyError as exc:
        raise DispatchError(422, f"{exc.args[0]} is missing") from None
    files = _files(result, road)
    new_job = store.add_done(tenant, request, result.summary(), files, made)
    return {"id": new_job, "status": "done", "orders": placed, "summary": result.summary()}


def _check(
    current: api.Plan, request: dict[str, Any], inputs: dict[str, Any], eta: Any,
    body: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """Violations of a sequence (``routes`` rows, default the stored plan's) and, with a
    model, each stop's chance of starting late."""
    orders = rows_table(request["orders"], "orders")
    vehicles = table_of(request.get("vehicles"), "vehicles")
    routes = rows_table(body["routes"], "routes") if body.get("routes") else current.routes_table()
    audited, found = api.check_routes(routes, orders, vehicles, eta=eta, **inputs)
    out: dict[str, Any] = {"summary": audited.summary(),
                           "violations": found.to_dict("records"), "risk": None}  # fmt: skip
    if eta is not None:
        risk = api.late_risk(routes, orders, vehicles, model=eta.model, **inputs)
        out["risk"] = risk.to_dict("records")
    return out


def _slots(current: api.Plan, road: Any, eta: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Which windows each new order (``orders``: orders.csv rows) can still get: SPEC's
    slots.csv rows, for ``windows`` (``["HH:MM-HH:MM", ...]``, default two-hour windows
    across the shifts)."""
    new = body.get("orders") or []
    if not isinstance(new, list) or not new:
        raise DispatchError(422, "orders: give at least one new order")
    windows = None
    if body.get("windows") is not None:
        given = body["windows"]
        if not isinstance(given, list) or not given:
            raise DispatchError(422, "windows: give a list of HH:MM-HH:MM windows")
        windows = [_window(text, k) for k, text in enumerate(given)]
    table = api.slots(current, rows_table([dict(row) for row in new], "orders"),
                      road_map=road, eta=eta, windows=windows)  # fmt: skip
    table = table.astype(object).where(table.notna(), None)
    return {"slots": table.to_dict("records")}


def _window(text: Any, k: int) -> tuple[int, int]:
    """``HH:MM-HH:MM`` as seconds of the plan's day (422 naming the entry if it is not)."""
    parts = str(text).split("-")
    try:
        if len(parts) != 2:
            raise ValueError(f"'{text}' is not HH:MM-HH:MM")
        start, end = (parse_time_s(part, datetime(2000, 1, 1)) for part in parts)
    except ValueError as exc:
        raise DispatchError(422, f"windows[{k}]: {exc}") from None
    return start, end


def _eta(body: dict[str, Any]) -> dict[str, Any]:
    """The model's predictions for given legs (trips.csv rows) and stops (stops.csv rows)."""
    road, eta = _place(body.get("map"))
    if eta is None:
        raise DispatchError(409, "this server has no ETA model for this map (--eta-model)")
    trips = rows_table(body.get("trips") or [], "trips")
    stops = rows_table(body.get("stops") or [], "stops")
    t, s = api.predict_eta(eta.model, road, trips, stops)
    return {"trips": t.to_dict("records"), "stops": s.to_dict("records")}
