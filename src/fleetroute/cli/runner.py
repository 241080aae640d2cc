"""Map fleetroute's errors to the SPEC's exit codes: one line on stderr, no traceback."""

from __future__ import annotations

import sys
import traceback
import warnings
from typing import Any

import click

from fleetroute.errors import InputError, InputWarning, MapError, ModelBundleError

__all__ = ["RouteGroup"]

_BAD_INPUT = (InputError, MapError, ModelBundleError)


def _one_line(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    """Our input warnings as one ``warning:`` line each; others as Python shows them."""
    if issubclass(category, InputWarning):
        click.echo(f"warning: {message}", err=True)
    else:
        click.echo(f"warning: {category.__name__}: {message}", err=True)


def _run(group: click.Group, args: list[str] | None, **extra: Any) -> int:
    argv = list(sys.argv[1:] if args is None else args)
    debug = "--debug" in argv
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", InputWarning)
            warnings.showwarning = _one_line
            result = click.Group.main(group, argv, standalone_mode=False, **extra)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        where = f"{exc.ctx.command_path}: " if exc.ctx is not None else ""
        click.echo(f"error: {where}{exc.format_message()}", err=True)
        return 2
    except _BAD_INPUT as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.Abort:
        click.echo("error: aborted", err=True)
        return 1
    except Exception as exc:  # the CLI's last line of defence: one line, exit 1
        if debug:
            traceback.print_exc()
        click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        return 1
    return result if isinstance(result, int) else 0


class RouteGroup(click.Group):
    """A click group that maps fleetroute's errors to the SPEC's exit codes and one line."""

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:  # type: ignore[override]
        extra.pop("standalone_mode", None)
        code = _run(self, list(args) if args is not None else None, prog_name=prog_name, **extra)
        sys.exit(code)
