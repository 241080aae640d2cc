"""The click commands of ``route``, assembled: one module per command group."""

from __future__ import annotations

from fleetroute.cli import (  # noqa: F401  (importing a module registers its commands)
    bench_cmds,
    eta_cmds,
    map_cmds,
    plan_cmds,
    serve_cmd,
    simulate_cmds,
)
from fleetroute.cli.group import cli

__all__ = ["cli"]
