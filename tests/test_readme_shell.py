"""The README's shell examples work as written.

Every `route ...` line of the README's ```bash blocks runs through click's CliRunner, in
order, from a folder holding the repository's examples, except the benchmark commands:
those take minutes (CI runs the quick suite itself), so their arguments are parsed and
checked by the command they name without running it. `python benchmarks/X.py ...` lines
are checked the same way: the script exists and accepts every option the README gives it.
The install and test commands of the quick start are what CI runs (`.ci/run`)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import EXAMPLES, ROOT
from fleetroute.cli import cli

#: Commands that would run for minutes, need the network or serve until stopped (the
#: service's tests start it for real): parsed, not run.
_PARSE_ONLY = (("bench",), ("map", "fetch"), ("serve",))


def _shell_commands() -> list[list[str]]:
    """Each command of the README's bash blocks as argv, continuations joined, comments
    and `&&` chains split."""
    text = (ROOT / "README.md").read_text()
    commands: list[list[str]] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            for part in line.split("&&"):
                argv = shlex.split(part, comments=True)
                if argv:
                    commands.append(argv)
    return commands


def _route_args(argv: list[str]) -> list[str] | None:
    if Path(argv[0]).name == "route":
        return argv[1:]
    return None


def _parse_only(args: list[str]) -> None:
    """Resolve the subcommand and parse its options as click would, without running it."""
    command: click.Command = cli
    ctx = click.Context(cli, info_name="route")
    rest = list(args)
    while isinstance(command, click.Group):
        name = rest.pop(0)
        sub = command.get_command(ctx, name)
        assert sub is not None, f"README names an unknown command: route {' '.join(args)}"
        command = sub
        ctx = click.Context(command, info_name=name, parent=ctx)
    command.make_context(command.name or "", rest, parent=ctx.parent)


def test_the_readme_names_the_commands_it_shows():
    commands = _shell_commands()
    routes = [a for a in map(_route_args, commands) if a is not None]
    assert routes[0][:2] == ["plan", "examples/orders.csv"]
    assert {"report", "simulate", "eta", "bench"} <= {a[0] for a in routes}


def test_the_readme_route_commands_run_as_written(tmp_path, monkeypatch):
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    ran, reported = 0, False
    for argv in _shell_commands():
        args = _route_args(argv)
        if args is None:
            continue
        if any(tuple(args[: len(p)]) == p for p in _PARSE_ONLY):
            _parse_only(args)
            continue
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, f"route {' '.join(args)}: {result.output}"
        ran += 1
        if args[0] == "report":  # a later plan into the same folder replaces its report
            assert (tmp_path / args[1] / "report.html").exists()
            reported = True
    assert ran >= 7  # quick start, plan + report, simulate x2, train, evaluate, learned plan
    assert reported
    assert (tmp_path / "plan" / "map.html").exists()
    assert (tmp_path / "model" / "manifest.json").exists()
    assert "lightgbm q0.9" in (tmp_path / "plan-learned" / "plan.json").read_text()


@pytest.mark.parametrize(
    "argv",
    [a for a in _shell_commands() if any(w.startswith("benchmarks/") for w in a)],
    ids=lambda a: next(w for w in a if w.startswith("benchmarks/")),
)
def test_the_readme_benchmark_scripts_take_the_options_it_gives(argv):
    script = next(w for w in argv if w.startswith("benchmarks/"))
    assert (ROOT / script).exists(), f"README names a missing script {script}"
    usage = subprocess.run(
        [sys.executable, str(ROOT / script), "--help"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout  # fmt: skip
    for option in (w for w in argv[argv.index(script) + 1 :] if w.startswith("--")):
        assert option in usage, f"{script} does not take {option}"


@pytest.mark.parametrize("script", sorted((ROOT / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_every_benchmark_script_imports(script, monkeypatch):
    """The scripts are not run by the tests (they take minutes); their imports must resolve,
    so that a renamed library function breaks here and not on a release machine."""
    import importlib.util

    monkeypatch.syspath_prepend(str(script.parent))  # as `python benchmarks/X.py` has it
    spec = importlib.util.spec_from_file_location(f"bench_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(getattr(module, "main", None)), f"{script.name} has no main()"
