"""Distributed training with lightgbm.dask on a LocalCluster of two workers, from a history
partitioned by day (trips as Parquet, stops as CSV): a bundle of the usual format that
plans and beats free flow like single-machine training; a bad cell names its file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import fleetroute
from fleetroute.cli import cli
from fleetroute.eta_model.model import EtaModel


def _by_day(csv, folder, column, fmt):
    folder.mkdir()
    table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    for day, rows in table.groupby(table[column].str[:10]):
        if fmt == "parquet":
            rows.to_parquet(folder / f"day={day}.parquet", index=False)
        else:
            rows.to_csv(folder / f"{day}.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def parted(tiny_history, tmp_path_factory):
    root = tmp_path_factory.mktemp("parted")
    return {
        "trips": _by_day(tiny_history["trips"], root / "trips", "departure_time", "parquet"),
        "stops": _by_day(tiny_history["stops"], root / "stops", "arrival_time", "csv"),
    }


def test_distributed_training_gives_a_usable_bundle_like_single_machine(
    parted, dask_cluster, tiny_city, tiny_history, tiny_model, tmp_path
):
    assert len(list(parted["trips"].iterdir())) == 10
    model = fleetroute.train_eta(
        tiny_city, parted["trips"], parted["stops"], scheduler=dask_cluster.scheduler_address
    )
    model.save(tmp_path / "bundle")
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    single = tiny_model.save(tmp_path / "single")
    assert set(manifest) == set(json.loads((single / "manifest.json").read_text()))
    assert manifest["stores"] == list(tiny_model.stores_)
    assert manifest["training_period"] == list(tiny_model.training_period_)
    # calibrated as on one machine: the P90 per two-hour band, from the validation rows
    for target in ("travel", "service"):
        assert set(manifest["calibration"][target]) == {"0.9"}
        assert len(manifest["calibration"][target]["0.9"]) == 12

    loaded = EtaModel.load(tmp_path / "bundle", road_map=tiny_city)
    # the area slowness is fitted on the partitions' trips (all of them: fewer than a
    # sample), as on one machine
    np.testing.assert_allclose(loaded.areas_.slowness, tiny_model.areas_.slowness, atol=1e-6)
    # the place history is learned on Dask too: every drop-off address of the history
    stops = pd.read_csv(tiny_history["stops"]).query("kind == 'dropoff'")
    places = loaded.places_.columns(stops["lat"].to_numpy(), stops["lon"].to_numpy())
    assert np.isfinite(places["address_log_s"]).all() and places["address_n"].min() >= 1
    assert (
        places["address_n"].sum()
        == tiny_model.places_.columns(stops["lat"].to_numpy(), stops["lon"].to_numpy())[
            "address_n"
        ].sum()
    )
    held_out = fleetroute.evaluate_eta(
        loaded, tiny_city, tiny_history["test_trips"], tiny_history["test_stops"]
    )
    alone = fleetroute.evaluate_eta(
        tiny_model, tiny_city, tiny_history["test_trips"], tiny_history["test_stops"]
    )
    assert held_out["travel"]["mae_s"] < 0.6 * held_out["baseline"]["travel"]["mae_s"]
    assert held_out["travel"]["mae_s"] < 1.1 * alone["travel"]["mae_s"]
    assert held_out["service"]["mae_s"] < 1.1 * alone["service"]["mae_s"]
    # P90 coverage as the single-machine model's (Dask's partitions make it vary by a few
    # points from run to run: 0.79 to 0.86 seen on this small history)
    coverage = held_out["travel"]["p90_coverage"]
    assert 0.75 <= coverage <= 0.97
    assert abs(coverage - alone["travel"]["p90_coverage"]) < 0.08

    # the bundle plans: a learned-ETA day on the same city
    eta = fleetroute.LearnedEta(loaded, quantile=0.9)
    orders = pd.read_csv(tiny_history["stops"]).query("kind == 'dropoff'").head(12)
    orders = orders.assign(order_id=[f"o{i}" for i in range(len(orders))])[
        ["order_id", "lat", "lon"]
    ]
    lat, lon = tiny_city.centre
    fleet = fleetroute.FleetSpec(size=2, depot=(lat, lon))
    day = fleetroute.plan(orders, fleet=fleet, road_map=tiny_city, eta=eta, time_limit_s=1)
    assert day.summary()["assigned"] == 12 and day.inputs["model"] == "lightgbm q0.9"


def test_a_bad_cell_in_one_partition_names_that_file_and_row(
    parted, dask_cluster, tiny_city, tmp_path
):
    bad = tmp_path / "stops"
    bad.mkdir()
    files = sorted(parted["stops"].iterdir())
    for f in files:
        (bad / f.name).write_text(f.read_text())
    table = pd.read_csv(files[3], dtype=str, keep_default_na=False)
    table.loc[4, "items"] = "many"
    table.to_csv(bad / files[3].name, index=False)
    with pytest.raises(fleetroute.InputError) as err:
        fleetroute.train_eta(
            tiny_city, parted["trips"], bad, scheduler=dask_cluster.scheduler_address
        )
    assert err.value.path == str(bad / files[3].name)
    assert err.value.row == 6 and err.value.column == "items"


def test_route_eta_train_on_dask_writes_the_bundle(tmp_path):
    from fleetroute.maps import load, write_synthetic_city
    from fleetroute.simulator.world import simulate_history

    city = write_synthetic_city(tmp_path / "city.graphml", 400, seed=4)
    hist = simulate_history(load(city), tmp_path / "hist", days=6, trips_per_day=200,
                            stops_per_day=150, seed=3)  # fmt: skip
    trips = _by_day(hist["trips"], tmp_path / "trips", "departure_time", "parquet")
    r = CliRunner().invoke(cli, ["eta", "train", "--map", str(city), "--trips", str(trips),
                                 "--stops", str(hist["stops"]), "--dask-workers", "2",
                                 "--out", str(tmp_path / "model")])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "travel MAE" in r.output
    files = {p.name for p in (tmp_path / "model").iterdir()}
    assert {"manifest.json", "travel_q50.txt", "travel_q90.txt", "service_q90.txt"} <= files
