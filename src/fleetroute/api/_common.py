"""What the api's modules share: the map-or-path argument, labels, timing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fleetroute.io.tables import Column, TableSource
from fleetroute.maps.load import load as load_map
from fleetroute.maps.roadmap import RoadMap

if TYPE_CHECKING:
    pass


#: The columns `check_routes` reads from a routes.csv made elsewhere (others are ignored).
ROUTE_INPUT_COLUMNS = (
    Column("vehicle_id", "text", required=True),
    Column("seq", "count", required=True),
    Column("kind", "text", required=True),
    Column("order_id", "text", default=""),
)

#: A stop farther than this from the nearest road node is not planned.
MAX_SNAP_M = 1000.0


def _label(source: TableSource | None, default: str) -> str:
    if source is None:
        return default
    if isinstance(source, pd.DataFrame):
        return str(source.attrs.get("source", default))
    return str(source)


#: A progress display: called with what is being done now and, while the solver searches,
#: the cost of its best plan so far (None otherwise).
Progress = Callable[[str, "float | None"], None]


class _Stopwatch:
    """Records the seconds between laps into a dict, when one is given, and tells a
    progress display what comes next."""

    def __init__(self, into: dict[str, float] | None, progress: Progress | None = None) -> None:
        self.into = into
        self.progress = progress
        self.last = time.perf_counter()

    def lap(self, stage: str, next_step: str | None = None) -> None:
        now = time.perf_counter()
        if self.into is not None:
            self.into[stage] = self.into.get(stage, 0.0) + now - self.last
        self.last = now
        if next_step is not None and self.progress is not None:
            self.progress(next_step, None)


def _int64(values: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.asarray(values, dtype=np.int64)


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


def road_map_of(road_map: RoadMap | str | Path) -> RoadMap:
    """A loaded map as it is, or the map file at this path loaded (from its cache)."""
    return road_map if isinstance(road_map, RoadMap) else load_map(road_map)
