"""``route bench``: standard VRP instances and the benchmark suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from fleetroute import api

if TYPE_CHECKING:
    pass
from fleetroute.cli.group import (
    _out_dir,
    _search_options,
    cli,
)
from fleetroute.cli.params import OUT_FILE


@cli.group("bench")
def bench_group() -> None:
    """Benchmarks of the routing core."""


@bench_group.command("vrplib")
@click.argument(
    "instances", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@_search_options
@click.option(
    "--json",
    "json_path",
    required=True,
    type=OUT_FILE,
    help="Write the results (a JSON list, one object per instance) here.",
)
def bench_vrplib_cmd(
    instances: tuple[Path, ...],
    time_limit: float,
    solution_limit: int | None,
    seed: int,
    backend: str,
    workers: int | None,
    json_path: Path,
) -> None:
    """Solve standard instances: Solomon/Homberger and Li & Lim text files, CVRPLIB .vrp."""

    results = api.bench_vrplib(
        list(instances),
        time_limit_s=time_limit,
        solution_limit=solution_limit,
        seed=seed,
        backend=backend,
        workers=workers,
    )
    json_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = json_path.with_name(f".{json_path.name}.tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    tmp.replace(json_path)
    for r in results:
        ok = "feasible" if r["feasible"] else "INFEASIBLE"
        click.echo(
            f"{r['instance']:14} cost {r['cost']:>12.2f}  vehicles {r['vehicles']:>3}  {ok}  "
            f"{r['time_s']:.1f} s"
        )
    click.echo(f"wrote {json_path}")


@bench_group.command("suite")
@click.option(
    "--scenarios",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("benchmarks/scenarios.toml"),
    show_default=True,
    help="The versioned scenarios file.",
)
@click.option(
    "--profile",
    default="quick",
    show_default=True,
    help="Which scenarios: quick (about 2 minutes, CI's smoke test) or full.",
)
@click.option(
    "--scenario",
    "names",
    multiple=True,
    metavar="NAME",
    help="Run only this scenario of the file, whatever the profile (repeatable).",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, path_type=Path),
    help="An earlier run (its folder or results.json): report.md says what got worse.",
)
@_out_dir("bench-suite", "results.json, results.csv, report.md and plots")
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("benchmarks/.cache"),
    show_default=True,
    help="Where generated cities are kept between runs.",
)
def bench_suite_cmd(
    scenarios: Path,
    profile: str,
    names: tuple[str, ...],
    baseline: Path | None,
    out_dir: Path,
    cache: Path,
) -> None:
    """Plan scenario days on synthetic cities; record stage times, memory, cost, on-time
    rates (free-flow and ETA model, replayed in the simulated true world) and model error.

    Slower or worse than the baseline is reported, never an error: only a scenario that
    ends without a plan (or crashes) makes the exit status 1.
    """
    from fleetroute.suite import compare, load_scenarios, read_results, run_suite

    chosen = load_scenarios(scenarios, profile, list(names))
    before = read_results(baseline) if baseline is not None else None
    what = f"profile {profile}" if not names else "the named scenarios"
    click.echo(f"{len(chosen)} scenarios of {what} from {scenarios}")
    table = run_suite(chosen, out_dir, cache=cache, echo=click.echo, baseline=before)
    if before is not None:
        for r in compare(table, before).to_dict("records"):
            if r["worse"]:
                click.echo(f"worse than the baseline: {r['scenario']}: {r['worse']}")
    click.echo(f"wrote {out_dir}/report.md, results.json, results.csv")
    failed = int((table["error"] != "").sum())
    if failed:  # every scenario must end with a plan; slow or costly is not a failure
        raise click.exceptions.Exit(1)
