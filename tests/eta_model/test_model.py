"""The LightGBM ETA model: it learns from history, beats free-flow, and travels as a bundle."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fleetroute
from fleetroute import LearnedEta, ModelBundleError, NotFittedError
from fleetroute.eta_model.features import TRAVEL_FEATURES, service_features, travel_features
from fleetroute.eta_model.model import PLAN_QUANTILE, EtaModel, fit_areas, history_features
from fleetroute.io.readers import read_stops, read_trips


def test_predicting_before_fitting_raises_not_fitted(tiny_city):
    features = travel_features(tiny_city, [0], [5], hour=9.0, weekday=1)
    with pytest.raises(NotFittedError):
        EtaModel().predict_travel(features)


def test_model_beats_free_flow_on_held_out_days(tiny_model, tiny_city, tiny_history):
    """On later days it never saw: far below free-flow error, and P90 covers about 90 %."""
    result = fleetroute.evaluate_eta(
        tiny_model, tiny_city, tiny_history["test_trips"], tiny_history["test_stops"]
    )
    assert result["travel"]["mae_s"] < 0.6 * result["baseline"]["travel"]["mae_s"]
    assert result["service"]["mae_s"] < result["baseline"]["service"]["mae_s"]
    assert 0.8 <= result["travel"]["p90_coverage"] <= 0.97
    assert 0.8 <= result["service"]["p90_coverage"] <= 0.97
    assert {"08", "12", "17"} <= set(result["by_hour"])


def test_rush_hour_legs_are_predicted_slower_than_midday(tiny_model, tiny_city):
    rng = np.random.default_rng(0)
    o, d = rng.choice(tiny_city.n_nodes, 200), rng.choice(tiny_city.n_nodes, 200)
    o, d = o[o != d], d[o != d]
    area = tiny_model.area_edges(tiny_city)
    rush = tiny_model.predict_travel(
        travel_features(tiny_city, o, d, hour=17.5, weekday=1, area_s=area)
    )
    quiet = tiny_model.predict_travel(
        travel_features(tiny_city, o, d, hour=13.0, weekday=6, area_s=area)
    )
    assert np.median(rush / quiet) > 1.1


def test_bundle_round_trip_predicts_the_same(tiny_model, tiny_city, tmp_path):
    tiny_model.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["schema_version"] == 1 and manifest["map_fingerprint"] == tiny_city.fingerprint
    assert manifest["features"]["travel"] == list(TRAVEL_FEATURES)
    assert {"lightgbm", "numpy", "python"} <= set(manifest["versions"])
    assert all(f.endswith(".txt") for f in manifest["files"]["travel"].values())
    loaded = EtaModel.load(tmp_path / "m", road_map=tiny_city)
    features = travel_features(
        tiny_city,
        [1, 2, 3],
        [40, 50, 60],
        hour=8.0,
        weekday=0,
        area_s=tiny_model.area_edges(tiny_city),
    )
    np.testing.assert_allclose(
        loaded.predict_travel(features, 0.9), tiny_model.predict_travel(features, 0.9)
    )


def test_bundle_for_another_map_or_schema_is_refused(tiny_model, tiny_city, example_map, tmp_path):
    tiny_model.save(tmp_path / "m")
    with pytest.raises(ModelBundleError, match="trained on another map"):
        EtaModel.load(tmp_path / "m", road_map=example_map)
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    manifest["schema_version"] = 99
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelBundleError, match="schema 99"):
        EtaModel.load(tmp_path / "m", road_map=tiny_city)
    with pytest.raises(ModelBundleError, match="not an ETA model bundle"):
        EtaModel.load(tmp_path, road_map=tiny_city)


def test_prediction_ignores_the_duration_column(tiny_model, tiny_city, tiny_history):
    """predict knows only what is known before a trip: its duration_s changes nothing."""
    trips = pd.read_csv(tiny_history["test_trips"]).head(50)
    stops = pd.read_csv(tiny_history["test_stops"], keep_default_na=False).head(50)
    a, _ = fleetroute.predict_eta(tiny_model, tiny_city, trips, stops)
    b, _ = fleetroute.predict_eta(
        tiny_model, tiny_city, trips.assign(duration_s=1), stops.drop(columns="duration_s")
    )
    pd.testing.assert_frame_equal(a, b)
    assert (
        list(a.columns) == ["trip_id", "predicted_s", "p90_s"]
        and (a["p90_s"] >= a["predicted_s"]).mean() > 0.95
    )


def test_training_and_serving_build_the_same_features(tiny_city, tiny_history):
    """history_features (training) and travel_features (planning) agree for the same legs."""
    trips = read_trips(tiny_history["trips"]).head(30)
    stops = read_stops(tiny_history["stops"]).head(30)
    areas = fit_areas(tiny_city, trips)
    h = history_features(tiny_city, trips, stops, areas=areas)
    o, _ = tiny_city.snap(trips["origin_lat"], trips["origin_lon"])
    d, _ = tiny_city.snap(trips["dest_lat"], trips["dest_lon"])
    direct = travel_features(
        tiny_city,
        o,
        d,
        hour=h.travel["hour"].to_numpy(),
        weekday=h.travel["weekday"].to_numpy(),
        area_s=areas.edge_seconds(tiny_city),
    )
    assert h.travel["area_ratio"].notna().all()
    pd.testing.assert_frame_equal(h.travel, direct)


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda m, d: m.update(schema_version="1"), "schema_version is the text '1'"),
        (lambda m, d: m.pop("kind"), "kind is missing"),
        (lambda m, d: m.update(kind="something-else"), "kind is 'something-else'"),
        (lambda m, d: m.update(quantiles=["x"]), "quantiles: 'x' is not a quantile"),
        (lambda m, d: m["files"]["travel"].update(x="travel_q50.txt"), "'x' is not a quantile"),
        (lambda m, d: m["files"]["travel"].update({"1.5": "a.txt"}), "'1.5' is not a quantile"),
        (lambda m, d: m.pop("files"), "files is missing"),
        (lambda m, d: m.update(params=[]), "params is a list, not an object"),
        (lambda m, d: (d / m["files"]["service"]["0.5"]).unlink(), "service_q50.txt is missing"),
        (lambda m, d: (d / m["files"]["travel"]["0.9"]).write_text("tree\n"), "travel_q90.txt"),
        (lambda m, d: m["calibration"]["travel"].update({"0.9": [0.1] * 5}), "list of 12 shifts"),
        (lambda m, d: m["calibration"].update(speed={}), "'speed' is not travel or service"),
        (lambda m, d: m.update(calibration=[]), "calibration is a list, not an object"),
        (lambda m, d: m["features"]["service"].pop(), "trained on other features"),
        (lambda m, d: m["files"].pop("places"), "places is missing"),
        (lambda m, d: (d / m["files"]["places"]).write_text("x"), "not a place history"),
        (lambda m, d: (d / m["files"]["areas"]).write_text("x"), "not an area slowness"),
        (lambda m, d: (d / m["files"]["areas"]).unlink(), "areas.npz is missing"),
    ],
    ids=[
        "schema-text",
        "no-kind",
        "other-kind",
        "quantile-x",
        "file-key-x",
        "file-key-1.5",
        "no-files",
        "params-list",
        "deleted-file",
        "damaged-file",
        "calibration-short",
        "calibration-target",
        "calibration-list",
        "old-features",
        "no-places",
        "damaged-places",
        "damaged-areas",
        "deleted-areas",
    ],  # fmt: skip
)
def test_a_malformed_bundle_is_one_clear_error_and_prints_nothing(
    tiny_model, tiny_city, tmp_path, capfd, damage, expected
):
    folder = tiny_model.save(tmp_path / "m")
    manifest = json.loads((folder / "manifest.json").read_text())
    damage(manifest, folder)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    capfd.readouterr()
    with pytest.raises(ModelBundleError) as caught:
        EtaModel.load(folder, road_map=tiny_city)
    message = str(caught.value)
    assert expected in message and "\n" not in message, message
    # LightGBM writes its own "[Fatal]" line to the process's stderr: none may get out
    printed = capfd.readouterr()
    assert printed.out == "" and printed.err == "", printed


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    q=st.sampled_from([0.8, 0.9, 0.95]),
    scale=st.floats(0.05, 2.0),
)
def test_calibration_shifts_cover_each_band_as_promised(seed, q, scale):
    """Split-conformal per band: on fresh rows from the same law, each band's shifted
    prediction covers about ``q`` of them, whatever the band's own spread; a thin band
    takes the whole day's shift."""
    from fleetroute.eta_model.model import CALIBRATION_MIN_ROWS, band_of, calibration_shifts

    rng = np.random.default_rng(seed)
    hours = rng.uniform(6, 20, 60_000)
    spread = scale * (1 + band_of(hours) % 3)  # bands differ threefold in spread
    shifts = calibration_shifts(rng.normal(0, spread), hours, q)
    fresh = rng.normal(0, spread)
    covered = fresh <= np.asarray(shifts)[band_of(hours)]
    for b in np.unique(band_of(hours)):
        rows = band_of(hours) == b
        if rows.sum() >= CALIBRATION_MIN_ROWS:
            assert abs(covered[rows].mean() - q) < 0.04  # ~5 standard errors
    thin = calibration_shifts(np.ones(10), np.full(10, 9.0), q)
    assert thin == [1.0] * 12


@settings(max_examples=60, deadline=None)
@given(
    mu=st.floats(-3.0, 8.0),
    sigma=st.floats(0.01, 2.0),
    q=st.floats(0.501, 0.899),
)
def test_a_quantile_between_learned_ones_is_exact_for_a_log_normal_time(mu, sigma, q):
    """Blending the learned neighbours' log predictions gives a log-normal time's own
    quantile, whatever its median and spread."""
    from statistics import NormalDist

    from fleetroute.eta_model.model import blend_weights

    learned = [0.5, 0.65, 0.9]
    parts = blend_weights(learned, q)
    assert abs(sum(w for _, w in parts) - 1.0) < 1e-12 and all(0 <= w <= 1 for _, w in parts)
    z = NormalDist().inv_cdf
    log_quantile = {k: mu + sigma * z(k) for k in learned}
    blended = sum(w * log_quantile[k] for k, w in parts)
    assert blended == pytest.approx(mu + sigma * z(q), abs=1e-9)
    assert blend_weights(learned, 0.65) == [(0.65, 1.0)]
    for outside in (0.4, 0.95):
        with pytest.raises(ValueError, match="outside"):
            blend_weights(learned, outside)


def test_a_blended_quantile_predicts_between_its_learned_neighbours(tiny_model, tiny_city):
    """0.55 plans every leg and stop between the median's and the 0.65's times, nearer
    the median; 0.95 was not learned and is refused."""
    rng = np.random.default_rng(1)
    o, d = rng.choice(tiny_city.n_nodes, 300), rng.choice(tiny_city.n_nodes, 300)
    o, d = o[o != d], d[o != d]
    legs = travel_features(
        tiny_city, o, d, hour=9.0, weekday=2, area_s=tiny_model.area_edges(tiny_city)
    )
    lo, mid, hi = (tiny_model.predict_travel(legs, q) for q in (0.5, 0.55, 0.65))
    assert (np.minimum(lo, hi) - 1e-6 <= mid).all() and (mid <= np.maximum(lo, hi) + 1e-6).all()
    assert np.median(np.abs(np.log(mid / lo))) < np.median(np.abs(np.log(hi / lo)))
    assert not np.allclose(mid, lo) and not np.allclose(mid, hi)
    with pytest.raises(ValueError, match="outside the trained ones"):
        tiny_model.predict_travel(legs, 0.95)


def test_a_bundle_without_calibration_still_loads_and_predicts_as_learned(
    tiny_model, tiny_city, tmp_path
):
    """Bundles saved before calibration have no shifts: their P90 is the booster's own."""
    folder = tiny_model.save(tmp_path / "m")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["calibration"]["travel"]["0.9"]  # this model is calibrated
    manifest.pop("calibration")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    old = EtaModel.load(folder, road_map=tiny_city)
    rng = np.random.default_rng(1)
    o, d = rng.integers(0, tiny_city.n_nodes, (2, 30))
    f = travel_features(
        tiny_city, o, d, hour=np.full(30, 8.5), weekday=0, area_s=tiny_model.area_edges(tiny_city)
    )
    raw = np.exp(tiny_model.travel_boosters_[0.9].predict(f[list(TRAVEL_FEATURES)]))
    assert np.allclose(old.predict_travel(f, 0.9), f["freeflow_s"].to_numpy() * raw)
    shift = tiny_model.calibration_["travel"][0.9][4]  # 08-10
    calibrated = tiny_model.predict_travel(f, 0.9)
    assert np.allclose(calibrated, old.predict_travel(f, 0.9) * np.exp(shift))
    assert np.allclose(tiny_model.predict_travel(f, 0.5), old.predict_travel(f, 0.5))


def test_every_weekday_weighs_the_same_in_the_calibration():
    """Validation weeks that hold two weekends (the latest 8.4 days of 8 weeks) must not
    calibrate every weekday as if it were a weekend."""
    from fleetroute.eta_model.model import calibration_shifts

    rng = np.random.default_rng(5)
    days = np.repeat(np.arange(7), [2000] * 5 + [6000] * 2)  # weekends three times over
    residual = rng.normal(0, 0.1, days.size) + np.where(days >= 5, 0.3, 0.0)
    hours = np.full(days.size, 11.0)
    balanced = np.concatenate([residual[days == d][:2000] for d in range(7)])
    want = np.quantile(balanced, 0.9)
    weighted = calibration_shifts(residual, hours, 0.9, days)[5]
    plain = calibration_shifts(residual, hours, 0.9)[5]
    assert abs(weighted - want) < 0.02 < abs(plain - want)


def test_training_rows_are_calibrated_by_boosters_that_never_saw_their_day(monkeypatch):
    """Cross-fitted calibration: every training row (and no validation row) gets one
    residual, from a booster that learned none of that row's day; a history too short to
    fold gives none (the validation rows calibrate alone)."""
    rng = np.random.default_rng(4)
    n = 4_000
    seconds = np.sort(rng.uniform(0, 20 * 86_400, n))
    when = pd.DatetimeIndex(pd.Timestamp("2026-03-02") + pd.to_timedelta(seconds, unit="s"))
    X = pd.DataFrame({"hour": when.hour, "weekday": when.day_of_week, "x": rng.normal(size=n)})
    y = 0.3 * X["x"].to_numpy() + rng.normal(0, 0.2, n)
    model = EtaModel(n_estimators=30)
    valid = model._validation_rows(when)
    day = (seconds // 86_400).astype(np.int64)
    training_days = set(day[~valid].tolist())
    unseen: list[set[int]] = []  # per booster: the training days it did not learn
    booster = EtaModel._booster

    def spy(self, X_, y_, valid_, *args):
        unseen.append(training_days - set(day[X_.index[~valid_]].tolist()))
        return booster(self, X_, y_, valid_, *args)

    monkeypatch.setattr(EtaModel, "_booster", spy)
    rows, residual = model._out_of_fold(X, y, valid, when, 0.9, [], 0.2)
    assert np.array_equal(np.sort(rows), np.flatnonzero(~valid))
    assert residual.shape == rows.shape and np.isfinite(residual).all()
    # each training day is left out of exactly one booster, which predicts its rows
    assert len(unseen) == 4 and all(unseen)
    assert sorted(d for days in unseen for d in days) == sorted(training_days)
    start = 0
    for days in unseen:
        mine = np.flatnonzero(~valid & np.isin(day, sorted(days)))
        assert np.array_equal(np.sort(rows[start : start + mine.size]), mine)
        start += mine.size
    first = day == 0
    short, _ = model._out_of_fold(X[first], y[first], valid[first], when[first], 0.9, [], 0.2)
    assert short.size == 0


def test_plans_are_made_on_the_planning_quantile_blended_or_the_nearest_learned(tiny_model):
    """A default bundle (0.5, 0.65, 0.9) plans on 0.7, blended from its 0.65 and 0.9; a
    bundle that cannot blend it plans on its learned quantile nearest to it."""
    assert PLAN_QUANTILE == 0.7
    assert sorted(tiny_model.travel_boosters_) == [0.5, 0.65, 0.9]
    assert LearnedEta(tiny_model).quantile == 0.7
    assert LearnedEta(tiny_model).name == "lightgbm q0.7"
    for kept, planned in (((0.5, 0.65), 0.65), ((0.5,), 0.5), ((0.5, 0.8, 0.9), 0.7)):
        fewer = copy.copy(tiny_model)
        fewer.travel_boosters_ = {q: tiny_model.travel_boosters_[0.9] for q in kept}
        assert LearnedEta(fewer).quantile == planned
    assert LearnedEta(tiny_model, late_chance=0.1).quantile == 0.5


def test_a_shop_is_predicted_by_its_store_wherever_the_store_stands(tiny_model, tiny_city):
    """Where a shop happens says nothing beyond its store: the same store at another place
    (moved, or a history that drew it elsewhere) is predicted alike, and a drop-off is not."""
    rng = np.random.default_rng(3)
    lat = tiny_city.lat[rng.integers(0, tiny_city.n_nodes, 40)]
    lon = tiny_city.lon[rng.integers(0, tiny_city.n_nodes, 40)]

    def predicted(shop: int) -> np.ndarray:
        f = service_features(tiny_city, is_shop=np.full(40, shop), items=np.full(40, 12),
                             store_code=np.full(40, 0 if shop else -1), lat=lat, lon=lon,
                             hour=11.0, weekday=2)  # fmt: skip
        return tiny_model.predict_service(f)

    assert np.ptp(predicted(1)) == 0.0
    assert np.ptp(predicted(0)) > 0.0
