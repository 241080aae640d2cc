"""``route serve``: the HTTP service (FastAPI on uvicorn) of SPEC."""

from __future__ import annotations

import os
from pathlib import Path

import click

from fleetroute import api
from fleetroute.cli.group import cli
from fleetroute.errors import InputError


def _default_data() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "fleetroute" / "service"


def _named_maps(given: tuple[str, ...]) -> dict[str, Path]:
    """``[NAME=]PATH`` options as {name: path}, in the order given."""
    out: dict[str, Path] = {}
    for item in given:
        name, sep, path = item.partition("=")
        where = Path(path) if sep else Path(item)
        name = name if sep else where.stem
        if not name or name in out:
            raise InputError("--map", f"'{item}': give each map a different name (NAME=PATH)")
        out[name] = where
    return out


@cli.command("serve")
@click.option(
    "--map",
    "maps",
    required=True,
    multiple=True,
    metavar="[NAME=]PATH",
    help="A road map to plan on; repeat as NAME=PATH for several (a request names one in "
    "'map'; the first is the default). NAME defaults to the file's stem.",
)
@click.option(
    "--eta-model",
    type=click.Path(file_okay=False, path_type=Path),
    help="An ETA model bundle (route eta train) of the first map: plans on it use its "
    "learned times.",
)
@click.option(
    "--eta-quantile",
    type=click.FloatRange(0.01, 0.99),
    help="The quantile plans use [default: the model's planning quantile].",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
    help="Port to listen on.",
)  # fmt: skip
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the SQLite store [default: ~/.local/share/fleetroute/service].",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Solver processes: plans solved at once (the rest queue).",
)
@click.option(
    "--max-orders",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Most orders a plan may have (more: 413).",
)
@click.option("--max-body-mb", type=click.FloatRange(min=0.001), default=10.0,
              show_default=True, help="Largest request body in MB (more: 413).")  # fmt: skip
def serve_cmd(
    maps: tuple[str, ...],
    eta_model: Path | None,
    eta_quantile: float | None,
    host: str,
    port: int,
    data_dir: Path | None,
    workers: int,
    max_orders: int,
    max_body_mb: float,
) -> None:
    """Serve plans over HTTP: POST /v1/plans, GET /v1/plans/{id}, the plan's files, cancel.

    API keys come from FLEETROUTE_API_KEYS as name:key pairs, comma-separated; each
    request carries Authorization: Bearer <key>, and a key sees only its own plans.
    OpenAPI documentation at /docs.
    """
    import uvicorn

    from fleetroute.service import KEYS_VARIABLE, ServiceConfig, create_app, keys_from_text

    keys = keys_from_text(os.environ.get(KEYS_VARIABLE, ""))
    named = _named_maps(maps)
    # a bad map or model fails here, before the server starts
    loaded = [api.load_map(path) for path in named.values()]
    if eta_model is not None:
        api.LearnedEta.load(eta_model, loaded[0], quantile=eta_quantile)
    data = data_dir or _default_data()
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("--data", f"cannot create '{data}' ({exc.strerror})") from None
    config = ServiceConfig(
        maps=named, data_dir=data, keys=keys, eta_model=eta_model,
        eta_quantile=eta_quantile, workers=workers, max_orders=max_orders,
        max_body_bytes=int(max_body_mb * 2**20),
    )  # fmt: skip
    click.echo(
        f"fleetroute serving {', '.join(named)} on http://{host}:{port} (docs: /docs)", err=True
    )
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
