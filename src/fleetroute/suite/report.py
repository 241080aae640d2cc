"""The suite's results: results.json/.csv, report.md with plots, and the comparison with a
baseline run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fleetroute.api import PLAN_QUANTILE
from fleetroute.errors import InputError

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
    "solve_s_model",
    "peak_mb",
    "assigned",
    "assigned_model",
    "best_assigned_model",
    "vehicles_used",
    "cost_per_order",
    "on_time_free_flow",
    "on_time_model",
    "price_of_punctuality",
    "wait_h_model",
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
        f"made with the ETA model's planning quantile ({PLAN_QUANTILE:g}) where the scenario",
        "trains one). `solve_s_model` and `assigned_model` are that plan's, and",
        "`wait_h_model` the hours its vans waited there for windows to open; gaps are to",
        "the day's best-known plan (benchmarks/results/best_known.json), which serves",
        "`best_assigned_model` orders of the learned day (a plan that serves more costs more).",
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
        label = f"ETA model plan (q{PLAN_QUANTILE:g})"
        ax.bar(pos + 0.2, ok["on_time_model"].fillna(0), 0.4, label=label)
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
