"""The ``route`` group and what its commands share: the day's options (map, fleet,
stores, ETA source, date), search and output options, and the atomic output folder."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from fleetroute import api
from fleetroute.api import BACKENDS, DEFAULT_SHIFT_S, FleetSpec, RoadMap, load_map
from fleetroute.cli.params import LAT_LON, OUT_DIR, SHIFT
from fleetroute.cli.runner import RouteGroup
from fleetroute.errors import EtaOptionError, InputError

if TYPE_CHECKING:
    from fleetroute.api import LearnedEta

__all__ = ["cli"]


@click.group(cls=RouteGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(package_name="fleetroute")
def cli(debug: bool) -> None:
    """fleetroute: plan delivery routes on a real road map.

    Typical use: route plan orders.csv --map city.osm.pbf --vehicles vehicles.csv --out plan/

    File formats are described in the README (SPEC.md). Exit status: 0 when a plan was
    produced (even with unassigned orders), 2 for bad input, 1 for anything else.
    """
    del debug


@dataclass(frozen=True)
class Day:
    """What the day options say: the map, the fleet, stores, ETA source and date."""

    map_path: Path
    vehicles: Path | None
    fleet: FleetSpec | None
    stores: Path | None
    eta_model: Path | None
    eta_quantile: float | None
    eta_margin: int
    eta_late_chance: float
    plan_date: date | None

    @cached_property
    def road_map(self) -> RoadMap:
        """The map, loaded once."""
        return load_map(self.map_path)

    @cached_property
    def eta(self) -> LearnedEta | None:
        """The learned ETA provider of --eta-model/--eta-quantile (None: free-flow)."""
        return _eta(
            self.eta_model,
            self.road_map,
            self.eta_quantile,
            self.eta_margin,
            self.eta_late_chance,
        )

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments every day-reading API function takes."""
        return {
            "road_map": self.road_map,
            "stores": self.stores,
            "fleet": self.fleet,
            "eta": self.eta,
            "plan_date": self.plan_date,
        }


_DAY_PARAMS = (
    "map_path",
    "vehicles",
    "fleet_size",
    "capacity",
    "depot",
    "shift",
    "stores",
    "eta_model",
    "eta_quantile",
    "eta_margin",
    "eta_late_chance",
    "plan_date",
)


def _day_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options that describe a day to plan or check: map, fleet, stores, ETA source,
    date. The command receives them as one ``day: Day`` argument."""

    @functools.wraps(command)
    def packed(**kwargs: Any) -> None:
        d = {name: kwargs.pop(name) for name in _DAY_PARAMS}
        day = Day(
            map_path=d["map_path"],
            vehicles=d["vehicles"],
            fleet=_fleet(d["fleet_size"], d["depot"], d["capacity"], d["shift"]),
            stores=d["stores"],
            eta_model=d["eta_model"],
            eta_quantile=d["eta_quantile"],
            eta_margin=d["eta_margin"],
            eta_late_chance=d["eta_late_chance"],
            plan_date=d["plan_date"].date() if d["plan_date"] else None,
        )
        command(day=day, **kwargs)

    options = [
        click.option(
            "--map",
            "map_path",
            required=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help="Road map: .osm, .osm.bz2, .osm.pbf or OSMnx .graphml.",
        ),
        click.option(
            "--vehicles",
            type=click.Path(dir_okay=False, path_type=Path),
            help="vehicles.csv; or use the --fleet-size shorthand.",
        ),
        click.option(
            "--fleet-size",
            type=click.IntRange(min=1),
            help="Shorthand: this many identical vehicles.",
        ),
        click.option(
            "--capacity", type=click.IntRange(min=0), help="Shorthand: capacity of each vehicle."
        ),
        click.option(
            "--depot", type=LAT_LON, help="Shorthand: LAT,LON where every vehicle starts and ends."
        ),
        click.option(
            "--shift", type=SHIFT, help="Shorthand: working time HH:MM-HH:MM (default 00:00-23:59)."
        ),
        click.option(
            "--stores",
            type=click.Path(dir_okay=False, path_type=Path),
            help="stores.csv, needed when orders name a store_id.",
        ),
        click.option(
            "--eta-model",
            "eta_model",
            type=click.Path(file_okay=False, path_type=Path),
            help="A model folder from `route eta train` (default: free-flow times).",
        ),
        click.option(
            "--eta-quantile",
            type=click.FloatRange(0.01, 0.99),
            default=None,
            help="Plan on this quantile of predicted times (default 0.7, blended from the "
            "model's 0.65 and 0.9; the median for a model trained with the median alone; "
            "0.9: every leg as slow as one time in ten).",
        ),
        click.option(
            "--eta-margin",
            type=click.IntRange(0, 4 * 3600),
            default=0,
            show_default=True,
            metavar="SECONDS",
            help="With --eta-model: plan each drop-off to start at least this long before its "
            "window closes (e.g. 600 with --eta-quantile 0.5); the windows promised are "
            "unchanged.",
        ),
        click.option(
            "--eta-late-chance",
            type=click.FloatRange(0.0, 0.5),
            default=0.0,
            show_default=True,
            metavar="P",
            help="With --eta-model: plan on the median and give each drop-off the margin that "
            "keeps its chance of being late at most P (e.g. 0.1), from the model's P90 spread "
            "along its route; searches twice, each half the time.",
        ),
        click.option(
            "--date",
            "plan_date",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            help="Plan date for HH:MM times (default: today).",
        ),
    ]
    wrapped: Callable[..., None] = packed
    for option in reversed(options):
        wrapped = option(wrapped)
    return wrapped


def _driven_options(command: Callable[..., None]) -> Callable[..., None]:
    """ROUTES (a routes.csv being driven or checked), the --orders it serves, and the day."""
    command = _day_options(command)
    command = click.option(
        "--orders",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="orders.csv the routes serve.",
    )(command)
    return click.argument("routes", type=click.Path(dir_okay=False, path_type=Path))(command)


def _out_dir(default: str, what: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The --out folder option of a command that writes ``what``."""
    return click.option(
        "--out",
        "out_dir",
        type=OUT_DIR,
        default=Path(default),
        show_default=True,
        help=f"Folder for {what}.",
    )


def _dask_options(command: Callable[..., None]) -> Callable[..., None]:
    """Where Dask tasks run: a running scheduler, or a local cluster of N workers."""
    command = click.option(
        "--dask-workers",
        type=click.IntRange(min=1),
        help="Worker processes of the local Dask cluster [default: one per core].",
    )(command)
    return click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="A running Dask scheduler (tcp://host:8786) [default: a local cluster].",
    )(command)


def _one_limit(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """--time-limit and --solution-limit are two ways to say when to stop: not both."""
    other = "solution_limit" if param.name == "time_limit" else "time_limit"
    given = {click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT}
    if (
        ctx.get_parameter_source(param.name or "") in given
        and ctx.get_parameter_source(other) in given
    ):
        raise click.BadParameter(
            "give --time-limit or --solution-limit, not both: --solution-limit replaces "
            "the clock with a fixed effort",
            ctx=ctx, param=param,
        )  # fmt: skip
    return value


def _search_options(command: Callable[..., None]) -> Callable[..., None]:
    """How the solver searches: time, effort limit, seed, backend, parallel searches."""
    options = [
        click.option(
            "--time-limit",
            type=click.FloatRange(min=0.1),
            default=10.0,
            show_default=True,
            callback=_one_limit,
            help="Seconds the solver may search (per instance for benchmarks).",
        ),
        click.option(
            "--solution-limit",
            type=click.IntRange(min=1),
            callback=_one_limit,
            help="A deterministic effort limit instead of the clock (repeatable results); "
            "not with --time-limit.",
        ),
        click.option("--seed", type=int, default=0, show_default=True, help="Random seed."),
        click.option(
            "--backend",
            type=click.Choice(BACKENDS),
            default="auto",
            show_default=True,
            help="Solver: auto picks PyVRP where it can model the day, else OR-Tools.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            help="Parallel searches, cheapest plan kept [default: one per core, at most 2].",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


_MAP = click.option(
    "--map",
    "map_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The road map the history was driven on.",
)
_TRIPS = click.option(
    "--trips",
    required=True,
    type=click.Path(path_type=Path),
    help="trips.csv: driven legs with their departure time (CSV or Parquet, or a folder "
    "of them: one partition per file).",
)
_STOPS = click.option(
    "--stops",
    required=True,
    type=click.Path(path_type=Path),
    help="stops.csv: shop and drop-off events (CSV or Parquet, or a folder of them: one "
    "partition per file).",
)
_MODEL = click.option(
    "--model",
    "model_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="An ETA model folder made by `route eta train`.",
)


def _fleet(
    size: int | None,
    depot: tuple[float, float] | None,
    capacity: int | None,
    shift: tuple[int, int] | None,
) -> FleetSpec | None:
    """The shorthand fleet of --fleet-size/--depot/--capacity/--shift, if given."""
    if size is None and depot is None:
        return None
    if size is None or depot is None:
        raise InputError("--fleet-size", "the shorthand fleet needs both --fleet-size and --depot")
    return FleetSpec(size=size, depot=depot, capacity=capacity, shift=shift or DEFAULT_SHIFT_S)


#: The option of ``route plan`` behind each LearnedEta parameter.
_ETA_FLAGS = {
    "quantile": "--eta-quantile",
    "margin_s": "--eta-margin",
    "late_chance": "--eta-late-chance",
}


def _eta(
    model_dir: Path | None,
    road_map: RoadMap,
    quantile: float | None,
    margin_s: int = 0,
    late_chance: float = 0.0,
) -> LearnedEta | None:
    """The learned ETA provider of --eta-model/--eta-quantile/--eta-margin/
    --eta-late-chance (None: free-flow)."""
    if model_dir is None:
        if margin_s:
            raise InputError("--eta-margin", "needs --eta-model")
        if late_chance:
            raise InputError("--eta-late-chance", "needs --eta-model")
        return None
    from fleetroute.api import LearnedEta

    try:
        return LearnedEta.load(
            model_dir, road_map, quantile=quantile, margin_s=margin_s, late_chance=late_chance
        )
    except EtaOptionError as exc:  # a quantile the model did not learn, say
        raise InputError(_ETA_FLAGS[exc.option], str(exc)) from None


def _atomic_dir(
    out_dir: Path, fill: Callable[[Path], object], replaces: tuple[str, ...] = ()
) -> None:
    """Fill a temporary folder beside ``out_dir`` and move its files in only when complete;
    ``replaces``: an earlier run's files, removed when this run does not write them again."""
    api.write_folder(out_dir, fill, replaces=replaces)
