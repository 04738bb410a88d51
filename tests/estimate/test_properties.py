"""Property tests (hypothesis): linearity of the calculator, PUE, lifecycle shares and
break-even, embodied amortisation. Skipped where hypothesis is not installed."""

from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from wattprint.carbon.embodied import SECONDS_PER_YEAR, EmbodiedPart, embodied_emissions  # noqa: E402
from wattprint.estimate import estimate_footprint  # noqa: E402
from wattprint.estimate.lifecycle import Joules, lifecycle_energy  # noqa: E402

hours_st = st.floats(min_value=0.01, max_value=1e5, allow_nan=False)
factor_st = st.floats(min_value=0.01, max_value=100, allow_nan=False)
util_st = st.floats(min_value=0.01, max_value=1.0, allow_nan=False)
pue_st = st.floats(min_value=1.0, max_value=3.0, allow_nan=False)
intensity_st = st.floats(min_value=0.0, max_value=1500, allow_nan=False)
HW = "2xA100-80GB, cpu:AMD EPYC 7763:16, ram:128"


def run(hardware: str, hours: float, **kwargs: float) -> object:
    options = {"pue": 1.2, "intensity_g_per_kwh": 300.0}
    options.update(kwargs)
    return estimate_footprint(hardware, hours, **options)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(hours=hours_st, factor=factor_st, utilisation=util_st)
def test_linear_in_hours(hours: float, factor: float, utilisation: float) -> None:
    a = estimate_footprint(HW, hours, utilisation=utilisation, pue=1.2, intensity_g_per_kwh=300)
    b = estimate_footprint(
        HW, hours * factor, utilisation=utilisation, pue=1.2, intensity_g_per_kwh=300
    )
    assert b.energy_kwh == pytest.approx(a.energy_kwh * factor, rel=1e-9)
    assert b.operational_high_kg == pytest.approx(a.operational_high_kg * factor, rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(count=st.integers(min_value=1, max_value=512), hours=hours_st)
def test_linear_in_count(count: int, hours: float) -> None:
    one = estimate_footprint("1xH100", hours, pue=1.0, intensity_g_per_kwh=100)
    many = estimate_footprint(f"{count}xH100", hours, pue=1.0, intensity_g_per_kwh=100)
    assert many.energy_kwh == pytest.approx(one.energy_kwh * count, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(intensity=intensity_st, pue=pue_st, hours=hours_st)
def test_linear_in_intensity_and_pue_multiplies(intensity: float, pue: float, hours: float) -> None:
    result = estimate_footprint(HW, hours, pue=pue, intensity_g_per_kwh=intensity)
    assert result.energy_kwh == pytest.approx(result.it_energy_kwh * pue, rel=1e-9)
    assert result.operational_kg == pytest.approx(result.energy_kwh * intensity / 1000, rel=1e-9)
    assert result.energy_low_kwh <= result.energy_kwh <= result.energy_high_kwh


energy_st = st.floats(min_value=0.0, max_value=1e12, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    ct=energy_st,
    t=st.floats(min_value=1e-3, max_value=1e12),
    i=st.floats(min_value=1e-6, max_value=1e6),
    e=st.floats(min_value=0, max_value=1e12),
)
def test_lifecycle_shares_and_break_even(ct: float, t: float, i: float, e: float) -> None:
    result = lifecycle_energy(
        search=Joules(ct), training=Joules(t), inference=Joules(i), inferences=e
    )
    shares = result.share_search + result.share_training + result.share_inference
    assert shares == pytest.approx(1.0, rel=1e-9)
    assert result.break_even_training == pytest.approx(t / i, rel=1e-12)
    assert result.break_even_search_and_training == pytest.approx((ct + t) / i, rel=1e-12)
    at_break_even = lifecycle_energy(training=Joules(t), inference=Joules(i), inferences=t / i)
    assert at_break_even.inference_total_j == pytest.approx(t, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    hours=st.floats(min_value=0, max_value=30_000),
    lifetime=st.floats(min_value=1, max_value=10),
    share=st.floats(min_value=0.01, max_value=1),
    gpus=st.integers(min_value=0, max_value=16),
)
def test_embodied_amortisation(hours: float, lifetime: float, share: float, gpus: int) -> None:
    parts = [EmbodiedPart("server", 1), EmbodiedPart("gpu", gpus)]
    result = embodied_emissions(parts, hours * 3600, lifetime_years=lifetime, share=share)
    fraction = min(1.0, hours * 3600 / (lifetime * SECONDS_PER_YEAR))
    assert result.kg == pytest.approx((1000 + 150 * gpus) * fraction * share, rel=1e-9)
    assert result.low_kg <= result.kg <= result.high_kg
