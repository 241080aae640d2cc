"""The immutable routing problem: orders, vehicles, stores and integer matrices.

``routing`` imports neither osmnx nor lightgbm: a :class:`Problem` is made of arrays, so
road maps, standard VRP instances and synthetic cities all feed the same solver.
Times are whole seconds since the plan origin, distances whole metres.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Problem", "UNLIMITED", "per_store", "reduce_frozen"]

#: Capacity or stop count that stands for "no limit".
UNLIMITED = 1 << 40

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Per-order fields whose names do not start with ``order_``.
_ORDER_FIELDS = (
    "demand",
    "items",
    "window_start_s",
    "window_end_s",
    "dropoff_s",
    "shop_s",
    "shop_band_s",
    "dropoff_sd",
    "shop_sd",
    "priority",
    "dim_demand",
    "late_cost_per_h",
    "max_late_s",
)

#: Per-vehicle fields.
_VEHICLE_FIELDS = (
    "start_loc",
    "end_loc",
    "capacity",
    "shift_start_s",
    "shift_end_s",
    "fixed_cost",
    "cost_per_hour",
    "cost_per_km",
    "max_stops",
    "break_start_s",
    "break_end_s",
    "break_s",
    "vehicle_skills",
    "dim_capacity",
    "max_route_s",
    "max_distance_m",
    "reload_s",
)


def per_store(values: npt.NDArray[Any], stores: IntArray, fill: Any) -> npt.NDArray[Any]:
    """``values[store]`` for each entry of ``stores``, and ``fill`` where it is -1."""
    if values.shape[0] == 0:
        return np.full(stores.shape, fill, dtype=values.dtype)
    return np.where(stores >= 0, values[np.maximum(stores, 0)], fill)


def reduce_frozen(obj: Any) -> tuple[Any, tuple[Any, ...]]:
    """``__reduce__`` of a frozen dataclass whose mappings are read-only proxies (which do
    not pickle): rebuilt from its fields, so it travels to and from Dask workers."""
    values = tuple(
        dict(v) if isinstance(v, MappingProxyType) else v
        for v in (getattr(obj, f.name) for f in dataclasses.fields(obj))
    )
    return (type(obj), values)


def _ints(values: Any) -> IntArray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.int64))


def _floats(values: Any) -> FloatArray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.float64))


#: The fields whose every entry :meth:`Problem.replace` checks again only when they change.
_MATRICES = frozenset({"travel_s", "distance_m", "band_travel_s"})


@dataclass(frozen=True, eq=False)
class Problem:
    """Everything the solver and the schedule need, validated once when built.

    Locations are indexed ``0..L-1``; orders, stores and vehicles refer to them. Build a
    changed problem with :meth:`replace`.

    Attributes
    ----------
    origin
        Time zero (midnight of the plan date).
    loc_lat, loc_lon
        Coordinates of each location (for output only).
    travel_s, distance_m
        ``(L, L)`` whole seconds and metres from location to location.
    order_id, order_loc, order_store, demand, items
        Per order; ``order_store`` is a store index or -1.
    window_start_s, window_end_s
        When delivery may start.
    dropoff_s, shop_s
        Service time at the customer and shopping time at the store (0 without store).
    priority
        Higher is more important to serve when not all orders fit.
    store_id, store_loc, store_open_s, store_close_s
        Per store.
    vehicle_id, start_loc, end_loc, capacity, shift_start_s, shift_end_s
        Per vehicle; ``capacity`` may be :data:`UNLIMITED`.
    fixed_cost, cost_per_hour, cost_per_km, max_stops
        Per vehicle costs (cost units) and the most drop-offs of one route.
    excluded
        Order index -> plain-words reason, for orders left out before solving.
    break_start_s, break_end_s, break_s
        Per vehicle: a driver's break of ``break_s`` seconds (0: none) that starts between
        ``break_start_s`` and ``break_end_s``. Empty arrays mean no breaks.
    order_vehicle, order_rank
        Dispatch locks: the vehicle an order must go on (-1: any), and for orders whose
        sequence is locked, their rank among that vehicle's locked drop-offs (-1: free).
        Empty arrays mean no locks.
    skill_names, order_skills, vehicle_skills
        Skills: bit ``b`` of a mask stands for ``skill_names[b]``; an order may ride only a
        vehicle whose mask holds all of its bits. Empty arrays mean no skills.
    dim_names, dim_demand, dim_capacity
        More capacity dimensions (``demand_<name>``/``capacity_<name>``): ``(orders, d)``
        and ``(vehicles, d)``; :data:`UNLIMITED` where a vehicle does not list one.
    max_route_s, max_distance_m
        Per vehicle: the longest route, start to end (waiting included), and the most
        metres; :data:`UNLIMITED` without a limit.
    store_visit_s
        Per store: the fixed part of a visit, paid once per arrival at the store however
        many orders are shopped in it (0: none).
    order_windows
        ``(orders, k, 2)``: each order's delivery windows in time order (a shorter list is
        padded by repeating its last window); ``window_start_s``/``window_end_s`` span
        them. Empty, or one window each: ``window_start_s``/``window_end_s`` alone.
    reload_s
        Per vehicle: the seconds a reload at its start depot takes between trips (its
        capacity then applies per trip); -1: it does not reload.
    margin_s
        Slack the search keeps before each delivery window closes (see
        :meth:`for_search`; a learned ETA's promise margin); the windows promised, and
        judged, are the ones above.
    order_margin_s
        Per order: slack kept before its windows close on top of ``margin_s`` (a risk
        margin, see :mod:`fleetroute.routing.punctual`); empty: none.
    travel_sd, dropoff_sd, shop_sd
        How uncertain the times are, as the standard deviation of their logarithm: per
        travel band, and per order's drop-off and shop. Empty: the times are taken as
        certain.
    late_chance
        The chance of starting after its window closes that a plan may leave each drop-off
        (0: no such check; see :mod:`fleetroute.routing.punctual`). Needs the spreads above.
    plan_quantile
        Which quantile of the uncertain times above the planned times are (0.5: the
        median, as free-flow and the median model plan): with the spreads, a plan's drives
        are drawn around ``plan_quantile``'s times moved back to the median.
    late_cost_per_h, max_late_s
        Soft windows: an order with ``max_late_s`` > 0 may be delivered up to that late
        after its window closes, at ``late_cost_per_h`` per hour late (0: a hard window).
    band_start_s, band_travel_s
        Optional time-dependent travel: ``band_travel_s[b]`` is the ``(L, L)`` matrix for
        legs that depart from ``band_start_s[b]`` on (until the next band starts). Without
        them, ``travel_s`` holds at every hour.
    shop_band_s
        Optional hour-dependent shop times, ``(orders, bands)``: ``shop_band_s[i, b]`` is
        order ``i``'s shop seconds when its shop begins in travel band ``b``. ``shop_s``
        is the one a search plans on (:meth:`with_shops_at` sets it from a plan's shop
        hours). ``(orders, 0)``: ``shop_s`` at every hour.
    """

    origin: datetime
    loc_lat: FloatArray
    loc_lon: FloatArray
    travel_s: IntArray
    distance_m: IntArray
    order_id: tuple[str, ...]
    order_loc: IntArray
    order_store: IntArray
    demand: IntArray
    items: IntArray
    window_start_s: IntArray
    window_end_s: IntArray
    dropoff_s: IntArray
    shop_s: IntArray
    priority: FloatArray
    store_id: tuple[str, ...]
    store_loc: IntArray
    store_open_s: IntArray
    store_close_s: IntArray
    vehicle_id: tuple[str, ...]
    start_loc: IntArray
    end_loc: IntArray
    capacity: IntArray
    shift_start_s: IntArray
    shift_end_s: IntArray
    fixed_cost: FloatArray
    cost_per_hour: FloatArray
    cost_per_km: FloatArray
    max_stops: IntArray
    excluded: Mapping[int, str] = field(default_factory=dict)
    break_start_s: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    break_end_s: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    break_s: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    order_vehicle: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    order_rank: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    band_start_s: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    band_travel_s: npt.NDArray[np.int32] | None = None
    shop_band_s: IntArray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    skill_names: tuple[str, ...] = ()
    order_skills: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    vehicle_skills: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    dim_names: tuple[str, ...] = ()
    dim_demand: IntArray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    dim_capacity: IntArray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    max_route_s: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    max_distance_m: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    store_visit_s: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    order_windows: IntArray = field(default_factory=lambda: np.zeros((0, 1, 2), dtype=np.int64))
    late_cost_per_h: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    max_late_s: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    reload_s: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    margin_s: int = 0
    order_margin_s: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    travel_sd: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    dropoff_sd: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    shop_sd: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    late_chance: float = 0.0
    plan_quantile: float = 0.5

    def _default(self, name: str) -> IntArray | None:
        """The value of an optional per-order, per-vehicle or per-store field left empty."""
        n, v, m, d = self.n_orders, self.n_vehicles, self.n_stores, len(self.dim_names)
        if name == "order_windows":  # one window: the order's window_start_s, window_end_s
            return np.stack([self.window_start_s, self.window_end_s], axis=1)[:, None, :]
        defaults: dict[str, tuple[int | tuple[int, int], int]] = {
            "order_vehicle": (n, -1),
            "order_rank": (n, -1),
            "break_start_s": (v, 0),
            "break_end_s": (v, 0),
            "break_s": (v, 0),
            "order_skills": (n, 0),
            "vehicle_skills": (v, 0),
            "dim_demand": ((n, d), 0),
            "dim_capacity": ((v, d), UNLIMITED),
            "max_route_s": (v, UNLIMITED),
            "max_distance_m": (v, UNLIMITED),
            "store_visit_s": (m, 0),
            "max_late_s": (n, 0),
            "reload_s": (v, -1),
            "order_margin_s": (n, 0),
            "shop_band_s": ((n, 0), 0),
        }
        if name not in defaults:
            return None
        shape, fill = defaults[name]
        return np.full(shape, fill, dtype=np.int64)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            self._set(f.name, f.type, getattr(self, f.name))
        self._validate()

    def _set(self, name: str, kind: Any, value: Any) -> None:
        """Set field ``name`` (of type ``kind``) to ``value`` in the form the problem keeps
        it: read-only arrays of its dtype, an empty array of a defaulted field filled in."""
        if kind == "IntArray":
            value = _ints(value)
            one_window = name == "order_windows" and (value.ndim < 2 or value.shape[1] <= 1)
            empty = self._default(name) if value.size == 0 or one_window else None
            if empty is not None and (value.shape != empty.shape or one_window):
                value = empty
        elif kind == "FloatArray":
            value = _floats(value)
            if name == "late_cost_per_h" and value.size == 0:
                value = np.zeros(len(self.order_id))
        elif kind == "tuple[str, ...]":
            value = tuple(str(v) for v in value)
        elif name == "excluded":
            value = MappingProxyType(dict(value))
        elif name == "band_travel_s" and value is not None:
            value = np.ascontiguousarray(np.asarray(value, dtype=np.int32))
        else:
            object.__setattr__(self, name, value)
            return
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
        object.__setattr__(self, name, value)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return reduce_frozen(self)

    def _validate(self, *, matrices: bool = True) -> None:
        n_loc = self.loc_lat.shape[0]
        if self.travel_s.shape != (n_loc, n_loc) or self.distance_m.shape != (n_loc, n_loc):
            raise ValueError("travel_s and distance_m must be (locations x locations)")
        if matrices and ((self.travel_s < 0).any() or (self.distance_m < 0).any()):
            raise ValueError("travel times and distances must not be negative")
        n, m, v = self.n_orders, self.n_stores, self.n_vehicles
        for name, size in (
            ("order_loc", n),
            ("order_store", n),
            ("demand", n),
            ("items", n),
            ("window_start_s", n),
            ("window_end_s", n),
            ("dropoff_s", n),
            ("shop_s", n),
            ("priority", n),
            ("order_vehicle", n),
            ("order_rank", n),
            ("store_loc", m),
            ("store_open_s", m),
            ("store_close_s", m),
            ("start_loc", v),
            ("end_loc", v),
            ("capacity", v),
            ("shift_start_s", v),
            ("shift_end_s", v),
            ("fixed_cost", v),
            ("cost_per_hour", v),
            ("cost_per_km", v),
            ("max_stops", v),
            ("break_start_s", v),
            ("break_end_s", v),
            ("break_s", v),
            ("order_skills", n),
            ("vehicle_skills", v),
            ("max_route_s", v),
            ("max_distance_m", v),
            ("store_visit_s", m),
            ("late_cost_per_h", n),
            ("max_late_s", n),
            ("reload_s", v),
        ):
            if getattr(self, name).shape != (size,):
                raise ValueError(f"{name} must have {size} entries")
        self._validate_windows()
        d = len(self.dim_names)
        if self.dim_demand.shape != (n, d) or self.dim_capacity.shape != (v, d):
            raise ValueError("dim_demand and dim_capacity must be (orders x d), (vehicles x d)")
        if (self.dim_demand < 0).any() or (self.store_visit_s < 0).any():
            raise ValueError("demands and store visits must not be negative")
        if self.order_skills.size and self.order_skills.max() >= 1 << len(self.skill_names):
            raise ValueError("order_skills names a skill that skill_names does not")
        for name in ("order_loc", "store_loc", "start_loc", "end_loc"):
            arr = getattr(self, name)
            if arr.size and (arr.min() < 0 or arr.max() >= n_loc):
                raise ValueError(f"{name} refers to a location that does not exist")
        if n and (self.order_store.min() < -1 or self.order_store.max() >= m):
            raise ValueError("order_store refers to a store that does not exist")
        if (self.window_end_s < self.window_start_s).any():
            raise ValueError("an order window ends before it starts")
        if (self.shift_end_s < self.shift_start_s).any():
            raise ValueError("a shift ends before it starts")
        if v == 0:
            raise ValueError("a problem needs at least one vehicle")
        if n and (self.order_vehicle.min() < -1 or self.order_vehicle.max() >= v):
            raise ValueError("order_vehicle refers to a vehicle that does not exist")
        if (self.break_s < 0).any() or (self.break_end_s < self.break_start_s).any():
            raise ValueError(
                "a break lasts zero or more seconds, in a window that ends after it starts"
            )
        if ((self.order_rank >= 0) & (self.order_vehicle < 0)).any():
            raise ValueError("an order with a locked rank needs a locked vehicle")
        if any(not 0 <= i < n for i in self.excluded):
            raise ValueError("excluded refers to an order that does not exist")
        if self.margin_s < 0 or (self.order_margin_s < 0).any():
            raise ValueError("margin_s and order_margin_s must not be negative")
        if not 0.0 <= self.late_chance < 1.0:
            raise ValueError("late_chance must be at least 0 and below 1")
        if not 0.0 < self.plan_quantile < 1.0:
            raise ValueError("plan_quantile must be above 0 and below 1")
        for name, size in (("travel_sd", self.n_bands), ("dropoff_sd", n), ("shop_sd", n)):
            spread = getattr(self, name)
            if spread.size and (spread.shape != (size,) or (spread < 0).any()):
                raise ValueError(f"{name} must be empty or {size} spreads of at least 0")
        if self.late_chance > 0 and not self.has_spreads:
            raise ValueError("late_chance needs travel_sd, dropoff_sd and shop_sd")
        if self.band_travel_s is not None:
            b = self.band_start_s.shape[0]
            if b == 0 or self.band_travel_s.shape != (b, n_loc, n_loc):
                raise ValueError("band_travel_s must be (bands x locations x locations)")
            if (np.diff(self.band_start_s) <= 0).any():
                raise ValueError("band_start_s must increase")
            if matrices and (self.band_travel_s < 0).any():
                raise ValueError("travel times must not be negative")
        shop_bands = self.shop_band_s
        if shop_bands.shape[1:] != (0,) and (
            self.band_travel_s is None
            or shop_bands.shape != (n, self.n_bands)
            or (shop_bands < 0).any()
        ):
            raise ValueError("shop_band_s must be (orders x travel bands) of at least 0 s")

    def _validate_windows(self) -> None:
        w = self.order_windows
        n = self.n_orders
        if w.ndim != 3 or w.shape[0] != n or w.shape[2] != 2 or w.shape[1] < 1:
            raise ValueError("order_windows must be (orders x windows x 2)")
        if (w[:, :, 1] < w[:, :, 0]).any():
            raise ValueError("an order window ends before it starts")
        # later windows start after the one before ends (or repeat it, as padding)
        same = (w[:, 1:] == w[:, :-1]).all(axis=2)
        if not (same | (w[:, 1:, 0] > w[:, :-1, 1])).all():
            raise ValueError("an order's windows must be sorted and must not overlap")
        if (w[:, 0, 0] != self.window_start_s).any() or (w[:, -1, 1] != self.window_end_s).any():
            raise ValueError("window_start_s and window_end_s must span each order's windows")
        if (self.max_late_s < 0).any() or (self.late_cost_per_h < 0).any():
            raise ValueError("lateness limits and costs must not be negative")
        if (self.reload_s < -1).any():
            raise ValueError("reload_s is -1 (no reloading) or the seconds a reload takes")

    @property
    def has_windows(self) -> bool:
        """Whether any order has more than one delivery window."""
        return bool((self.order_windows[:, 1:] != self.order_windows[:, :1]).any())

    @property
    def has_soft_windows(self) -> bool:
        """Whether any order may be delivered late, at a cost."""
        return bool((self.max_late_s > 0).any())

    def windows_of(self, order: int) -> IntArray:
        """``(k, 2)``: the distinct delivery windows of one order, in time order."""
        w = self.order_windows[order]
        keep = np.ones(w.shape[0], dtype=bool)
        keep[1:] = (w[1:] != w[:-1]).any(axis=1)
        return np.asarray(w[keep])

    @property
    def n_orders(self) -> int:
        """Number of orders."""
        return len(self.order_id)

    @property
    def n_vehicles(self) -> int:
        """Number of vehicles."""
        return len(self.vehicle_id)

    @property
    def n_stores(self) -> int:
        """Number of stores."""
        return len(self.store_id)

    @property
    def has_store(self) -> npt.NDArray[np.bool_]:
        """Which orders are shopped at a store before delivery."""
        return self.order_store >= 0

    @property
    def pickup_loc(self) -> IntArray:
        """The store location of each order, or -1."""
        return per_store(self.store_loc, self.order_store, -1)

    @property
    def plannable(self) -> IntArray:
        """Indices of the orders handed to the solver (not excluded)."""
        mask = np.ones(self.n_orders, dtype=bool)
        mask[list(self.excluded)] = False
        return np.flatnonzero(mask)

    @property
    def n_bands(self) -> int:
        """Number of travel-time bands (1 when travel does not depend on the hour)."""
        return 1 if self.band_travel_s is None else int(self.band_start_s.shape[0])

    def band_at(self, at_s: npt.ArrayLike) -> IntArray:
        """The travel band in force at each instant ``at_s`` (seconds from the origin;
        band 0 before the first band starts)."""
        band = np.searchsorted(self.band_start_s, at_s, side="right") - 1
        return np.maximum(0, band).astype(np.int64)

    @property
    def shops_by_hour(self) -> bool:
        """Whether shop times depend on the hour the shop begins (``shop_band_s``)."""
        return self.shop_band_s.shape[1] > 0

    def with_shops_at(self, orders: npt.ArrayLike, begin_s: npt.ArrayLike) -> Problem:
        """The problem with the shop seconds of ``orders`` those of the travel band their
        shops begin in at ``begin_s`` (seconds from the origin); this problem itself when
        shop times do not depend on the hour."""
        if not self.shops_by_hour:
            return self
        idx = np.asarray(orders, dtype=np.int64)
        shop = self.shop_s.copy()
        shop[idx] = self.shop_band_s[idx, self.band_at(begin_s)]
        return self.replace(shop_s=shop)

    def leg_s(self, a: int, b: int, depart_s: int) -> int:
        """Seconds from location ``a`` to ``b`` for a departure at ``depart_s``."""
        if self.band_travel_s is None:
            return int(self.travel_s[a, b])
        return int(self.band_travel_s[int(self.band_at(depart_s)), a, b])

    def worst_travel_s(
        self,
        locs: IntArray,
        depart_from_s: IntArray,
        depart_to_s: IntArray,
        arrive_by_s: IntArray | None = None,
    ) -> IntArray:
        """``(len(locs), len(locs))`` travel seconds between ``locs``, each row the slowest
        band its departure may fall in (between ``depart_from_s`` and ``depart_to_s``).

        With ``arrive_by_s`` (the latest arrival at each of ``locs``), a leg's departures
        end where it could no longer arrive in time even in its fastest band, so a leg
        between two stops of one window is not charged the next band's rush.

        A schedule driven with the band of each actual departure is never slower than this,
        so a plan that is feasible here stays feasible when replayed.
        """
        grid = np.ix_(locs, locs)
        if self.band_travel_s is None:
            return self.travel_s[grid]
        starts = self.band_start_s
        ends = np.append(starts[1:], np.iinfo(np.int64).max)

        def band(b: int) -> IntArray:  # one band's matrix at a time in memory
            return np.asarray(self.band_travel_s[b][grid])  # type: ignore[index]

        last = np.asarray(depart_to_s, dtype=np.int64)[:, None]
        worst = np.zeros((locs.shape[0], locs.shape[0]), dtype=np.int64)
        if arrive_by_s is not None:
            # a leg no departure can make in time keeps its fastest band: never driven
            worst[:] = band(0)
            for b in range(1, starts.shape[0]):
                np.minimum(worst, band(b), out=worst)
            last = np.minimum(last, np.asarray(arrive_by_s, dtype=np.int64)[None, :] - worst)
        first = np.asarray(depart_from_s, dtype=np.int64)[:, None]
        for b in range(starts.shape[0]):
            overlaps = (starts[b] <= last) & (ends[b] > first)
            if b == 0:
                overlaps |= first < starts[0]
            np.maximum(worst, band(b), out=worst, where=overlaps)
        return worst

    def slowest_travel_s(
        self, locs: IntArray, *, starts: IntArray | None = None, ends: IntArray | None = None
    ) -> IntArray:
        """``(len(locs), len(locs))`` travel seconds between ``locs`` that hold at every hour
        a vehicle may leave each place: the static matrix, or with hour bands each row's
        slowest band over its departures (its orders' windows plus service, its stores'
        opening hours, the shifts of the vehicles that start or end there).

        ``starts`` and ``ends`` replace the vehicles' start and end locations (a solver
        that merges depots at one place passes the merged ones).
        """
        if self.band_travel_s is None:
            return np.ascontiguousarray(self.travel_s[np.ix_(locs, locs)])
        lo, hi = self.departure_spans(starts=starts, ends=ends)
        return np.ascontiguousarray(self.worst_travel_s(locs, lo[locs], hi[locs]))

    def departure_spans(
        self, *, starts: IntArray | None = None, ends: IntArray | None = None
    ) -> tuple[IntArray, IntArray]:
        """The earliest and latest second a vehicle may leave each location: its orders'
        windows plus service, its stores' opening hours, the shifts of the vehicles that
        start or end there (``starts``/``ends`` as in :meth:`slowest_travel_s`)."""
        n_loc = self.loc_lat.shape[0]
        lo = np.full(n_loc, np.iinfo(np.int64).max, dtype=np.int64)
        hi = np.full(n_loc, np.iinfo(np.int64).min, dtype=np.int64)
        spans = (
            (self.start_loc if starts is None else starts, self.shift_start_s, self.shift_end_s),
            (self.end_loc if ends is None else ends, self.shift_start_s, self.shift_end_s),
            (self.order_loc, self.window_start_s, self.window_end_s + self.dropoff_s),
            (self.store_loc, self.store_open_s, self.store_close_s),
        )
        for where, early, late in spans:
            np.minimum.at(lo, where, early)
            np.maximum.at(hi, where, late)
        return lo, hi

    def latest_arrivals(self, *, ends: IntArray | None = None) -> IntArray:
        """The latest second a vehicle may arrive at each location: its orders' window ends
        (a soft window's ``max_late_s`` after), its stores' closing, the shift ends of the
        vehicles that end there (``ends`` as in :meth:`slowest_travel_s`); the day's end
        where nothing arrives."""
        nothing = np.iinfo(np.int64).min
        late = np.full(self.loc_lat.shape[0], nothing, dtype=np.int64)
        for where, by in (
            (self.end_loc if ends is None else ends, self.shift_end_s),
            (self.order_loc, self.window_end_s + self.max_late_s),
            (self.store_loc, self.store_close_s),
        ):
            np.maximum.at(late, where, by)
        return np.where(late == nothing, int(self.shift_end_s.max()), late)

    def vehicle_kinds(self) -> IntArray:
        """A label per vehicle; vehicles with equal labels are interchangeable (same places,
        capacity, shift, costs, stop limit and break)."""
        fields = np.column_stack(
            [getattr(self, name).astype(np.float64) for name in _VEHICLE_FIELDS]
        )
        _, label = np.unique(fields, axis=0, return_inverse=True)
        return np.asarray(label, dtype=np.int64).ravel()

    def skilled(self, orders: IntArray) -> npt.NDArray[np.bool_]:
        """``(len(orders), vehicles)``: whether each vehicle has all of each order's skills."""
        need = self.order_skills[np.asarray(orders, dtype=np.int64)]
        return np.asarray((need[:, None] & ~self.vehicle_skills[None, :]) == 0)

    def skill_labels(self, mask: int) -> list[str]:
        """The skill names of a mask."""
        return [name for b, name in enumerate(self.skill_names) if mask >> b & 1]

    @property
    def has_skills(self) -> bool:
        """Whether any order needs a skill."""
        return bool((self.order_skills != 0).any())

    @property
    def has_reloads(self) -> bool:
        """Whether any vehicle may reload at its depot between trips."""
        return bool((self.reload_s >= 0).any())

    @property
    def has_breaks(self) -> bool:
        """Whether any driver takes a break."""
        return bool((self.break_s > 0).any())

    @property
    def has_locks(self) -> bool:
        """Whether any order is locked to a vehicle."""
        return bool((self.order_vehicle >= 0).any())

    def with_orders(self, keep: npt.ArrayLike) -> Problem:
        """The same problem with only the orders ``keep`` (indices, in this order)."""
        idx = np.asarray(keep, dtype=np.int64)
        new_index = {int(old): i for i, old in enumerate(idx.tolist())}
        per_order = {
            f.name: getattr(self, f.name)[idx]
            for f in dataclasses.fields(self)
            if f.type in ("IntArray", "FloatArray")
            and getattr(self, f.name).shape[:1] == (self.n_orders,)
            and (f.name.startswith("order_") or f.name in _ORDER_FIELDS)
        }
        return self.replace(
            order_id=tuple(self.order_id[i] for i in idx.tolist()),
            excluded={new_index[i]: r for i, r in self.excluded.items() if i in new_index},
            **per_order,
        )

    def with_vehicles(self, keep: npt.ArrayLike) -> Problem:
        """The same problem with only the vehicles ``keep`` (indices, in this order).

        Orders locked to a vehicle that is not kept lose their lock.
        """
        idx = np.asarray(keep, dtype=np.int64)
        new_index = np.full(self.n_vehicles + 1, -1, dtype=np.int64)  # [-1] stays -1
        new_index[idx] = np.arange(idx.shape[0])
        locked = new_index[self.order_vehicle]
        return self.replace(
            vehicle_id=tuple(self.vehicle_id[i] for i in idx.tolist()),
            order_vehicle=locked,
            order_rank=np.where(locked >= 0, self.order_rank, -1),
            **{name: getattr(self, name)[idx] for name in _VEHICLE_FIELDS},
        )

    @property
    def has_spreads(self) -> bool:
        """Whether the problem says how uncertain its travel and service times are."""
        return bool(self.travel_sd.size and self.dropoff_sd.size and self.shop_sd.size)

    @property
    def margins(self) -> IntArray:
        """Per order: the slack a plan keeps before its windows close (``margin_s`` and
        the order's own ``order_margin_s``)."""
        return self.margin_s + self.order_margin_s

    def for_search(self) -> Problem:
        """The problem a search plans on: each delivery window closing its order's
        :attr:`margins` earlier (never before it opens), so that the plan keeps that much
        slack before each promise; this problem itself when there is no margin."""
        margins = self.margins
        if self.n_orders == 0 or not margins.any():
            return self
        w = self.order_windows.copy()
        w[..., 1] = np.maximum(w[..., 0], w[..., 1] - margins[:, None])
        return self.replace(
            order_windows=w,
            window_end_s=w[:, -1, 1].copy(),
            margin_s=0,
            order_margin_s=np.zeros(0, dtype=np.int64),
        )

    def with_window(
        self,
        order: int,
        start: int,
        end: int,
        *,
        dropoff_s: int | None = None,
        shop_s: int | None = None,
    ) -> Problem:
        """A new problem with ``order``'s windows replaced by the one window ``start`` to
        ``end`` (seconds from the origin), as orders.csv's window_start and window_end give
        it, and, where given, its drop-off and shop seconds (predicted for that window).
        Only the windows are checked again: this is the problem a booking tries once per
        candidate window."""
        if not 0 <= order < self.n_orders:
            raise ValueError("order refers to an order that does not exist")
        windows, first, last = (
            self.order_windows.copy(),
            self.window_start_s.copy(),
            self.window_end_s.copy(),
        )
        windows[order], first[order], last[order] = (start, end), start, end
        changed = {"order_windows": windows, "window_start_s": first, "window_end_s": last}
        for name, seconds in (("dropoff_s", dropoff_s), ("shop_s", shop_s)):
            if seconds is not None:
                if seconds < 0:
                    raise ValueError(f"{name} must be at least 0")
                changed[name] = getattr(self, name).copy()
                changed[name][order] = seconds
        new = object.__new__(Problem)
        new.__dict__.update(self.__dict__)
        for name, value in changed.items():
            value.setflags(write=False)
            object.__setattr__(new, name, value)
        new._validate_windows()
        return new

    def replace(self, **changes: Any) -> Problem:
        """Return a new problem with some fields changed (and validated again: the travel
        matrices only if they changed, as checking a big day's took 0.13 s a time)."""
        if _MATRICES & changes.keys():
            return dataclasses.replace(self, **changes)
        fields = dataclasses.fields(self)
        unknown = changes.keys() - {f.name for f in fields}
        if unknown:
            raise TypeError(f"Problem has no field {min(unknown)!r}")
        new = object.__new__(Problem)
        new.__dict__.update(self.__dict__, **changes)
        for f in fields:  # as __init__ does (an empty field filled in at its new size)
            new._set(f.name, f.type, getattr(new, f.name))
        new._validate(matrices=False)
        return new
