"""Atomic writers: a plan's files land together or not at all."""

from __future__ import annotations

import pytest

from fleetroute.io.writers import PLAN_FILES, write_folder


def test_a_failing_writer_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "plan"
    out.mkdir()
    (out / "routes.csv").write_text("old\n")

    def half(tmp):
        (tmp / "routes.csv").write_text("new\n")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_folder(out, half)
    assert (out / "routes.csv").read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]  # no temporary folder left


def test_a_complete_writer_moves_every_file_in(tmp_path):
    out = tmp_path / "a" / "plan"
    write_folder(out, lambda tmp: [(tmp / n).write_text(n) for n in PLAN_FILES])
    assert sorted(p.name for p in out.iterdir()) == sorted(PLAN_FILES)
    assert (out / "plan.json").read_text() == "plan.json"
