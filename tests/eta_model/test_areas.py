"""Area slowness: learned from trips, summed along paths, kept in the bundle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetroute.eta_model.areas import AreaSlowness
from fleetroute.eta_model.features import travel_features


def _trips(city, slow_cells, extra, n, seed):
    """``n`` trips whose driven seconds are free flow, plus 30 s, plus ``extra`` times the
    free-flow seconds spent in ``slow_cells`` (of a 4 x 4 grid), plus noise."""
    rng = np.random.default_rng(seed)
    o = rng.integers(0, city.n_nodes, n)
    d = rng.integers(0, city.n_nodes, n)
    grid = AreaSlowness._grid(city, 4)
    slow = np.isin(AreaSlowness._edge_cells(city, grid, 4), slow_cells)
    ff, sums = city.legs(o, d, np.column_stack([city.edge_length_m, city.edge_travel_s * slow]))
    seconds = ff + 30 + extra * sums[:, 1] + rng.normal(0, 5, n)
    return o, d, seconds


@settings(max_examples=10, deadline=None)
@given(
    slow_cells=st.lists(st.integers(0, 15), min_size=1, max_size=5, unique=True),
    extra=st.floats(0.5, 2.0),
    seed=st.integers(0, 1000),
)
def test_the_slow_cells_are_found_wherever_they_are(tiny_city, slow_cells, extra, seed):
    """A slow part of the map (any cells, not only the centre) is learned from trips: its
    cells' slowness is near ``extra`` and the others' near zero."""
    o, d, seconds = _trips(tiny_city, slow_cells, extra, 8000, seed)
    areas = AreaSlowness.fit(tiny_city, o, d, seconds, n=4)
    # cells the trips' paths spend enough time in to be learned (corners see little)
    cells = AreaSlowness._edge_cells(tiny_city, AreaSlowness._grid(tiny_city, 4), 4)
    one_hot = np.eye(16)[cells] * tiny_city.edge_travel_s[:, None]
    _, sums = tiny_city.legs(o, d, np.column_stack([tiny_city.edge_length_m, one_hot]))
    spent = sums[:, 1:].sum(axis=0)
    seen = spent > 0.05 * spent.sum()
    is_slow = np.isin(np.arange(16), slow_cells)
    if not (seen & is_slow).any() or not (seen & ~is_slow).any():
        return
    assert areas.slowness[seen & is_slow].min() > extra * 0.7
    assert np.abs(areas.slowness[seen & ~is_slow]).max() < extra * 0.3


def test_a_legs_area_ratio_is_its_slow_seconds_over_free_flow(tiny_city):
    """``area_ratio`` is what the slow areas add to a leg, over its free-flow seconds."""
    o, d, seconds = _trips(tiny_city, [5, 6, 9, 10], 1.0, 3000, 0)
    areas = AreaSlowness.fit(tiny_city, o, d, seconds, n=4)
    f = travel_features(tiny_city, o, d, hour=9.0, weekday=0, area_s=areas.edge_seconds(tiny_city))
    moving = f["freeflow_s"].to_numpy() > 60
    extra = (seconds - 30 - f["freeflow_s"].to_numpy())[moving]
    predicted = (f["area_ratio"] * f["freeflow_s"]).to_numpy()[moving]
    assert np.corrcoef(extra, predicted)[0, 1] > 0.95
    without = travel_features(tiny_city, o[:5], d[:5], hour=9.0, weekday=0)
    assert without["area_ratio"].isna().all()


def test_the_bundle_keeps_the_area_slowness(tiny_model, tiny_city, tmp_path):
    from fleetroute.eta_model.model import EtaModel

    loaded = EtaModel.load(tiny_model.save(tmp_path / "m"), road_map=tiny_city)
    np.testing.assert_array_equal(loaded.areas_.slowness, tiny_model.areas_.slowness)
    np.testing.assert_array_equal(loaded.area_edges(tiny_city), tiny_model.area_edges(tiny_city))


def test_features_without_the_models_areas_are_refused(tiny_model, tiny_city):
    """A model that learned area slowness does not silently predict without it."""
    f = travel_features(tiny_city, [1, 2], [40, 50], hour=8.0, weekday=0)
    with pytest.raises(ValueError, match="area slowness"):
        tiny_model.predict_travel(f)
