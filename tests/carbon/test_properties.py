"""Property tests (hypothesis): linear in energy and intensity; PUE multiplies."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("hypothesis")

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.carbon.helpers import make_intensity
from tests.carbon.test_emissions import PUE_1, Steps
from wattprint.carbon import YearlyProvider, operational_emissions
from wattprint.carbon.pue import Pue

energies = st.floats(min_value=0, max_value=1e10, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)
intervals_strategy = st.lists(
    st.tuples(st.floats(0, 1e5), st.floats(0, 1e5), energies).map(
        lambda x: (min(x[0], x[1]), max(x[0], x[1]), x[2], x[2] * 0.9, x[2] * 1.1)
    ),
    max_size=8,
)
series_strategy = st.lists(st.tuples(st.floats(0, 1e5), st.floats(0, 1e3)), min_size=1, max_size=6)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(intervals_strategy, series_strategy, positive)
def test_linear_in_energy(intervals: list, points: list, k: float) -> None:  # type: ignore[type-arg]
    intensity = make_intensity(200.0, 150.0, 250.0)
    provider = Steps(points)
    base = operational_emissions(intervals, provider, intensity, PUE_1)
    scaled_intervals = [(a, b, e * k, lo * k, hi * k) for a, b, e, lo, hi in intervals]
    scaled = operational_emissions(scaled_intervals, provider, intensity, PUE_1)
    assert _close(scaled.kg, base.kg * k)
    assert _close(scaled.low_kg, base.low_kg * k)
    assert _close(scaled.high_kg, base.high_kg * k)


@settings(max_examples=60, deadline=None)
@given(intervals_strategy, series_strategy, positive)
def test_linear_in_intensity(intervals: list, points: list, k: float) -> None:  # type: ignore[type-arg]
    intensity = make_intensity(200.0, 150.0, 250.0)
    base = operational_emissions(intervals, Steps(points), intensity, PUE_1)
    scaled_points = [(t, g * k) for t, g in points]
    scaled_intensity = make_intensity(200.0 * k, 150.0 * k, 250.0 * k)
    scaled = operational_emissions(intervals, Steps(scaled_points), scaled_intensity, PUE_1)
    assert _close(scaled.kg, base.kg * k)
    assert _close(scaled.low_kg, base.low_kg * k)
    assert _close(scaled.high_kg, base.high_kg * k)


@settings(max_examples=60, deadline=None)
@given(intervals_strategy, st.floats(min_value=1, max_value=3), st.floats(0, 1e3))
def test_pue_multiplies(intervals: list, pue: float, g: float) -> None:  # type: ignore[type-arg]
    intensity = make_intensity(g)
    provider = YearlyProvider(intensity)
    base = operational_emissions(intervals, provider, intensity, PUE_1)
    with_pue = operational_emissions(intervals, provider, intensity, Pue(pue, "t", "t"))
    assert _close(with_pue.kg, base.kg * pue)
    assert _close(with_pue.energy_kwh, base.energy_kwh * pue)
    assert _close(with_pue.intensity_g_per_kwh, base.intensity_g_per_kwh)
    assert with_pue.low_kg <= with_pue.kg * (1 + 1e-12) + 1e-15
    assert with_pue.kg <= with_pue.high_kg * (1 + 1e-12) + 1e-15
