"""What `route` shows people in the terminal: a progress line while it works, and the plan's
vehicle table and KPIs when it is done (rich; plain text when not a terminal)."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.table import Table

from fleetroute.api import PlanResult, kpis, vehicle_table

__all__ = ["Status", "describe_search", "plan_tables"]


class Status:
    """A spinner on stderr with the current step, its time and the best cost so far.

    Shown only when stderr is a terminal (and ``enabled``); otherwise calls do nothing, so
    pipes, logs and tests stay clean.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.console = Console(stderr=True)
        self.enabled = enabled and self.console.is_terminal
        self._status: Any = None
        self._step = ""
        self._since = time.perf_counter()
        self.best: float | None = None

    def __enter__(self) -> Status:
        if self.enabled:
            self._status = self.console.status("starting")
            self._status.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._status is not None:
            self._status.__exit__(kind, value, trace)
            self._status = None

    def __call__(self, step: str, cost: float | None = None) -> None:
        if cost is not None:
            self.best = cost
        else:
            if self._step and self.enabled:
                took = time.perf_counter() - self._since
                self.console.log(f"{self._step}: {took:.1f} s", highlight=False)
            self._step, self._since = step, time.perf_counter()
        if self._status is not None:
            best = f"  best cost {self.best:,.2f}" if self.best is not None else ""
            self._status.update(f"{self._step}{best}")


def plan_tables(result: PlanResult) -> None:
    """Print the per-vehicle table and the day's KPIs (on stdout)."""
    console = Console()
    routes = result.routes_table()
    if len(routes):
        vehicles = vehicle_table(routes)
        table = Table(title="vehicles", title_justify="left")
        for col in vehicles.columns:
            table.add_column(str(col), justify="left" if col == "vehicle" else "right")
        for row in vehicles.itertuples(index=False):
            table.add_row(*(str(v) for v in row))
        console.print(table)
    day = Table(title="the day", title_justify="left", show_header=False)
    day.add_column("kpi")
    day.add_column("value", justify="right")
    summary = result.summary()
    for name, value in kpis(routes, summary).items():
        day.add_row(name, value)
        forecast = summary.get("on_time_forecast")
        if name == "on time" and forecast is not None:  # the times varying as learned
            day.add_row("on time, forecast", f"{forecast:.1%}")
    console.print(day)


def describe_search(search: dict[str, Any]) -> str:
    """One line on what searched and why (plan.json's ``inputs.search``)."""
    if not search:
        return "search: none (no order to plan)"
    parts = [f"search: {search.get('backend', '?')}, because {search.get('why', '?')}"]
    contest = search.get("portfolio")
    if contest:
        costs = ", ".join(
            f"{name} {r['cost']:,.2f}"
            + (f" ({r['left_out_weight']:g} left out)" if r["left_out_weight"] else "")
            for name, r in contest.items()
        )
        parts.append(f"portfolio: {costs}")
    if search.get("zones"):
        parts.append(f"{search['zones']} zones")
    if search.get("fallback"):
        parts.append(f"fallback: {search['fallback']}")
    return "; ".join(parts)
