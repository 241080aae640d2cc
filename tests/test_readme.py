"""The README's examples run as written: its Python API blocks, in order, in one namespace,
from a folder holding the repository's examples and the history files they name."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd

from conftest import EXAMPLES, ROOT

#: The Dask block names files of a many-depot day that the README describes but the
#: examples folder does not hold; tests/test_partition.py runs the same calls.
_SKIP = ("plan_partitioned",)


def _python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    return [b for b in blocks if not any(word in b for word in _SKIP)]


def test_the_readme_python_examples_run_as_written(tmp_path, monkeypatch):
    """Plan, what-if, learned ETAs, audit, insert, replan, locks and late risk."""
    from fleetroute.simulator import simulate_history

    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    city_path = tmp_path / "examples" / "city.graphml"
    import fleetroute

    city = fleetroute.maps.load(city_path)
    # the history files the README's learned-ETA block reads (`route simulate history`)
    simulate_history(city, Path("hist"), days=4, trips_per_day=400, stops_per_day=300, seed=1)
    simulate_history(
        city, Path("later"), days=1, trips_per_day=200, stops_per_day=150, seed=2,
        start=pd.Timestamp("2026-02-10").date(),
    )  # fmt: skip
    blocks = _python_blocks()
    assert len(blocks) >= 4
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README block 1", "exec"), namespace)
    # the audit and risk blocks read a dispatcher's own routes: the first plan's, here
    plan = namespace["plan"]
    plan.routes_table()[["vehicle_id", "seq", "kind", "order_id"]].to_csv(  # type: ignore[attr-defined]
        "their_routes.csv", index=False
    )
    for i, block in enumerate(blocks[1:], start=2):
        exec(compile(block, f"README block {i}", "exec"), namespace)
    assert Path("out/today/routes.csv").exists() and Path("model/manifest.json").exists()
    risk = namespace["risk"]
    assert {"p_late"} <= set(risk.columns)  # type: ignore[attr-defined]
    locked = namespace["plan"].routes_table()  # type: ignore[attr-defined]
    assert locked.loc[locked["order_id"] == "A001", "vehicle_id"].tolist() == ["van1"]
