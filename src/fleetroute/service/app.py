"""The HTTP service of SPEC ("The HTTP service"): FastAPI over the api, jobs in SQLite,
solves in a pool of worker processes (never in the event loop), API keys per tenant."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import multiprocessing
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fleetroute import api
from fleetroute.errors import InputError
from fleetroute.service.jobs import (
    DispatchError,
    dispatch,
    rows_table,
    run_job,
    solve_vroom,
    start_worker,
    table_of,
)
from fleetroute.service.pages import page_home, page_login
from fleetroute.service.store import JobStore

__all__ = ["ServiceConfig", "create_app", "keys_from_text", "KEYS_VARIABLE"]

_log = logging.getLogger("fleetroute.service")

#: The environment variable that holds the API keys: ``name:key`` pairs, comma-separated.
KEYS_VARIABLE = "FLEETROUTE_API_KEYS"

#: The files of a done plan, by name, with their media types.
FILES = {
    "plan.json": "application/json",
    "routes.csv": "text/csv; charset=utf-8",
    "unassigned.csv": "text/csv; charset=utf-8",
    "routes.geojson": "application/geo+json",
    "map.html": "text/html; charset=utf-8",
    "report.html": "text/html; charset=utf-8",
}

#: A cancelled job's error: it is failed, SPEC's statuses being queued|running|done|failed.
CANCELLED = "cancelled by its owner"

#: The cookie that carries a person's key in the browser (set by ``/?key=...``).
COOKIE = "fleetroute_key"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def keys_from_text(text: str) -> dict[str, str]:
    """``name:key,name2:key2`` as {SHA-256 of the key: tenant name}: only hashes are kept."""
    keys: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, _, key = item.partition(":")
        if not name.strip() or len(key.strip()) < 8:
            raise InputError(
                KEYS_VARIABLE, f"'{name}:...' is not name:key with a key of 8 characters or more"
            )
        keys[_digest(key.strip())] = name.strip()
    if not keys:
        raise InputError(KEYS_VARIABLE, "no API keys: set it to name:key pairs, comma-separated")
    return keys


@dataclass(frozen=True)
class ServiceConfig:
    """What a server plans on and how much it takes."""

    maps: Mapping[str, Path]
    data_dir: Path
    keys: Mapping[str, str]
    eta_model: Path | None = None
    eta_quantile: float | None = None
    workers: int = 1
    max_body_bytes: int = 10 * 2**20
    max_orders: int = 5000
    extra: Mapping[str, Any] = field(default_factory=dict)


class PlanOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_limit: float = Field(10.0, gt=0, le=3600)
    seed: int = 0
    backend: Literal["auto", "pyvrp", "ortools"] = "auto"


class PlanRequest(BaseModel):
    """SPEC's files as JSON: each row an object of the CSV file's columns."""

    model_config = ConfigDict(extra="forbid")
    orders: list[dict[str, Any]] = Field(min_length=1)
    vehicles: list[dict[str, Any]] = Field(min_length=1)
    stores: list[dict[str, Any]] | None = None
    date: dt.date | None = None
    map: str | None = None
    options: PlanOptions = Field(default_factory=lambda: PlanOptions(time_limit=10.0))


def _unprocessable(exc: InputError, lists: bool) -> HTTPException:
    """422 naming the field: ``[body, orders, 3, lat]`` for JSON rows (item 3 is row 5 of a
    CSV file), or the file, row and column of an upload."""
    if lists and exc.row is not None and exc.row >= 2:
        loc: list[Any] = ["body", exc.path, exc.row - 2, *([exc.column] if exc.column else [])]
    elif lists:
        loc = ["body", exc.path, *([exc.column] if exc.column else [])]
    else:
        loc = ["body", exc.path]
    return HTTPException(422, detail=[{"loc": loc, "msg": exc.message if lists else str(exc)}])


def _size_limit(app: Any, limit: int) -> Callable[..., Awaitable[None]]:
    """ASGI middleware: a request body above ``limit`` bytes is answered 413 (by its
    Content-Length, or as it arrives when chunked)."""

    async def middleware(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        too_big = JSONResponse(
            {"detail": f"the request body is above the limit of {limit:,} bytes"}, 413
        )
        if length is not None and int(length) > limit:
            await too_big(scope, receive, send)
            return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooBig
            return message

        try:
            await app(scope, counted, send)
        except _TooBig:
            await too_big(scope, receive, send)

    return middleware


class _TooBig(Exception):
    pass


def create_app(config: ServiceConfig) -> Any:
    """The ASGI application (FastAPI) for ``config``; its worker pool starts with it."""
    store = JobStore(config.data_dir / "fleetroute.sqlite")
    pool: dict[str, ProcessPoolExecutor] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        lost = store.interrupted()
        if lost:
            _log.warning("%d jobs were in flight when the server stopped: marked failed", lost)
        pool["solve"] = ProcessPoolExecutor(
            max_workers=config.workers,
            mp_context=multiprocessing.get_context("spawn"),  # no fork of a threaded server
            initializer=start_worker,
            initargs=(os.getpid(), {name: str(path) for name, path in config.maps.items()},
                      str(config.eta_model) if config.eta_model else None,
                      config.eta_quantile, str(store.path)),
        )  # fmt: skip
        try:
            yield
        finally:  # jobs left queued or running are failed, with the reason, at the next start
            pool["solve"].shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="fleetroute",
        summary="Delivery-route plans on road maps with learned travel times",
        lifespan=lifespan,
    )

    def owner(key: str) -> str | None:
        digest = _digest(key.strip())
        found = None
        for known, name in config.keys.items():  # every hash compared: constant time
            if hmac.compare_digest(known, digest):
                found = name
        return found

    def tenant(request: Request) -> str:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            key = request.cookies.get(COOKIE, "")  # a person's browser (see /)
        name = owner(key) if key else None
        if name is None:
            raise HTTPException(401, "a valid API key is needed: Authorization: Bearer <key>",
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        return name

    @app.get("/", include_in_schema=False, response_model=None)
    def home(request: Request, key: str | None = None) -> Response:
        """Recent plans with their KPIs, each opening its map and report. Visit once with
        ``/?key=YOUR_KEY``: the key is kept in an HttpOnly cookie."""
        if key is not None:
            if owner(key) is None:
                return HTMLResponse(page_login("That key is not valid."), 401)
            answer = RedirectResponse("/", 303)
            answer.set_cookie(COOKIE, key, httponly=True, samesite="strict")
            return answer
        name = owner(request.cookies.get(COOKIE, ""))
        if name is None:
            return HTMLResponse(page_login(""), 401)
        return HTMLResponse(page_home(name, store.recent(name)))

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> JSONResponse:
        _log.exception("request failed", exc_info=exc)
        return JSONResponse({"detail": "internal error"}, 500)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/plans", status_code=202)
    async def submit(request: Request, who: str = Depends(tenant)) -> dict[str, str]:
        """A plan job: a JSON body (PlanRequest) or the CSV files as a multipart upload
        (files ``orders``, ``vehicles``, ``stores``; fields ``date``, ``time_limit``)."""
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            body, lists = await _from_upload(request), False
        else:
            try:
                raw = await request.json()
            except ValueError:
                raise HTTPException(422, [{"loc": ["body"], "msg": "not JSON"}]) from None
            try:
                body = PlanRequest.model_validate(raw).model_dump(mode="json")
            except ValidationError as exc:
                raise RequestValidationError(exc.errors(include_url=False)) from None
            lists = True
        if body.get("map") is not None and body["map"] not in config.maps:
            known = ", ".join(config.maps)
            where = {"loc": ["body", "map"], "msg": f"unknown map '{body['map']}': one of {known}"}
            raise HTTPException(422, [where])
        if len(body["orders"]) > config.max_orders:
            raise HTTPException(
                413, f"{len(body['orders']):,} orders are above this server's limit of "
                f"{config.max_orders:,} a plan",
            )  # fmt: skip
        try:
            api.check_inputs(
                rows_table(body["orders"], "orders" if lists else "orders.csv"),
                table_of(body["vehicles"], "vehicles" if lists else "vehicles.csv"),
                stores=table_of(body.get("stores"), "stores" if lists else "stores.csv"),
                plan_date=dt.date.fromisoformat(body["date"]) if body.get("date") else None,
            )
        except InputError as exc:
            raise _unprocessable(exc, lists) from None
        job = store.add(who, body)
        pool["solve"].submit(run_job, job)
        return {"id": job, "status": "queued"}

    async def operate(operation: str, job: str, who: str, request: Request) -> Any:
        if job:
            _owned(store, job, who)
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(422, [{"loc": ["body"], "msg": "not JSON"}]) from None
        if not isinstance(body, dict):
            raise HTTPException(422, [{"loc": ["body"], "msg": "not a JSON object"}])
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool["solve"], dispatch, operation, job, who, body)
        except DispatchError as exc:
            raise HTTPException(exc.status, str(exc)) from None

    @app.post("/v1/plans/{job}/orders")
    async def insert(job: str, request: Request, who: str = Depends(tenant)) -> Any:
        """Insert new orders (``{"orders": [rows]}``) into a done plan where each costs
        least, the other stops kept: a new done plan; each order's vehicle or reason."""
        return await operate("insert", job, who, request)

    @app.post("/v1/plans/{job}/replan")
    async def replan(job: str, request: Request, who: str = Depends(tenant)) -> Any:
        """Re-plan the rest of the day at ``now`` (``HH:MM`` or ISO), with ``positions``
        (``[{vehicle_id, lat, lon}]``), ``done`` (order ids), ``keep`` and ``time_limit``:
        a new done plan."""
        return await operate("replan", job, who, request)

    @app.post("/v1/plans/{job}/check")
    async def check(job: str, request: Request, who: str = Depends(tenant)) -> Any:
        """Check a sequence (``{"routes": [routes.csv rows]}``, default the plan's own):
        its violations and, with an ETA model, each stop's chance of starting late."""
        return await operate("check", job, who, request)

    @app.post("/v1/plans/{job}/slots")
    async def slots(job: str, request: Request, who: str = Depends(tenant)) -> Any:
        """Which delivery windows new orders (``{"orders": [rows]}``) can still get in a
        done plan, for ``windows`` (``["HH:MM-HH:MM", ...]``, default two-hour windows
        across the shifts): SPEC's slots.csv rows under ``slots``. The plan is not changed;
        book a window with ``POST /v1/plans/{id}/orders``."""
        return await operate("slots", job, who, request)

    @app.post("/v1/eta")
    async def eta(request: Request, who: str = Depends(tenant)) -> Any:
        """The ETA model's predictions for legs (``trips``: trips.csv rows) and stops
        (``stops``: stops.csv rows): ``predicted_s`` and ``p90_s`` each."""
        return await operate("eta", "", who, request)

    @app.post("/vroom")
    async def vroom(request: Request, who: str = Depends(tenant)) -> JSONResponse:
        """A VROOM problem (jobs, vehicles with coordinates, time windows, skills, amounts)
        planned on this server's road map and ETAs, answered in VROOM's solution format;
        what cannot be planned is ``{"code": 2, "error": ...}`` with status 422."""
        try:
            problem = await request.json()
        except ValueError:
            return JSONResponse({"code": 2, "error": "the body is not JSON"}, 422)
        if not isinstance(problem, dict):
            return JSONResponse({"code": 2, "error": "the body is not a VROOM problem"}, 422)
        jobs = problem.get("jobs") or []
        if isinstance(jobs, list) and len(jobs) > config.max_orders:
            return JSONResponse({"code": 2, "error": f"{len(jobs):,} jobs are above this "
                                 f"server's limit of {config.max_orders:,}"}, 413)  # fmt: skip
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(pool["solve"], solve_vroom, problem)
        return JSONResponse(answer, {0: 200, 2: 422}.get(answer["code"], 500))

    @app.get("/v1/plans")
    def recent(who: str = Depends(tenant)) -> list[dict[str, Any]]:
        """This key's latest plans, newest first, with their summaries."""
        return [_public(job) for job in store.recent(who)]

    @app.get("/v1/plans/{job}")
    def status(job: str, who: str = Depends(tenant)) -> dict[str, Any]:
        """Status, progress, error and, once done, the plan (plan.json's content)."""
        found = _owned(store, job, who)
        out = _public(found)
        if found["status"] == "done":
            out["plan"] = json.loads(store.file(job, "plan.json") or b"{}")
        return out

    @app.get("/v1/plans/{job}/{name}")
    def download(job: str, name: str, who: str = Depends(tenant)) -> Response:
        """A done plan's file: routes.csv, unassigned.csv, plan.json, routes.geojson,
        map.html or report.html."""
        found = _owned(store, job, who)
        if name not in FILES:
            raise HTTPException(404, f"no file '{name}': one of {', '.join(FILES)}")
        body = store.file(job, name) if found["status"] == "done" else None
        if body is None:
            raise HTTPException(409, f"the plan is {found['status']}, not done")
        return Response(body, media_type=FILES[name])

    @app.delete("/v1/plans/{job}")
    def cancel(job: str, who: str = Depends(tenant)) -> dict[str, str]:
        """Cancel a queued or running plan (a running search is stopped, its result
        dropped)."""
        _owned(store, job, who)
        worker = store.worker(job)
        if not store.set_status(job, "failed", only_from=("queued", "running"),
                                error=CANCELLED):  # fmt: skip
            raise HTTPException(409, "the plan is already finished")
        if worker is not None:  # its search ends now; the result is dropped
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGUSR1)
        return {"id": job, "status": "failed", "error": CANCELLED}

    return _size_limit(app, config.max_body_bytes) if config.max_body_bytes else app


def _owned(store: JobStore, job: str, who: str) -> dict[str, Any]:
    found = store.get(job, who)
    if found is None:  # another key's job is as absent as a missing one
        raise HTTPException(404, "no such plan")
    return found


def _public(job: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": job["id"],
        "status": job["status"],
        "progress": job["progress"],
        "error": job["error"],
        "summary": json.loads(job["summary"]) if job["summary"] else None,
    }


async def _from_upload(request: Request) -> dict[str, Any]:
    """A multipart upload as the JSON body's lists (rows of text cells)."""
    form = await request.form()
    body: dict[str, Any] = {"date": form.get("date") or None, "map": form.get("map") or None}
    if body["date"] is not None:
        try:
            dt.date.fromisoformat(str(body["date"]))
        except ValueError:
            where = {"loc": ["body", "date"], "msg": f"'{body['date']}' is not YYYY-MM-DD"}
            raise HTTPException(422, [where]) from None
    for name in ("orders", "vehicles", "stores"):
        part = form.get(name)
        if part is None or isinstance(part, str):
            if name == "stores":
                body[name] = None
                continue
            raise HTTPException(422, [{"loc": ["body", name], "msg": "a CSV file is needed"}])
        text = (await part.read()).decode("utf-8", errors="replace")
        try:
            table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise HTTPException(422, [{"loc": ["body", name], "msg": str(exc).strip()}]) from None
        body[name] = api.restore_table(table).to_dict("records")
    limit = form.get("time_limit")
    try:
        body["options"] = PlanOptions(time_limit=float(str(limit)) if limit else 10.0).model_dump()
    except ValueError:
        where = {"loc": ["body", "time_limit"], "msg": "not a number of seconds"}
        raise HTTPException(422, [where]) from None
    return body
