"""Atomic writers: outputs go to a temporary folder and are moved into place at the end."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from fleetroute.io.cells import write_csv

if TYPE_CHECKING:
    from fleetroute.routing.result import PlanResult

__all__ = ["write_plan", "write_folder", "PLAN_FILES", "VIEW_FILES"]

#: The files ``write_plan`` writes.
PLAN_FILES = ("routes.csv", "plan.json", "unassigned.csv")
#: The views drawn from a plan's files (``route plan --format``, ``route report``): a new
#: plan in the same folder removes those it does not draw again, or they would show the old one.
VIEW_FILES = ("routes.geojson", "map.html", "report.html")


def write_plan(
    plan: PlanResult, out_dir: str | Path, *, views: Mapping[str, str] | None = None
) -> list[Path]:
    """Write routes.csv, plan.json and unassigned.csv into ``out_dir``, all or nothing.

    Files are written to a temporary folder beside ``out_dir`` and moved in only when all
    of them are complete. An earlier plan's files and views in ``out_dir`` are replaced or
    removed with them; other files are left alone. ``views`` (file name -> text, e.g.
    routes.geojson and map.html) are written with them.

    Returns
    -------
    list of Path
        The files written.
    """

    def fill(tmp: Path) -> None:
        write_csv(plan.routes_table(), tmp / "routes.csv")
        with open(tmp / "plan.json", "w", encoding="utf-8") as fh:
            json.dump(plan.to_dict(), fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        write_csv(plan.unassigned_table(), tmp / "unassigned.csv")
        for name, text in (views or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")

    write_folder(out_dir, fill, replaces=(*PLAN_FILES, *VIEW_FILES))
    return [Path(out_dir) / name for name in (*PLAN_FILES, *(views or {}))]


def write_folder(
    out_dir: str | Path, fill: Callable[[Path], object], *, replaces: Iterable[str] = ()
) -> None:
    """Call ``fill`` with a temporary folder beside ``out_dir`` and move what it wrote into
    ``out_dir`` only when it returns: a failure leaves nothing half-written.

    ``replaces`` names the files of an earlier output of the same kind: those that ``fill``
    did not write again are removed from ``out_dir`` as the new files move in."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fleetroute-", dir=out.parent))
    try:
        fill(tmp)
        out.mkdir(exist_ok=True)
        new = list(tmp.iterdir())
        stale = set(replaces) - {item.name for item in new}
        old = tmp / ".replaced"
        old.mkdir()
        for name in stale:
            if (out / name).is_file():
                os.replace(out / name, old / name)
        for item in new:
            os.replace(item, out / item.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
