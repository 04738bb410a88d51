from __future__ import annotations

import math
import random

import pytest

from tests.carbon.helpers import make_intensity
from wattprint.carbon import YearlyProvider, operational_emissions
from wattprint.carbon.providers import StepFunction
from wattprint.carbon.pue import Pue

PUE_1 = Pue(1.0, "test", "test")
PUE_1_2 = Pue(1.2, "test", "test")


class Steps:
    """A provider with a fixed step function (what a time-series provider returns)."""

    def __init__(self, points: list[tuple[float, float]]) -> None:
        self.points = points

    def series(self, start: float, end: float) -> list[tuple[float, float]]:
        return self.points

    def describe(self) -> str:
        return "steps"


def test_hand_computed_one_kwh() -> None:
    # 3.6e6 J = 1 kWh; * PUE 1.2 = 1.2 kWh; * 50 g/kWh = 60 g = 0.06 kg.
    intensity = make_intensity(50.0)
    e = operational_emissions(
        [(0, 3600, 3.6e6, 3.6e6, 3.6e6)], YearlyProvider(intensity), intensity, PUE_1_2
    )
    assert math.isclose(e.kg, 0.06)
    assert math.isclose(e.low_kg, 0.06) and math.isclose(e.high_kg, 0.06)
    assert math.isclose(e.energy_kwh, 1.2)
    assert e.intensity_g_per_kwh == 50.0
    assert e.pue is PUE_1_2
    assert "yearly average 50" in e.intensity_source


def test_low_high_use_energy_and_intensity_bounds() -> None:
    intensity = make_intensity(100.0, low=80.0, high=150.0)
    e = operational_emissions(
        [(0, 10, 7.2e6, 3.6e6, 1.08e7)], YearlyProvider(intensity), intensity, PUE_1
    )
    assert math.isclose(e.kg, 2 * 100 / 1000)
    assert math.isclose(e.low_kg, 1 * 80 / 1000)
    assert math.isclose(e.high_kg, 3 * 150 / 1000)


def test_step_inside_one_interval_is_time_weighted() -> None:
    # 100 g/kWh for the first half hour, 300 for the second: mean 200.
    provider = Steps([(0.0, 100.0), (1800.0, 300.0)])
    intensity = make_intensity(200.0)
    e = operational_emissions([(0, 3600, 3.6e6, 3.6e6, 3.6e6)], provider, intensity, PUE_1)
    assert math.isclose(e.intensity_g_per_kwh, 200.0)
    assert math.isclose(e.kg, 0.2)


def test_energy_weighting_across_intervals() -> None:
    provider = Steps([(0.0, 100.0), (1800.0, 300.0)])
    intensity = make_intensity(200.0)
    intervals = [(0, 1800, 1e6, 1e6, 1e6), (1800, 3600, 3e6, 3e6, 3e6)]
    e = operational_emissions(intervals, provider, intensity, PUE_1)
    assert math.isclose(e.intensity_g_per_kwh, (1e6 * 100 + 3e6 * 300) / 4e6)
    assert math.isclose(e.kg, (1e6 * 100 + 3e6 * 300) / 3.6e6 / 1000)


def test_interval_straddling_a_step_off_centre() -> None:
    # [900, 2700]: 900 s at 100 then 900 s at 300 → 200; [0, 2700]: (1800·100 + 900·300)/2700.
    provider = Steps([(0.0, 100.0), (1800.0, 300.0)])
    intensity = make_intensity(200.0)
    e = operational_emissions([(0, 2700, 3.6e6, 3.6e6, 3.6e6)], provider, intensity, PUE_1)
    assert math.isclose(e.intensity_g_per_kwh, (1800 * 100 + 900 * 300) / 2700)


def test_time_series_scales_low_high_by_yearly_ratios() -> None:
    provider = Steps([(0.0, 400.0)])
    intensity = make_intensity(200.0, low=100.0, high=300.0)  # ratios 0.5 and 1.5
    e = operational_emissions([(0, 60, 3.6e6, 3.6e6, 3.6e6)], provider, intensity, PUE_1)
    assert math.isclose(e.kg, 0.4)
    assert math.isclose(e.low_kg, 0.2)
    assert math.isclose(e.high_kg, 0.6)


def test_no_intervals() -> None:
    intensity = make_intensity(200.0)
    e = operational_emissions([], YearlyProvider(intensity), intensity, PUE_1)
    assert e.kg == e.low_kg == e.high_kg == e.energy_kwh == 0.0
    assert e.intensity_g_per_kwh == 200.0


def test_instant_interval_uses_value_at_start() -> None:
    provider = Steps([(0.0, 100.0), (10.0, 500.0)])
    intensity = make_intensity(100.0)
    e = operational_emissions([(10, 10, 3.6e6, 3.6e6, 3.6e6)], provider, intensity, PUE_1)
    assert math.isclose(e.kg, 0.5)


def test_warnings_collected() -> None:
    intensity = make_intensity(100.0)
    intensity = type(intensity)(**{**intensity.__dict__, "warning": "world average"})
    e = operational_emissions([(0, 1, 1.0, 1.0, 1.0)], YearlyProvider(intensity), intensity, PUE_1)
    assert e.warnings == ("world average",)


@pytest.mark.parametrize(
    "bad",
    [(0, 1, -1.0, 0, 0), (5, 1, 1.0, 1.0, 1.0), (0, 1, math.nan, 0, 0), (0, 1, 1.0)],
)
def test_bad_intervals(bad: tuple[float, ...]) -> None:
    intensity = make_intensity(100.0)
    with pytest.raises(ValueError, match="interval 0"):
        operational_emissions([bad], YearlyProvider(intensity), intensity, PUE_1)  # type: ignore[list-item]


def test_step_function_mean() -> None:
    f = StepFunction([(10.0, 2.0), (0.0, 1.0), (20.0, 3.0)])
    assert f.mean(0, 20) == 1.5
    assert f.mean(5, 15) == 1.5
    assert f.mean(20, 30) == 3.0
    assert f.mean(-10, 0) == 1.0  # before the first point: the first value
    assert f.value_at(15) == 2.0


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_linearity_and_pue_on_random_cases() -> None:
    """The same properties as test_properties.py, on seeded random cases, so they run
    where hypothesis is not installed."""
    rng = random.Random(20240701)
    for _ in range(200):
        intervals = []
        for _ in range(rng.randint(0, 6)):
            a, b = sorted((rng.uniform(0, 1e5), rng.uniform(0, 1e5)))
            e = rng.uniform(0, 1e9)
            intervals.append((a, b, e, e * 0.9, e * 1.1))
        points = [(rng.uniform(0, 1e5), rng.uniform(0, 1e3)) for _ in range(rng.randint(1, 5))]
        k, pue = rng.uniform(1e-3, 1e3), rng.uniform(1, 3)
        intensity = make_intensity(200.0, 150.0, 250.0)
        base = operational_emissions(intervals, Steps(points), intensity, PUE_1)
        more_energy = operational_emissions(
            [(a, b, e * k, lo * k, hi * k) for a, b, e, lo, hi in intervals],
            Steps(points),
            intensity,
            PUE_1,
        )
        dirtier = operational_emissions(
            intervals,
            Steps([(t, g * k) for t, g in points]),
            make_intensity(200.0 * k, 150.0 * k, 250.0 * k),
            PUE_1,
        )
        with_pue = operational_emissions(intervals, Steps(points), intensity, Pue(pue, "t", "t"))
        for scaled, factor in ((more_energy, k), (dirtier, k), (with_pue, pue)):
            assert _close(scaled.kg, base.kg * factor)
            assert _close(scaled.low_kg, base.low_kg * factor)
            assert _close(scaled.high_kg, base.high_kg * factor)
