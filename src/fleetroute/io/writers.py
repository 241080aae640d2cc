"""Atomic writers: outputs go to a temporary folder and are moved into place at the end."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fleetroute.routing.result import PlanResult

__all__ = ["write_plan", "write_folder", "PLAN_FILES"]

#: The files ``write_plan`` writes.
PLAN_FILES = ("routes.csv", "plan.json", "unassigned.csv")


def write_plan(
    plan: PlanResult, out_dir: str | Path, *, views: Mapping[str, str] | None = None
) -> list[Path]:
    """Write routes.csv, plan.json and unassigned.csv into ``out_dir``, all or nothing.

    Files are written to a temporary folder beside ``out_dir`` and moved in only when all
    of them are complete; other files already in ``out_dir`` are left alone. ``views``
    (file name -> text, e.g. routes.geojson and map.html) are written with them.

    Returns
    -------
    list of Path
        The files written.
    """

    def fill(tmp: Path) -> None:
        plan.routes_table().to_csv(tmp / "routes.csv", index=False)
        with open(tmp / "plan.json", "w", encoding="utf-8") as fh:
            json.dump(plan.to_dict(), fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        plan.unassigned_table().to_csv(tmp / "unassigned.csv", index=False)
        for name, text in (views or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")

    write_folder(out_dir, fill)
    return [Path(out_dir) / name for name in (*PLAN_FILES, *(views or {}))]


def write_folder(out_dir: str | Path, fill: Callable[[Path], object]) -> None:
    """Call ``fill`` with a temporary folder beside ``out_dir`` and move what it wrote into
    ``out_dir`` only when it returns: a failure leaves nothing half-written."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fleetroute-", dir=out.parent))
    try:
        fill(tmp)
        out.mkdir(exist_ok=True)
        for item in tmp.iterdir():
            os.replace(item, out / item.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
