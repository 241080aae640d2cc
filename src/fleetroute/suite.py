"""The benchmark suite: plan scenario days on synthetic cities and report speed and quality.

``route bench suite --profile quick --out DIR`` reads the versioned scenarios file
(benchmarks/scenarios.toml), runs every scenario of the profile in its own process (so peak
memory is per scenario), and writes ``results.json``, ``results.csv`` and ``report.md``
with plots. Each scenario: generate (and cache) the city, load it, plan a simulated day
with free-flow times, replay the plan in the simulator's true world; with ``model_days``,
also simulate that much history, train the ETA model, measure its error on two later days
and plan and replay the day with it (0.9 quantile).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fleetroute.errors import InputError

__all__ = [
    "city_file",
    "compare",
    "load_scenarios",
    "read_results",
    "replayed",
    "run_suite",
    "run_scenario",
    "scenario_day",
    "scenario_model",
    "write_report",
    "timed_load",
    "vans",
]

PLAN_DATE = date(2026, 3, 2)
#: Scenario keys and their defaults.
DEFAULTS: dict[str, Any] = {
    "layout": "grid",
    "stores": 0,
    "window_h": 2,
    "vehicles": 10,
    "time_limit_s": 10.0,
    "model_days": 0,
    "store_share": 0.5,
    "seed": 1,
}
_REQUIRED = ("name", "nodes", "orders")


def load_scenarios(
    path: str | Path, profile: str, names: list[str] | None = None
) -> list[dict[str, Any]]:
    """The scenarios of ``profile`` in a scenarios file, defaults filled in; or, given
    ``names``, those scenarios of the file whatever their profile."""
    source = Path(path)
    if not source.is_file():
        raise InputError(str(source), "no such scenarios file")
    try:
        doc = tomllib.loads(source.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(source), f"is not valid TOML ({exc})") from None
    by_name = {}
    for i, sc in enumerate(doc.get("scenario", [])):
        missing = [k for k in _REQUIRED if k not in sc]
        if missing:
            raise InputError(str(source), f"scenario {i + 1} has no {missing[0]}")
        unknown = set(sc) - set(DEFAULTS) - set(_REQUIRED)
        if unknown:
            raise InputError(
                str(source), f"scenario {sc['name']}: unknown key {sorted(unknown)[0]}"
            )
        by_name[sc["name"]] = {**DEFAULTS, **sc, "version": doc.get("version", 0)}
    if names:
        missing_names = [n for n in names if n not in by_name]
        if missing_names:
            raise InputError(str(source), f"has no scenario '{missing_names[0]}'")
        return [by_name[n] for n in names]
    profiles = doc.get("profiles", {})
    if profile not in profiles:
        have = ", ".join(sorted(profiles)) or "none"
        raise InputError(str(source), f"no profile '{profile}' (it has {have})")
    names = profiles[profile]
    unknown_names = [n for n in names if n not in by_name]
    if unknown_names:
        raise InputError(str(source), f"profile {profile} names no scenario '{unknown_names[0]}'")
    return [by_name[n] for n in names]


def city_file(sc: dict[str, Any], cache: Path) -> Path:
    """The scenario's city file, made once (in a child process, so that building the graph
    with OSMnx does not count toward the peak memory of the process that plans on it)."""
    path = cache / f"city_{sc['layout']}_{sc['nodes']}_{sc['seed']}.graphml"
    if not path.exists():
        args = [str(path), str(sc["nodes"]), str(sc["seed"]), sc["layout"]]
        subprocess.run([sys.executable, "-c", _GENERATE, *args], capture_output=True, check=True)
    return path


_GENERATE = """import sys
from fleetroute.maps import write_synthetic_city
path, nodes, seed, layout = sys.argv[1:]
write_synthetic_city(path + ".tmp", int(nodes), seed=int(seed), layout=layout)
import os
os.replace(path + ".tmp", path)
"""


def _stores(road_map: Any, k: int, rng: np.random.Generator) -> pd.DataFrame:
    pick = rng.choice(road_map.n_nodes, k, replace=False) if k else np.zeros(0, dtype=int)
    return pd.DataFrame(
        {
            "store_id": [f"S{i + 1}" for i in range(k)],
            "lat": road_map.lat[pick],
            "lon": road_map.lon[pick],
            "open": "07:00",
            "close": "22:00",
        }
    )


def timed_load(path: Path) -> tuple[Any, float, float, float]:
    """Load a map file: the map, the seconds to parse it (no cache), to build its
    contraction hierarchy, and to load it (and its hierarchy) from the cache.

    Parsing and preparing run in a child process, which fills the cache as `route map
    prepare` does, so this process's peak memory is that of planning with the cached map,
    not of OSMnx's parse; they are paid once per map, not per plan.
    """
    import fleetroute

    cold = subprocess.run(
        [sys.executable, "-c", _PARSE, str(path)], capture_output=True, text=True, check=True
    )
    parse_s, prepare_s = map(float, cold.stdout.split()[-2:])
    t0 = time.perf_counter()
    road_map = fleetroute.maps.load(path)
    road_map.cached_hierarchy()
    return road_map, parse_s, prepare_s, time.perf_counter() - t0


_PARSE = """import sys, time
import fleetroute
t0 = time.perf_counter()
fleetroute.maps.load(sys.argv[1], cache=False)
print(time.perf_counter() - t0)
road_map = fleetroute.maps.load(sys.argv[1])
t0 = time.perf_counter()
road_map.hierarchy()
print(time.perf_counter() - t0)
"""


def vans(road_map: Any, n: int) -> pd.DataFrame:
    """``n`` vans at the map's centre: capacity 30, 08:00-22:00, fixed 40, 25/h, 0.3/km."""
    lat, lon = road_map.centre
    return pd.DataFrame(
        {
            "vehicle_id": [f"van{i + 1:03d}" for i in range(n)],
            "depot_lat": lat,
            "depot_lon": lon,
            "capacity": 30,
            "shift_start": "08:00",
            "shift_end": "22:00",
            "fixed_cost": 40.0,
            "cost_per_hour": 25.0,
            "cost_per_km": 0.3,
        }
    )


def replayed(road_map: Any, plan: Any, *, draws: int = 1) -> tuple[float, float]:
    """The plan driven in the simulator's true world: its on-time rate, and its true cost
    (each used vehicle's fixed cost, per-km cost and per-hour cost of the hours its route
    really took), averaged over ``draws`` noise draws."""
    from fleetroute.routing.schedule import route_cost
    from fleetroute.simulator.world import replay

    p = plan.problem
    on_time, cost = [], []
    for k in range(draws):
        drove = replay(road_map, plan, seed=3 + k)
        drops = drove[drove["order_id"] != ""]
        on_time.append(float((drops["late_s"] <= 0).mean()) if len(drops) else 1.0)
        ends = drove[drove["order_id"] == ""].set_index("vehicle_id")["late_s"]
        cost.append(
            sum(
                route_cost(p, sched, duration_s=float(ends[p.vehicle_id[sched.route.vehicle]]))
                for sched in plan.schedules
            )
        )
    return float(np.mean(on_time)), float(np.mean(cost))


def _best_known(name: str) -> dict[str, Any]:
    """The scenario's best-known objectives (benchmarks/results/best_known.json, made by
    benchmarks/best_known.py from long runs of every backend and VROOM), if recorded."""
    path = Path(os.environ.get("FLEETROUTE_BEST_KNOWN", "benchmarks/results/best_known.json"))
    try:
        return dict(json.loads(path.read_text()).get(name, {}))
    except (OSError, ValueError):
        return {}


def _compile_kernels() -> None:
    """Run the numba search kernels once on a three-node graph, so a fresh checkout's
    one-off compilation (seconds; cached on disk after) is not timed as a stage."""
    from fleetroute.maps.dial import many_to_many, pairs
    from fleetroute.maps.hierarchy import Hierarchy, edge_keys

    indptr = np.array([0, 1, 2, 3])
    heads, weight = np.array([1, 2, 0]), np.array([5, 5, 5])
    many_to_many(indptr, heads, weight, np.ones(3), np.array([0]), np.array([2]))
    pairs(indptr, heads, weight, np.ones((3, 1)), np.array([0]), np.array([2]))
    Hierarchy.build(indptr, heads, edge_keys(weight, np.ones(3))).matrix([0], [2])


def scenario_day(sc: dict[str, Any], road_map: Any) -> tuple[Any, Any, Any]:
    """The scenario's day on its city: orders, vehicles and stores (DataFrames)."""
    from fleetroute.simulator.world import simulate_orders

    rng = np.random.default_rng(sc["seed"])
    stores = _stores(road_map, sc["stores"], rng)
    orders = simulate_orders(
        road_map,
        stores,
        n_orders=sc["orders"],
        window_h=sc["window_h"],
        store_share=sc["store_share"],
        seed=sc["seed"],
    )
    return orders, vans(road_map, sc["vehicles"]), stores


def scenario_model(sc: dict[str, Any], road_map: Any) -> tuple[Any, dict[str, Any], float]:
    """The ETA model trained on ``model_days`` of the city's simulated history, its metrics
    on two later days, and the seconds training took."""
    import fleetroute
    from fleetroute.simulator.world import simulate_history

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        per_day = 2000
        train = simulate_history(
            road_map, root / "train", days=sc["model_days"], trips_per_day=per_day,
            stops_per_day=per_day * 2 // 3, seed=sc["seed"],
        )  # fmt: skip
        test = simulate_history(
            road_map, root / "test", days=2, trips_per_day=per_day,
            stops_per_day=per_day * 2 // 3, seed=sc["seed"] + 1, start=PLAN_DATE,
        )  # fmt: skip
        t0 = time.perf_counter()
        model = fleetroute.train_eta(road_map, train["trips"], train["stops"])
        train_s = time.perf_counter() - t0
        metrics = fleetroute.evaluate_eta(model, road_map, test["trips"], test["stops"])
    return model, metrics, train_s


#: The quantile of the ETA model a scenario plans with.
MODEL_QUANTILE = 0.9


def run_scenario(sc: dict[str, Any], cache: Path) -> dict[str, Any]:
    """Run one scenario in this process and return its row."""
    import fleetroute
    from fleetroute.eta_model.learned import LearnedEta

    cache.mkdir(parents=True, exist_ok=True)
    _compile_kernels()
    road_map, load_cold, prepare_s, load_s = timed_load(city_file(sc, cache))
    row: dict[str, Any] = {
        "scenario": sc["name"],
        "version": sc["version"],
        "layout": sc["layout"],
        "nodes": road_map.n_nodes,
        "orders": sc["orders"],
        "stores": sc["stores"],
        "load_cold_s": load_cold,
        "prepare_s": prepare_s,
        "load_s": load_s,
    }
    orders, vehicles, stores = scenario_day(sc, road_map)
    common: dict[str, Any] = dict(
        road_map=road_map,
        stores=stores,
        plan_date=PLAN_DATE,
        time_limit_s=float(sc["time_limit_s"]),
    )
    plan = fleetroute.plan(orders, vehicles, **common)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        fleetroute.write_plan(plan, Path(tmp) / "out")
        write_s = time.perf_counter() - t0
    t = plan.timings
    s = plan.summary()
    row.update(
        read_s=t.get("read", 0.0),
        snap_s=t.get("snap", 0.0),
        matrix_s=t.get("matrix", 0.0),
        model_s=t.get("model", 0.0),
        solve_s=s["solve_time_s"],
        write_s=write_s,
        backend=plan.inputs["backend"],
        search=json.dumps(plan.inputs.get("search", {}), default=str),
        zones=plan.inputs.get("zones", 1),
        assigned=s["assigned"],
        vehicles_used=s["vehicles_used"],
        km=s["total_distance_m"] / 1000.0,
        hours=s["total_duration_s"] / 3600.0,
        objective=s["objective"],
        cost_per_order=s["objective"] / max(1, s["assigned"]),
    )
    row["on_time_free_flow"], row["true_cost_free_flow"] = replayed(road_map, plan)
    best = _best_known(sc["name"])
    if best.get("free_flow"):
        row["gap_free_flow"] = s["objective"] / best["free_flow"] - 1.0
    row["non_solver_s"] = (
        load_s + row["read_s"] + row["snap_s"] + row["matrix_s"] + row["model_s"] + write_s
    )
    if sc["model_days"]:
        model, metrics, row["train_s"] = scenario_model(sc, road_map)
        row["eta_travel_mae_s"] = metrics["travel"]["mae_s"]
        row["eta_travel_p90_coverage"] = metrics["travel"]["p90_coverage"]
        row["free_flow_travel_mae_s"] = metrics["baseline"]["travel"]["mae_s"]
        with_model = fleetroute.plan(
            orders, vehicles, eta=LearnedEta(model, quantile=MODEL_QUANTILE), **common
        )
        row["eta_predict_s"] = with_model.timings.get("matrix", 0.0)
        row["objective_model"] = with_model.summary()["objective"]
        row["assigned_model"] = with_model.summary()["assigned"]
        row["backend_model"] = with_model.inputs["backend"]
        row["on_time_model"], row["true_cost_model"] = replayed(road_map, with_model)
        # what planning on learned times costs in the true world over the free-flow plan
        row["price_of_punctuality"] = row["true_cost_model"] / row["true_cost_free_flow"]
        if best.get("model"):
            row["gap_model"] = row["objective_model"] / best["model"] - 1.0
    row["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return row


def _machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "commit": commit,
        "machine": (
            f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "command": " ".join(["route", *sys.argv[1:]]) if sys.argv else "",
        "when": datetime.now().isoformat(timespec="seconds"),
    }


def run_suite(
    scenarios: list[dict[str, Any]],
    out_dir: Path,
    *,
    cache: Path,
    echo: Any = print,
    baseline: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Run each scenario in its own process; write results and the report into ``out_dir``.

    A scenario that fails is recorded with its error and the suite goes on.
    """
    rows = []
    for sc in scenarios:
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "fleetroute.suite", json.dumps(sc), str(cache)],
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0:
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            row["error"] = ""
        else:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            row = {"scenario": sc["name"], "error": last}
        row["wall_s"] = time.perf_counter() - started
        rows.append(row)
        echo(_line(row))
    table = pd.DataFrame(rows)
    write_report(table, out_dir, _machine(), baseline=baseline)
    return table


def _line(row: dict[str, Any]) -> str:
    if row.get("error"):
        return f"{row['scenario']}: FAILED: {row['error']}"
    extra = f", on time with model {row['on_time_model']:.0%}" if "on_time_model" in row else ""
    return (
        f"{row['scenario']}: {row['assigned']}/{row['orders']} orders, "
        f"non-solver {row['non_solver_s']:.1f} s, solve {row['solve_s']:.1f} s, "
        f"peak {row['peak_mb']:.0f} MB, on time free-flow {row['on_time_free_flow']:.0%}{extra}"
    )


#: The report's headline columns.
HEADLINE = (
    "scenario",
    "nodes",
    "orders",
    "prepare_s",
    "load_s",
    "matrix_s",
    "non_solver_s",
    "solve_s",
    "peak_mb",
    "assigned",
    "vehicles_used",
    "cost_per_order",
    "on_time_free_flow",
    "on_time_model",
    "price_of_punctuality",
    "gap_free_flow",
    "gap_model",
    "eta_travel_mae_s",
    "free_flow_travel_mae_s",
)


def read_results(path: str | Path) -> pd.DataFrame:
    """The rows of a suite's ``results.json`` (the file, or the folder that holds it)."""
    source = Path(path)
    if source.is_dir():
        source = source / "results.json"
    try:
        return pd.DataFrame(json.loads(source.read_text())["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(str(source), "is not a suite results.json") from None


#: What the baseline comparison looks at: column, how a change is judged worse (ratio or
#: difference), and the margin beyond which it is flagged (noise stays below it).
_WATCH: tuple[tuple[str, str, float, str], ...] = (
    ("non_solver_s", "ratio", 1.25, "slower"),
    ("solve_s", "ratio", 1.25, "slower search"),
    ("peak_mb", "ratio", 1.20, "more memory"),
    ("cost_per_order", "ratio", 1.03, "costlier"),
    ("on_time_free_flow", "drop", 0.03, "less on time"),
    ("on_time_model", "drop", 0.03, "less on time with the model"),
)


def compare(table: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """Each scenario of both runs: its watched figures then and now, and what got worse
    beyond the noise margins (times by 25% and 0.5 s, memory 20%, cost per order 3%,
    on-time rates 3 points)."""
    base = baseline.set_index("scenario")
    rows = []
    for row in table.to_dict("records"):
        name = row["scenario"]
        if row.get("error") or name not in base.index:
            continue
        then = base.loc[name]
        out: dict[str, Any] = {"scenario": name}
        worse = []
        for col, how, margin, word in _WATCH:
            old, new = then.get(col), row.get(col)
            if old is None or new is None or pd.isna(old) or pd.isna(new):
                continue
            out[f"{col} then"], out[f"{col} now"] = old, new
            at_least = 0.5 if col.endswith("_s") else 0.0  # seconds: ignore sub-second jitter
            if how == "ratio" and new > old * margin and new - old > at_least:
                worse.append(f"{word} ({col} {old:.3g} -> {new:.3g})")
            if how == "drop" and old - new > margin:
                worse.append(f"{word} ({old:.0%} -> {new:.0%})")
        out["worse"] = "; ".join(worse)
        rows.append(out)
    return pd.DataFrame(rows)


def write_report(
    table: pd.DataFrame,
    out_dir: Path,
    meta: dict[str, Any],
    *,
    baseline: pd.DataFrame | None = None,
) -> None:
    """results.json, results.csv and report.md (with PNG plots when matplotlib is there);
    with a ``baseline`` (an earlier run's rows), a section on what changed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(
        json.dumps({**meta, "rows": json.loads(table.to_json(orient="records"))}, indent=1) + "\n"
    )
    table.to_csv(out_dir / "results.csv", index=False)
    cols = [c for c in HEADLINE if c in table.columns]
    head = table[cols].round(3).to_string(index=False)
    plots = _plots(table, out_dir)
    lines = [
        "# fleetroute benchmark suite",
        "",
        f"Commit {meta['commit']}, {meta['machine']}, {meta['when']}.",
        f"Command: `{meta['command']}`",
        "",
        "```",
        head,
        "```",
        "",
        "Times in seconds, memory in MB (peak RSS of the scenario's process). On-time rates",
        "are the plan replayed in the simulator's true world (free-flow plan, and the plan",
        "made with the ETA model's 0.9 quantile where the scenario trains one).",
        "",
        *[f"![{name}]({name}.png)" for name in plots],
    ]
    if baseline is not None:
        lines += ["", "## Against the baseline", ""]
        diff = compare(table, baseline)
        if diff.empty:
            lines.append("No scenario of this run is in the baseline.")
        else:
            flagged = diff[diff["worse"] != ""]
            lines.append(
                f"{len(diff)} scenarios compared; {len(flagged)} worse beyond the noise "
                "margins (times +25% and +0.5 s, memory +20%, cost per order +3%, on-time "
                "-3 points)."
            )
            lines += [f"- **{r.scenario}**: {r.worse}" for r in flagged.itertuples()]
            diff.to_csv(out_dir / "compare.csv", index=False)
    failed = table[table.get("error", pd.Series(dtype=str)).fillna("") != ""]
    if len(failed):
        lines += [
            "",
            "Failed scenarios:",
            *[f"- {r.scenario}: {r.error}" for r in failed.itertuples()],
        ]
    (out_dir / "report.md").write_text("\n".join(lines) + "\n")


def _plots(table: pd.DataFrame, out_dir: Path) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    ok = table[table.get("error", pd.Series("", index=table.index)).fillna("") == ""]
    if ok.empty:
        return []
    made = []
    for x, name in (("nodes", "stage_time_vs_nodes"), ("orders", "stage_time_vs_orders")):
        fig, ax = plt.subplots(figsize=(6, 4))
        for stage in ("load_s", "snap_s", "matrix_s", "model_s", "solve_s", "write_s"):
            if stage in ok:
                part = ok.sort_values(x)
                ax.loglog(part[x], part[stage].clip(lower=1e-3), "o-", label=stage[:-2])
        ax.set_xlabel(x)
        ax.set_ylabel("seconds")
        ax.set_title(f"stage time vs {x} (log-log)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out_dir / f"{name}.png", dpi=100)
        plt.close(fig)
        made.append(name)
    fig, ax = plt.subplots(figsize=(6, 4))
    pos = np.arange(len(ok))
    ax.bar(pos - 0.2, ok["on_time_free_flow"], 0.4, label="free-flow plan")
    if "on_time_model" in ok:
        ax.bar(pos + 0.2, ok["on_time_model"].fillna(0), 0.4, label="ETA model plan (q0.9)")
    ax.set_xticks(pos, ok["scenario"], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("on-time rate (true world)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "on_time.png", dpi=100)
    plt.close(fig)
    made.append("on_time")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(pos, ok["cost_per_order"])
    ax.set_xticks(pos, ok["scenario"], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("cost per order")
    fig.tight_layout()
    fig.savefig(out_dir / "cost_per_order.png", dpi=100)
    plt.close(fig)
    made.append("cost_per_order")
    return made


if __name__ == "__main__":  # one scenario in its own process: python -m fleetroute.suite JSON CACHE
    result = run_scenario(json.loads(sys.argv[1]), Path(sys.argv[2]))
    print(json.dumps(result))
