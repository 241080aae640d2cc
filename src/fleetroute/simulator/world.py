"""A documented "true world" that simulates delivery history, so the ETA loop can be tried
without real data.

The model never reads these parameters: it learns from the trips.csv and stops.csv this
module writes, like it would from real history. Each duration is the world's expected
(median) time times multiplicative log-normal noise with median 1, so the noise floor of any
model is the error of :meth:`TrueWorld.expected_travel_s` / :meth:`TrueWorld.expected_service_s`.

Travel time of a leg along its free-flow fastest path:

* free-flow seconds on arterials (trunk, primary, secondary and their links, motorways)
  times ``1 + weekday_factor * (arterial_am * bump(hour, 8.0) + arterial_pm * bump(hour, 17.5))``,
  and on other roads likewise with ``local_am``, ``local_pm``; ``bump`` is a Gaussian of
  width ``rush_width_h`` hours;
* plus ``centre_extra`` of the free-flow seconds driven within ``centre_radius`` (a share of
  the map's half-extent) of the map's centre: a slower centre;
* plus ``intersection_s`` per road-graph edge (junctions passed);
* plus ``parking_s`` at the destination, and ``parking_centre_s`` more in the centre;
* times noise with log-sd ``travel_noise``.

Service time: shopping takes ``store base + store per-item x items`` (each store its own,
drawn once), busier around noon and 18:00 (``shop_busy``); a drop-off takes
``dropoff_base_s + dropoff_per_item_s x items`` plus ``dropoff_centre_s`` in the centre
(parking, stairs); both times noise with log-sd ``service_noise``.
Weekday factors (Monday first): ``weekday_factor``.

Worlds unlike the one the model was designed on (all off by default):

* ``centre_shift``: the slow centre moved off the map's geometric centre, by these shares
  of its half-extent (north, east): a business district elsewhere;
* ``districts``: that many districts (centres drawn with ``district_seed``, radius
  ``district_radius`` of the half-extent), each with its own extra drop-off seconds (up to
  ``district_dropoff_s``) and parking seconds at the destination (up to
  ``district_parking_s``): blocks of flats, streets without parking;
* ``address_sd``: every address's drop-off takes its own persistent factor, log-normal with
  this log-sd (a building that always takes long).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from fleetroute.maps.load import ARTERIALS
from fleetroute.maps.roadmap import RoadMap, haversine_m
from fleetroute.routing.plan import Plan

__all__ = ["TrueWorld", "simulate_history", "simulate_orders", "replay"]

FloatArray = npt.NDArray[np.float64]


def _bump(hour: FloatArray, centre: float, width: float) -> FloatArray:
    return np.exp(-0.5 * ((hour - centre) / width) ** 2)


@dataclass(frozen=True)
class TrueWorld:
    """The simulator's parameters (see the module docstring for how they combine)."""

    arterial_am: float = 0.7
    arterial_pm: float = 0.8
    local_am: float = 0.25
    local_pm: float = 0.3
    rush_width_h: float = 1.0
    weekday_factor: tuple[float, ...] = (1.0, 1.0, 1.0, 1.05, 1.15, 0.6, 0.35)
    centre_radius: float = 0.35
    centre_extra: float = 0.5
    intersection_s: float = 3.0
    parking_s: float = 25.0
    parking_centre_s: float = 60.0
    travel_noise: float = 0.12
    dropoff_base_s: float = 70.0
    dropoff_per_item_s: float = 9.0
    dropoff_centre_s: float = 80.0
    shop_busy: float = 0.35
    service_noise: float = 0.2
    store_seed: int = 99
    centre_shift: tuple[float, float] = (0.0, 0.0)
    districts: int = 0
    district_radius: float = 0.15
    district_dropoff_s: float = 0.0
    district_parking_s: float = 0.0
    district_seed: int = 7
    address_sd: float = 0.0

    # -- geometry ---------------------------------------------------------------------
    def centre_of(self, road_map: RoadMap) -> tuple[float, float, float]:
        """``(lat, lon, radius_m)`` of the map's slow centre."""
        return _geometry(self, road_map)[0]

    def in_centre(self, road_map: RoadMap, lat: FloatArray, lon: FloatArray) -> FloatArray:
        """1.0 where a point lies in the slow centre, else 0.0."""
        lat0, lon0, radius = self.centre_of(road_map)
        return (haversine_m(lat, lon, lat0, lon0) <= radius).astype(np.float64)

    def district_extra(
        self, road_map: RoadMap, lat: npt.ArrayLike, lon: npt.ArrayLike
    ) -> tuple[FloatArray, FloatArray]:
        """Extra drop-off and parking seconds of each point from the districts it lies in."""
        lat_a, lon_a = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        drop, park = np.zeros(lat_a.shape), np.zeros(lat_a.shape)
        for d_lat, d_lon, radius, d_drop, d_park in _districts(self, road_map):
            inside = haversine_m(lat_a, lon_a, d_lat, d_lon) <= radius
            drop += d_drop * inside
            park += d_park * inside
        return drop, park

    def address_factor(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
        """Each address's persistent drop-off factor (1 without ``address_sd``): log-normal,
        drawn from the address's own coordinates (to the metre), so it is the same every
        day."""
        lat_a, lon_a = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        if self.address_sd <= 0:
            return np.ones(lat_a.shape)
        from scipy.special import ndtri

        key = (np.round(lat_a * 1e5).astype(np.int64) * 73_856_093) ^ (
            np.round(lon_a * 1e5).astype(np.int64) * 19_349_663
        )
        u = (np.abs(key) % 1_000_003 + 0.5) / 1_000_003
        return np.asarray(np.exp(self.address_sd * ndtri(u)), dtype=np.float64)

    # -- expectations ---------------------------------------------------------------
    def leg_sums(
        self, road_map: RoadMap, o_node: npt.ArrayLike, d_node: npt.ArrayLike
    ) -> FloatArray:
        """What the world's travel time depends on along each leg's free-flow fastest path,
        whatever the hour: ``(legs, 5)`` length, arterial and other free-flow seconds,
        free-flow seconds in the centre, and edges passed."""
        return road_map.legs(o_node, d_node, _geometry(self, road_map)[1])[1]

    def expected_travel_s(
        self,
        road_map: RoadMap,
        o_node: npt.ArrayLike,
        d_node: npt.ArrayLike,
        when: pd.DatetimeIndex,
        *,
        sums: FloatArray | None = None,
    ) -> FloatArray:
        """The world's median door-to-door driving seconds of each leg.

        ``sums`` are the legs' :meth:`leg_sums`, when already known.
        """
        if sums is None:
            sums = self.leg_sums(road_map, o_node, d_node)
        hour = np.asarray(when.hour + when.minute / 60.0, dtype=np.float64)
        park = self.parking_at(road_map, d_node)
        return self.travel_at(sums, park, hour, np.asarray(when.day_of_week))

    def parking_at(self, road_map: RoadMap, d_node: npt.ArrayLike) -> FloatArray:
        """The parking seconds at the end of a leg into each node."""
        d = np.asarray(d_node, dtype=np.int64)
        dest_centre = self.in_centre(road_map, road_map.lat[d], road_map.lon[d])
        park = self.parking_s + self.parking_centre_s * dest_centre
        if self.districts:
            park = park + self.district_extra(road_map, road_map.lat[d], road_map.lon[d])[1]
        return park

    def travel_at(
        self, sums: FloatArray, park_s: npt.ArrayLike, hour: npt.ArrayLike, weekday: npt.ArrayLike
    ) -> FloatArray:
        """The world's median seconds of legs with these :meth:`leg_sums` and parking
        seconds (:meth:`parking_at`), departing at ``hour`` (of the day, fractional) on
        ``weekday`` (Monday 0): each one per leg, or one for every leg."""
        h = np.asarray(hour, dtype=np.float64)
        wf = np.asarray(self.weekday_factor)[np.asarray(weekday, dtype=np.int64)]
        am, pm = _bump(h, 8.0, self.rush_width_h), _bump(h, 17.5, self.rush_width_h)
        art = sums[:, 1] * (1 + wf * (self.arterial_am * am + self.arterial_pm * pm))
        local = sums[:, 2] * (1 + wf * (self.local_am * am + self.local_pm * pm))
        fixed = self.centre_extra * sums[:, 3] + self.intersection_s * sums[:, 4]
        park = np.asarray(park_s, dtype=np.float64)
        return np.asarray(art + local + fixed + park, dtype=np.float64)

    def noise_floor(
        self, road_map: RoadMap, trips: pd.DataFrame, stops: pd.DataFrame
    ) -> tuple[float, float]:
        """The MAE of this world's own expected travel and service seconds on a history it
        wrote (trips.csv and stops.csv as read by ``pd.read_csv``): the error no model of
        its noisy durations can beat."""
        travel, service = self.expected_of(road_map, trips, stops)
        return (
            float(np.mean(np.abs(travel - trips["duration_s"].to_numpy()))),
            float(np.mean(np.abs(service - stops["duration_s"].to_numpy()))),
        )

    def expected_of(
        self, road_map: RoadMap, trips: pd.DataFrame, stops: pd.DataFrame
    ) -> tuple[FloatArray, FloatArray]:
        """This world's median seconds of each trip and each stop of a history it wrote
        (trips.csv and stops.csv as read by ``pd.read_csv``)."""
        o, _ = road_map.snap(trips["origin_lat"], trips["origin_lon"])
        d, _ = road_map.snap(trips["dest_lat"], trips["dest_lon"])
        when_t = pd.DatetimeIndex(pd.to_datetime(trips["departure_time"]))
        when_s = pd.DatetimeIndex(pd.to_datetime(stops["arrival_time"]))
        travel = self.expected_travel_s(road_map, o, d, when_t)
        service = self.expected_service_s(
            road_map,
            stops["kind"],
            stops["items"],
            stops["store_id"].fillna(""),
            stops["lat"],
            stops["lon"],
            when_s,
        )
        return travel, service

    def store_params(self, store_id: str) -> tuple[float, float]:
        """A store's shop seconds ``(base, per item)`` off its rush hours: drawn from the
        world's ``store_seed`` and the store's id alone, so a store shops alike whichever
        stores are asked about with it (a history's day asks about all its stores at once,
        a replay about one stop at a time)."""
        rng = np.random.default_rng([self.store_seed, zlib.crc32(store_id.encode())])
        return float(rng.uniform(150, 420)), float(rng.uniform(12, 32))

    def expected_service_s(
        self,
        road_map: RoadMap,
        kind: npt.ArrayLike,
        items: npt.ArrayLike,
        store_id: npt.ArrayLike,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        when: pd.DatetimeIndex,
    ) -> FloatArray:
        """The world's median service seconds of each stop (``kind`` shop or dropoff)."""
        kinds = np.asarray(kind, dtype=object)
        n_items = np.asarray(items, dtype=np.float64)
        stores = np.asarray(store_id, dtype=object)
        hour = np.asarray(when.hour + when.minute / 60.0, dtype=np.float64)
        params = {s: self.store_params(s) for s in set(stores.tolist()) if s}
        base = np.array([params.get(s, (0.0, 0.0))[0] for s in stores])
        per_item = np.array([params.get(s, (0.0, 0.0))[1] for s in stores])
        busy = 1 + self.shop_busy * (_bump(hour, 12.0, 1.5) + _bump(hour, 18.0, 1.5))
        shop = (base + per_item * n_items) * busy
        centre = self.in_centre(road_map, np.asarray(lat, float), np.asarray(lon, float))
        drop = (
            self.dropoff_base_s + self.dropoff_per_item_s * n_items + self.dropoff_centre_s * centre
        )
        if self.districts:
            drop = drop + self.district_extra(road_map, lat, lon)[0]
        drop = drop * self.address_factor(lat, lon)
        return np.where(kinds == "shop", shop, drop)


@lru_cache(maxsize=4)
def _geometry(world: TrueWorld, road_map: RoadMap) -> tuple[tuple[float, float, float], FloatArray]:
    """The slow centre ``(lat, lon, radius_m)`` and the per-edge values that
    :meth:`TrueWorld.leg_sums` adds up; computed once per world and map."""
    lat0, lon0 = road_map.centre
    half_extent = _half_extent(road_map)
    radius = world.centre_radius * half_extent
    north, east = world.centre_shift
    lat0, lon0 = _moved(lat0, lon0, north * half_extent, east * half_extent)
    t = road_map.edge_travel_s
    hw = (
        road_map.edge_highway
        if road_map.edge_highway is not None
        else np.full(road_map.n_edges, "")
    )
    art = np.isin(hw, ARTERIALS).astype(np.float64)
    mid_lat = (road_map.lat[road_map.edge_u] + road_map.lat[road_map.edge_v]) / 2
    mid_lon = (road_map.lon[road_map.edge_u] + road_map.lon[road_map.edge_v]) / 2
    centre = (haversine_m(mid_lat, mid_lon, lat0, lon0) <= radius).astype(np.float64)
    values = np.column_stack(
        [road_map.edge_length_m, t * art, t * (1 - art), t * centre, np.ones(road_map.n_edges)]
    )
    return (lat0, lon0, radius), values


def _half_extent(road_map: RoadMap) -> float:
    """Metres from the map's centre within which 95% of its nodes lie."""
    lat0, lon0 = road_map.centre
    return float(np.quantile(haversine_m(road_map.lat, road_map.lon, lat0, lon0), 0.95))


def _moved(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point moved by metres north and east."""
    return (
        lat + north_m / 111_320.0,
        lon + east_m / (111_320.0 * float(np.cos(np.radians(lat)))),
    )


@lru_cache(maxsize=4)
def _districts(
    world: TrueWorld, road_map: RoadMap
) -> tuple[tuple[float, float, float, float, float], ...]:
    """Each district's centre (a map node), radius in metres, extra drop-off and parking
    seconds; drawn once per world and map."""
    rng = np.random.default_rng(world.district_seed)
    nodes = rng.choice(road_map.n_nodes, world.districts, replace=False)
    radius = world.district_radius * _half_extent(road_map)
    return tuple(
        (
            float(road_map.lat[n]),
            float(road_map.lon[n]),
            radius,
            float(rng.uniform(0, world.district_dropoff_s)),
            float(rng.uniform(0, world.district_parking_s)),
        )
        for n in nodes.tolist()
    )


def _places(road_map: RoadMap, rng: np.random.Generator, n: int) -> tuple[FloatArray, FloatArray]:
    """``n`` addresses near random road nodes (within ~30 m)."""
    nodes = rng.choice(road_map.n_nodes, n, replace=n > road_map.n_nodes)
    return (
        np.round(road_map.lat[nodes] + rng.normal(0, 1.5e-4, n), 6),
        np.round(road_map.lon[nodes] + rng.normal(0, 2.5e-4, n), 6),
    )


def _departures(rng: np.random.Generator, n: int, day: date) -> pd.DatetimeIndex:
    # delivery hours 07:00-21:00, busier mid-morning and late afternoon
    hours = np.concatenate(
        [
            rng.uniform(7, 21, n // 2),
            rng.normal(10.5, 1.5, n // 4),
            rng.normal(17.0, 1.5, n - n // 2 - n // 4),
        ]
    )
    hours = np.clip(hours, 6.0, 22.5)
    base = np.datetime64(datetime(day.year, day.month, day.day))
    return pd.DatetimeIndex(base + (hours * 3600).astype("timedelta64[s]"))


def simulate_history(
    road_map: RoadMap,
    out_dir: str | Path,
    *,
    days: int = 28,
    trips_per_day: int = 2000,
    stops_per_day: int = 1500,
    n_stores: int = 5,
    n_customers: int = 3000,
    start: date = date(2026, 1, 5),
    seed: int = 0,
    world: TrueWorld | None = None,
    places_seed: int | None = None,
    stores: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Write trips.csv, stops.csv and stores.csv of ``days`` days of simulated history.

    Returns the paths written. The same seed gives the same files. The customers' addresses
    and the stores are drawn with ``places_seed`` when given (so that two histories of one
    city share them), else with ``seed``. ``stores`` (``store_id, lat, lon``; in place of
    ``n_stores`` drawn ones) are where the history's shops happen: the stores a day is
    then planned with, whose shop times the model learns there.
    """
    w = world or TrueWorld()
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    where = rng if places_seed is None else np.random.default_rng(places_seed)
    c_lat, c_lon = _places(road_map, where, n_customers)
    if stores is None:
        s_lat, s_lon = _places(road_map, where, n_stores)
        store_ids = [f"S{k + 1}" for k in range(n_stores)]
    else:
        s_lat = stores["lat"].to_numpy(dtype=np.float64)
        s_lon = stores["lon"].to_numpy(dtype=np.float64)
        store_ids = [str(s) for s in stores["store_id"]]
    place_lat = np.concatenate([c_lat, s_lat])
    place_lon = np.concatenate([c_lon, s_lon])
    place_node, _ = road_map.snap(place_lat, place_lon)

    trips, stops = [], []
    for k in range(days):
        day = start + timedelta(days=k)
        when = _departures(rng, trips_per_day, day)
        o = rng.integers(0, place_lat.shape[0], trips_per_day)
        d = (o + rng.integers(1, place_lat.shape[0], trips_per_day)) % place_lat.shape[0]
        expected = w.expected_travel_s(road_map, place_node[o], place_node[d], when)
        actual = expected * np.exp(rng.normal(0.0, w.travel_noise, trips_per_day))
        trips.append(
            pd.DataFrame(
                {
                    "trip_id": [f"t{k:03d}-{i:05d}" for i in range(trips_per_day)],
                    "origin_lat": place_lat[o],
                    "origin_lon": place_lon[o],
                    "dest_lat": place_lat[d],
                    "dest_lon": place_lon[d],
                    "departure_time": when.strftime("%Y-%m-%dT%H:%M:%S"),
                    "duration_s": np.round(actual).astype(int),
                }
            )
        )
        when_s = _departures(rng, stops_per_day, day)
        shop = rng.random(stops_per_day) < 0.4
        store = np.where(shop, rng.choice(store_ids, stops_per_day), "")
        cust = rng.integers(0, n_customers, stops_per_day)
        s_index = np.array([store_ids.index(s) if s else 0 for s in store])
        lat = np.where(shop, s_lat[s_index], c_lat[cust])
        lon = np.where(shop, s_lon[s_index], c_lon[cust])
        items = rng.integers(1, 40, stops_per_day)
        kind = np.where(shop, "shop", "dropoff")
        expected = w.expected_service_s(road_map, kind, items, store, lat, lon, when_s)
        actual = expected * np.exp(rng.normal(0.0, w.service_noise, stops_per_day))
        stops.append(
            pd.DataFrame(
                {
                    "stop_id": [f"s{k:03d}-{i:05d}" for i in range(stops_per_day)],
                    "kind": kind,
                    "lat": lat,
                    "lon": lon,
                    "arrival_time": when_s.strftime("%Y-%m-%dT%H:%M:%S"),
                    "items": items,
                    "duration_s": np.round(actual).astype(int),
                    "store_id": store,
                }
            )
        )
    paths = {"trips": out / "trips.csv", "stops": out / "stops.csv", "stores": out / "stores.csv"}
    pd.concat(trips, ignore_index=True).to_csv(paths["trips"], index=False)
    pd.concat(stops, ignore_index=True).to_csv(paths["stops"], index=False)
    pd.DataFrame({"store_id": store_ids, "lat": s_lat, "lon": s_lon}).to_csv(
        paths["stores"], index=False
    )
    return paths


def simulate_orders(
    road_map: RoadMap,
    stores: pd.DataFrame,
    *,
    n_orders: int = 200,
    store_share: float = 0.5,
    window_h: int = 2,
    seed: int = 0,
) -> pd.DataFrame:
    """One day of orders (SPEC orders.csv columns) with ``window_h``-hour windows."""
    rng = np.random.default_rng(seed)
    lat, lon = _places(road_map, rng, n_orders)
    start = rng.integers(9, 21 - window_h, n_orders)
    ids = stores["store_id"].tolist()
    store = (
        np.where(rng.random(n_orders) < store_share, rng.choice(ids, n_orders), "") if ids else ""
    )
    return pd.DataFrame(
        {
            "order_id": [f"o{i + 1:04d}" for i in range(n_orders)],
            "lat": lat,
            "lon": lon,
            "store_id": store,
            "items": rng.integers(1, 40, n_orders),
            "demand": rng.integers(1, 4, n_orders),
            "window_start": [f"{h:02d}:00" for h in start],
            "window_end": [f"{h + window_h:02d}:00" for h in start],
        }
    )


def replay(
    road_map: RoadMap, plan: Plan, *, world: TrueWorld | None = None, seed: int = 0
) -> pd.DataFrame:
    """Drive a plan's routes in the true world: each vehicle leaves its start when the plan
    says, drives and serves with the world's (noisy) times, and waits for windows.

    Returns one row per drop-off: ``vehicle_id, order_id, window_end, arrival, late_s,
    wait_s`` (seconds since the plan origin; ``late_s`` > 0 when service starts after the
    window; ``wait_s`` how long the van waited there for the window to open), and one row
    per route's end (``order_id`` empty, ``arrival`` when it got back; its ``late_s`` is how
    long the route took in the true world, its ``wait_s`` how much of that the van waited,
    at every stop of the route).
    """
    w = world or TrueWorld()
    rng = np.random.default_rng(seed)
    p = plan.problem
    nodes, _ = road_map.snap(p.loc_lat, p.loc_lon)
    # the paths do not depend on the hour: sum along every leg of every route in one search
    legs = sorted(
        {(int(s.loc[k - 1]), int(s.loc[k])) for s in plan.schedules for k in range(1, len(s.loc))}
    )
    ends = np.array(legs, dtype=np.int64).reshape(-1, 2)
    all_sums = w.leg_sums(road_map, nodes[ends[:, 0]], nodes[ends[:, 1]])
    sums_of = {leg: all_sums[i : i + 1] for i, leg in enumerate(legs)}
    rows = []
    for sched in plan.schedules:
        route = sched.route
        t = int(sched.departure_s[0])
        waited = 0
        for k in range(1, len(sched.kind)):
            a, b = int(sched.loc[k - 1]), int(sched.loc[k])
            when = pd.DatetimeIndex([p.origin + timedelta(seconds=t)])
            drive = (
                w.expected_travel_s(road_map, [nodes[a]], [nodes[b]], when, sums=sums_of[(a, b)])[0]
                if a != b
                else 0.0
            )
            t += int(round(drive * np.exp(rng.normal(0.0, w.travel_noise))))
            kind = sched.kind[k]
            if kind == "end":
                rows.append(
                    {
                        "vehicle_id": p.vehicle_id[route.vehicle],
                        "order_id": "",
                        "window_end": int(p.shift_end_s[route.vehicle]),
                        "arrival": t,
                        "late_s": t - int(sched.departure_s[0]),
                        "wait_s": waited,
                    }
                )
                break
            order = route.orders[k - 1]
            begin = max(t, int(sched.window_start_s[k]))
            wait = begin - t
            waited += wait
            if order < 0:  # a break or a reload: as long as planned
                t = begin + int(sched.service_s[k])
                continue
            store = p.store_id[p.order_store[order]] if kind == "pickup" else ""
            service = w.expected_service_s(
                road_map,
                ["shop" if kind == "pickup" else "dropoff"],
                [p.items[order]],
                [store],
                [p.loc_lat[b]],
                [p.loc_lon[b]],
                pd.DatetimeIndex([p.origin + timedelta(seconds=begin)]),
            )[0]
            if kind == "dropoff":
                rows.append(
                    {
                        "vehicle_id": p.vehicle_id[route.vehicle],
                        "order_id": p.order_id[order],
                        # the window the plan promised (one of several, if it has more)
                        "window_end": int(sched.window_end_s[k]),
                        "arrival": t,
                        "late_s": max(0, begin - int(sched.window_end_s[k])),
                        "wait_s": wait,
                    }
                )
            t = begin + int(round(service * np.exp(rng.normal(0.0, w.service_noise))))
    return pd.DataFrame(
        rows, columns=["vehicle_id", "order_id", "window_end", "arrival", "late_s", "wait_s"]
    )
