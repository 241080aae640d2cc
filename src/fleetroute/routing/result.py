"""The one shape of a plan result: what a :class:`~fleetroute.routing.plan.Plan`, its
:class:`~fleetroute.routing.combined.PlanTables` and a
:class:`~fleetroute.routing.combined.PartitionedPlan` all answer, and all that the writers,
the views and the CLI ask of a result."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import pandas as pd

__all__ = ["PlanResult"]


@runtime_checkable
class PlanResult(Protocol):
    """A plan as the SPEC's files show it: routes.csv, unassigned.csv and plan.json."""

    def routes_table(self) -> pd.DataFrame:
        """routes.csv: one row per stop of every used vehicle, in driving order."""
        ...

    def unassigned_table(self) -> pd.DataFrame:
        """unassigned.csv: ``order_id, reason``."""
        ...

    def unassigned_places(self) -> pd.DataFrame:
        """The unassigned orders with where they are: ``order_id, reason, lat, lon``."""
        ...

    def summary(self) -> dict[str, Any]:
        """plan.json's ``summary``."""
        ...

    @property
    def objective(self) -> float:
        """The plan's cost."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """plan.json as a dict."""
        ...
