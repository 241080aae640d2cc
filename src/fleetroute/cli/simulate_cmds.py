"""``route simulate``: history and order days from the simulator's true world."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pandas as pd

from fleetroute.api import load_map, write_csv

if TYPE_CHECKING:
    pass
from fleetroute.cli.group import (
    _atomic_dir,
    cli,
)
from fleetroute.cli.params import OUT_DIR, OUT_FILE


@cli.group("simulate")
def simulate_group() -> None:
    """Simulated history and orders from a documented true world (no real data needed)."""


@simulate_group.command("history")
@click.option("--map", "map_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--days", type=click.IntRange(min=1), default=28, show_default=True)
@click.option("--trips-per-day", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--stops-per-day", type=click.IntRange(min=1), default=1500, show_default=True)
@click.option(
    "--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2026-01-05", show_default=True
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_dir", required=True, type=OUT_DIR)
def simulate_history_cmd(
    map_path: Path,
    days: int,
    trips_per_day: int,
    stops_per_day: int,
    start: datetime,
    seed: int,
    out_dir: Path,
) -> None:
    """Write trips.csv, stops.csv and stores.csv of DAYS days of simulated deliveries."""
    from fleetroute.api import simulate_history

    road_map = load_map(map_path)
    _atomic_dir(
        out_dir,
        lambda folder: simulate_history(
            road_map,
            folder,
            days=days,
            trips_per_day=trips_per_day,
            stops_per_day=stops_per_day,
            start=start.date(),
            seed=seed,
        ),
    )
    click.echo(f"wrote {out_dir}/trips.csv, stops.csv, stores.csv ({days} days)")


@simulate_group.command("orders")
@click.option("--map", "map_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--stores", type=click.Path(dir_okay=False, path_type=Path), help="stores.csv to shop at."
)
@click.option("--orders", "n_orders", type=click.IntRange(min=1), default=200, show_default=True)
@click.option(
    "--window",
    "window_h",
    type=click.IntRange(1, 8),
    default=2,
    show_default=True,
    help="Delivery window width, hours.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_path", required=True, type=OUT_FILE)
def simulate_orders_cmd(
    map_path: Path, stores: Path | None, n_orders: int, window_h: int, seed: int, out_path: Path
) -> None:
    """Write one day of orders (orders.csv) on the map."""

    from fleetroute.api import simulate_orders

    road_map = load_map(map_path)
    store_table = (
        pd.read_csv(stores) if stores else pd.DataFrame(columns=["store_id", "lat", "lon"])
    )
    orders = simulate_orders(road_map, store_table, n_orders=n_orders, window_h=window_h, seed=seed)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(orders, tmp)
    tmp.replace(out_path)
    click.echo(f"wrote {out_path} ({n_orders} orders)")
