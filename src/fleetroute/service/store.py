"""The service's jobs, their inputs and their plans' files, in SQLite (the embedded default).

Every change is one committed transaction (WAL journal), so a server killed at any moment
loses nothing it acknowledged: a job answered with 202 is in the table; a plan reported
done has all its files. Solver processes write their progress to the same file.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["JobStore", "STATUSES"]

#: A job's life (SPEC): queued -> running -> done | failed; a job its owner cancels before
#: it is done is failed, with that as its error.
#: before it is done.
STATUSES = ("queued", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    request TEXT NOT NULL,
    progress TEXT NOT NULL DEFAULT '',
    error TEXT,
    summary TEXT,
    worker INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant, created);
CREATE TABLE IF NOT EXISTS files (
    job TEXT NOT NULL REFERENCES jobs (id),
    name TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (job, name)
);
"""


#: The columns of a job its owner sees.
_SHOWN = "id, status, created, updated, progress, error, summary"


class JobStore:
    """Jobs in the SQLite file ``path`` (created with its folder when missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def add(self, tenant: str, request: dict[str, Any]) -> str:
        """A new queued job for ``tenant``; its id."""
        job = uuid.uuid4().hex
        now = time.time()
        with self._db() as db:
            db.execute(
                "INSERT INTO jobs (id, tenant, status, created, updated, request) "
                "VALUES (?, ?, 'queued', ?, ?, ?)",
                (job, tenant, now, now, json.dumps(request)),
            )
        return job

    def add_done(
        self, tenant: str, request: dict[str, Any], summary: dict[str, Any],
        files: dict[str, bytes], made_by: str,
    ) -> str:  # fmt: skip
        """A plan made at once (a dispatch operation on another), stored done; its id."""
        job = uuid.uuid4().hex
        now = time.time()
        with self._db() as db:
            db.execute(
                "INSERT INTO jobs (id, tenant, status, created, updated, request, progress, "
                "summary) VALUES (?, ?, 'done', ?, ?, ?, ?, ?)",
                (job, tenant, now, now, json.dumps(request), made_by, json.dumps(summary)),
            )
            db.executemany(
                "INSERT INTO files (job, name, body) VALUES (?, ?, ?)",
                [(job, name, body) for name, body in files.items()],
            )
        return job

    def get(self, job: str, tenant: str) -> dict[str, Any] | None:
        """The job, if it exists and belongs to ``tenant`` (None otherwise)."""
        with self._db() as db:
            row = db.execute(
                f"SELECT {_SHOWN} FROM jobs WHERE id = ? AND tenant = ?",
                (job, tenant),
            ).fetchone()
        return dict(row) if row is not None else None

    def request(self, job: str) -> dict[str, Any]:
        with self._db() as db:
            row = db.execute("SELECT request FROM jobs WHERE id = ?", (job,)).fetchone()
        return dict(json.loads(row["request"]))

    def recent(self, tenant: str, limit: int = 50) -> list[dict[str, Any]]:
        """The tenant's latest jobs, newest first."""
        with self._db() as db:
            rows = db.execute(
                f"SELECT {_SHOWN} FROM jobs WHERE tenant = ? ORDER BY created DESC LIMIT ?",
                (tenant, limit),
            ).fetchall()
        return [dict(r) for r in rows]

    def set_status(
        self, job: str, status: str, *, error: str | None = None, only_from: tuple[str, ...] = ()
    ) -> bool:
        """Move the job to ``status`` (only from one of ``only_from`` when given); whether
        it moved."""
        assert status in STATUSES
        query = "UPDATE jobs SET status = ?, error = ?, updated = ? WHERE id = ?"
        args: list[Any] = [status, error, time.time(), job]
        if only_from:
            query += f" AND status IN ({', '.join('?' * len(only_from))})"
            args += list(only_from)
        with self._db() as db:
            return db.execute(query, args).rowcount == 1

    def start(self, job: str, worker: int) -> bool:
        """Mark a queued job running in process ``worker``; False if it is not queued."""
        with self._db() as db:
            return (
                db.execute(
                    "UPDATE jobs SET status = 'running', worker = ?, updated = ? "
                    "WHERE id = ? AND status = 'queued'",
                    (worker, time.time(), job),
                ).rowcount
                == 1
            )

    def worker(self, job: str) -> int | None:
        """The process solving the job, while it runs."""
        with self._db() as db:
            row = db.execute(
                "SELECT worker FROM jobs WHERE id = ? AND status = 'running'", (job,)
            ).fetchone()
        return int(row["worker"]) if row is not None and row["worker"] is not None else None

    def progress(self, job: str, text: str) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE jobs SET progress = ?, updated = ? WHERE id = ?", (text, time.time(), job)
            )

    def finish(self, job: str, summary: dict[str, Any], files: dict[str, bytes]) -> bool:
        """The plan's summary and files, and the job done, in one transaction; False (and
        nothing stored) when the job was cancelled meanwhile."""
        with self._db() as db:
            moved = db.execute(
                "UPDATE jobs SET status = 'done', summary = ?, progress = 'done', updated = ? "
                "WHERE id = ? AND status = 'running'",
                (json.dumps(summary), time.time(), job),
            ).rowcount
            if moved:
                db.executemany(
                    "INSERT OR REPLACE INTO files (job, name, body) VALUES (?, ?, ?)",
                    [(job, name, body) for name, body in files.items()],
                )
        return bool(moved)

    def file(self, job: str, name: str) -> bytes | None:
        with self._db() as db:
            row = db.execute(
                "SELECT body FROM files WHERE job = ? AND name = ?", (job, name)
            ).fetchone()
        return bytes(row["body"]) if row is not None else None

    def interrupted(self) -> int:
        """Mark the jobs a stopped server left queued or running as failed; how many."""
        with self._db() as db:
            return db.execute(
                "UPDATE jobs SET status = 'failed', updated = ?, error = ? "
                "WHERE status IN ('queued', 'running')",
                (time.time(), "the server stopped before this plan was made; submit it again"),
            ).rowcount
