"""Operational emissions of measured IT energy.

For each interval i of IT energy E_i (joules, summed over components) between t0_i
and t1_i, with the provider's intensity step function I(t) (gCO2e/kWh):

    I_i       = (1 / (t1_i - t0_i)) ∫ I(t) dt over [t0_i, t1_i]   (time-weighted)
    kg        = Σ E_i / 3.6e6 * PUE * I_i / 1000
    low_kg    = Σ low_E_i / 3.6e6 * PUE * I_i * (I_low / I_year) / 1000
    high_kg   = Σ high_E_i / 3.6e6 * PUE * I_i * (I_high / I_year) / 1000

where I_year, I_low, I_high are the yearly figure and its source spread. With the
yearly provider I_i = I_year, so low/high are simply low energy * low intensity and
high energy * high intensity. The result is linear in energy and in intensity, and
PUE multiplies it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from wattprint.carbon.intensity import Intensity
from wattprint.carbon.providers import IntensityProvider, StepFunction, provider_warnings
from wattprint.carbon.pue import Pue

J_PER_KWH = 3.6e6
G_PER_KG = 1000.0


@dataclass(frozen=True)
class Emissions:
    """Operational emissions of a run or window (kgCO2e) and how they were computed."""

    kg: float
    low_kg: float
    high_kg: float
    energy_kwh: float  # facility energy = IT energy * PUE
    intensity_g_per_kwh: float  # energy-weighted mean actually applied
    pue: Pue
    intensity_source: str
    warnings: tuple[str, ...]


def _ratios(intensity: Intensity) -> tuple[float, float]:
    g = intensity.g_per_kwh
    if g > 0:
        return intensity.low_g_per_kwh / g, intensity.high_g_per_kwh / g
    return 1.0, 1.0


def _check_interval(i: int, interval: Sequence[float]) -> tuple[float, float, float, float, float]:
    if len(interval) != 5:
        raise ValueError(
            f"interval {i}: expected (t_start, t_end, energy_j, low_j, high_j), got {interval!r}"
        )
    t0, t1, e, lo, hi = (float(x) for x in interval)
    if not all(math.isfinite(x) for x in (t0, t1, e, lo, hi)):
        raise ValueError(f"interval {i}: values must be finite numbers, got {interval!r}")
    if t1 < t0:
        raise ValueError(f"interval {i}: t_end {t1} is before t_start {t0}")
    if e < 0 or lo < 0 or hi < 0:
        raise ValueError(f"interval {i}: energies must be ≥ 0 J, got {interval!r}")
    return t0, t1, e, lo, hi


def operational_emissions(
    intervals: Sequence[tuple[float, float, float, float, float]],
    provider: IntensityProvider,
    intensity: Intensity,
    pue: Pue,
) -> Emissions:
    """Emissions of IT-energy ``intervals`` ``(t_start, t_end, energy_j, low_j, high_j)``
    priced with ``provider``'s intensity, ``intensity``'s spread and ``pue``."""
    checked = [_check_interval(i, iv) for i, iv in enumerate(intervals)]
    low_ratio, high_ratio = _ratios(intensity)
    total_j = low_total = high_total = 0.0
    weighted = low_weighted = high_weighted = 0.0  # Σ J * g/kWh
    if checked:
        start = min(iv[0] for iv in checked)
        end = max(iv[1] for iv in checked)
        steps = StepFunction(provider.series(start, end))
        for t0, t1, e, lo, hi in checked:
            g = steps.mean(t0, t1)
            total_j += e
            low_total += lo
            high_total += hi
            weighted += e * g
            low_weighted += lo * g * low_ratio
            high_weighted += hi * g * high_ratio
    factor = pue.value / J_PER_KWH / G_PER_KG
    if total_j > 0:
        applied = weighted / total_j
    else:
        applied = intensity.g_per_kwh if not checked else steps.mean(start, end)
    warnings: list[str] = []
    for w in (intensity.warning, *provider_warnings(provider)):
        if w and w not in warnings:
            warnings.append(w)
    return Emissions(
        kg=weighted * factor,
        low_kg=low_weighted * factor,
        high_kg=high_weighted * factor,
        energy_kwh=total_j * pue.value / J_PER_KWH,
        intensity_g_per_kwh=applied,
        pue=pue,
        intensity_source=provider.describe(),
        warnings=tuple(warnings),
    )
