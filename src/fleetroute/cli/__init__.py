"""The ``route`` command line: thin click commands over :mod:`fleetroute.api`.

Exit status: 0 when a plan or model was produced; 2 for bad input or options (one line on
stderr naming file, row and column); 1 for anything else (one line; the traceback only
with ``--debug``).
"""

from __future__ import annotations

from fleetroute.cli.main import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Entry point of the installed ``route`` program."""
    cli.main(prog_name="route")
