"""``route eta``: train, monitor, predict and evaluate the ETA model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from fleetroute import api
from fleetroute.api import DEFAULT_QUANTILES, load_map, write_csv
from fleetroute.errors import InputError

if TYPE_CHECKING:
    pass
from fleetroute.cli.group import (
    _MAP,
    _MODEL,
    _STOPS,
    _TRIPS,
    _atomic_dir,
    _dask_options,
    _out_dir,
    cli,
)
from fleetroute.cli.params import OUT_DIR, OUT_FILE


@cli.group("eta")
def eta_group() -> None:
    """Train, apply and check the learned ETA model."""


@eta_group.command("train")
@_MAP
@_TRIPS
@_STOPS
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=OUT_DIR,
    help="Folder for the model bundle (LightGBM text models + manifest.json).",
)
@click.option(
    "--quantile",
    "quantiles",
    type=click.FloatRange(0.01, 0.99),
    multiple=True,
    help="Quantiles to learn besides the median and 0.65 (default 0.9; plans blend the "
    "planning quantile 0.7 from those around it); repeatable.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--last-days",
    type=click.IntRange(min=1),
    help="Train on the latest N days of the history only (retraining after drift).",
)
@click.option(
    "--dask",
    "use_dask",
    is_flag=True,
    help="Train with lightgbm.dask on a Dask cluster, features computed per partition on "
    "the workers (a local cluster unless --scheduler is given).",
)
@_dask_options
def eta_train_cmd(
    map_path: Path,
    trips: Path,
    stops: Path,
    out_dir: Path,
    quantiles: tuple[float, ...],
    seed: int,
    last_days: int | None,
    use_dask: bool,
    scheduler: str | None,
    dask_workers: int | None,
) -> None:
    """Learn travel and shop/drop-off times from history; write the model bundle."""
    from fleetroute.cli.show import Status

    distributed = use_dask or scheduler is not None or dask_workers is not None
    with Status() as status:
        status(f"loading map {map_path.name}")
        road_map = load_map(map_path)
        where = "on Dask" if distributed else "here"
        status(f"computing features and training the LightGBM boosters {where}")
        model = api.train_eta(
            road_map,
            trips,
            stops,
            quantiles=(*DEFAULT_QUANTILES[:2], *(quantiles or DEFAULT_QUANTILES[2:])),
            seed=seed,
            last_days=last_days,
            distributed=distributed,
            scheduler=scheduler,
            n_workers=dask_workers,
        )
        status("")
    _atomic_dir(out_dir, model.save)
    m = model.metrics_
    share = f"{model.validation_share:.0%}"
    travel, free = m["travel"]["mae_s"], m["baseline"]["travel"]["mae_s"]
    click.echo(
        f"trained on {trips.name} and {stops.name}; validation (latest {share}): "
        f"travel MAE {travel:.0f} s (free-flow {free:.0f} s), "
        f"service MAE {m['service']['mae_s']:.0f} s"
    )
    click.echo(f"wrote {out_dir}")


@eta_group.command("monitor")
@click.option(
    "--model",
    "model_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The model bundle in service.",
)
@_MAP
@_TRIPS
@_STOPS
@click.option(
    "--threshold",
    type=click.FloatRange(min=1.0),
    default=1.25,
    show_default=True,
    help="A day drifts when its MAE exceeds the training MAE by this factor.",
)
@_out_dir("monitor", "monitor.json, by_day.csv, by_hour.csv and error_trend.png")
def eta_monitor_cmd(
    model_dir: Path, map_path: Path, trips: Path, stops: Path, threshold: float, out_dir: Path
) -> None:
    """How the model does on actuals that came after training: error by day and hour
    against its training error, drift, and whether to retrain. Drift is not an error:
    the exit status is 0 either way (read `drift` in monitor.json)."""
    report = api.monitor_eta(model_dir, map_path, trips, stops, threshold=threshold)

    def write(tmp: Path) -> None:
        plot = None
        try:
            from fleetroute.api import plot_trend

            plot = plot_trend(tmp / "error_trend.png", report)
        except ImportError:  # matplotlib is optional (extra "plot")
            pass
        report["by_day"].to_csv(tmp / "by_day.csv", index=False)
        report["by_hour"].to_csv(tmp / "by_hour.csv", index=False)
        doc = {k: v for k, v in report.items() if k not in ("by_day", "by_hour")}
        doc["by_day"] = json.loads(report["by_day"].to_json(orient="records"))
        doc["plot"] = plot.name if plot else None
        (tmp / "monitor.json").write_text(json.dumps(doc, indent=1) + "\n")

    _atomic_dir(out_dir, write)
    ref = report["reference"]
    click.echo(
        f"training error: travel MAE {ref['travel_mae_s']:.0f} s, "
        f"service MAE {ref['service_mae_s']:.0f} s"
    )
    for row in report["by_day"].to_dict("records"):
        flag = "  DRIFT" if row["drift"] else ""
        click.echo(
            f"  {row['day']}: {row['trips']} trips, travel MAE {row['travel_mae_s']:.0f} s "
            f"({row['travel_ratio']:.2f}x), service {row['service_ratio']:.2f}x, "
            f"P90 coverage {row['p90_coverage']:.0%}{flag}"
        )
    click.echo(report["verdict"])
    click.echo(f"wrote {out_dir}")


@eta_group.command("predict")
@_MODEL
@_MAP
@_TRIPS
@_STOPS
@click.option("--out", "out_dir", required=True, type=OUT_DIR)
def eta_predict_cmd(
    model_dir: Path, map_path: Path, trips: Path, stops: Path, out_dir: Path
) -> None:
    """Write what the model expects each trip and stop to take: DIR/trips.csv, DIR/stops.csv."""
    road_map = load_map(map_path)
    t, s = api.predict_eta(model_dir, road_map, trips, stops)

    def write(folder: Path) -> None:
        write_csv(t, folder / "trips.csv")
        write_csv(s, folder / "stops.csv")

    _atomic_dir(out_dir, write)
    click.echo(f"wrote {out_dir}/trips.csv ({len(t)} rows) and stops.csv ({len(s)} rows)")


@eta_group.command("evaluate")
@_MODEL
@_MAP
@_TRIPS
@_STOPS
@click.option(
    "--json",
    "json_path",
    type=OUT_FILE,
    help="Write all metrics (overall and by hour) to this JSON file.",
)
@click.option(
    "--plot",
    "plot_path",
    type=OUT_FILE,
    help="Save a PNG: predicted vs actual, error by hour (needs fleetroute[plot]).",
)
def eta_evaluate_cmd(
    model_dir: Path,
    map_path: Path,
    trips: Path,
    stops: Path,
    json_path: Path | None,
    plot_path: Path | None,
) -> None:
    """Error of the model and of the free-flow baseline on a history with actual durations."""
    import importlib.util
    import json

    if plot_path is not None and importlib.util.find_spec("matplotlib") is None:
        raise InputError("--plot", "needs matplotlib: pip install 'fleetroute[plot]'")
    road_map = load_map(map_path)
    result = api.evaluate_eta(model_dir, road_map, trips, stops, plot=plot_path)
    t, s, b = result["travel"], result["service"], result["baseline"]
    click.echo(f"{'':9}{'MAE s':>8}{'MAPE':>8}{'P90 cov':>9}")
    click.echo(f"{'travel':9}{t['mae_s']:>8.1f}{t['mape']:>8.1%}{t.get('p90_coverage', 0):>9.1%}")
    click.echo(f"{'  free':9}{b['travel']['mae_s']:>8.1f}{b['travel']['mape']:>8.1%}{'':>9}")
    click.echo(f"{'service':9}{s['mae_s']:>8.1f}{s['mape']:>8.1%}{s.get('p90_coverage', 0):>9.1%}")
    click.echo(f"{'  default':9}{b['service']['mae_s']:>8.1f}{b['service']['mape']:>8.1%}{'':>9}")
    click.echo("travel MAE by departure hour (model / free-flow):")
    for hour, row in result["by_hour"].items():
        click.echo(f"  {hour}:00 {row['model']['mae_s']:>7.0f} / {row['baseline']['mae_s']:>7.0f}")
    bands = result.get("p90_coverage_by_band")
    if bands:
        click.echo("P90 coverage by 2-hour band (travel / service):")
        for band, travel in bands["travel"].items():
            service = bands["service"][band]
            if travel is None and service is None:
                continue
            cells = [f"{x:>6.1%}" if x is not None else f"{'-':>6}" for x in (travel, service)]
            click.echo(f"  {band} {cells[0]} / {cells[1]}")
    if plot_path is not None:
        click.echo(f"wrote {plot_path}")
    if json_path is not None:
        tmp = json_path.with_name(f".{json_path.name}.tmp")
        json_path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        tmp.replace(json_path)
        click.echo(f"wrote {json_path}")
