"""Predict a whole training's energy and duration from its first epochs.

Per-epoch energy is roughly constant, so the total is linear in epochs:

    total = Σ observed epochs + (total_epochs - observed) x per-epoch estimate

The per-epoch estimate is robust to the two things that make epochs differ:

* **a slow first epoch** (warm-up, compilation, caching): with at least 3 epochs seen,
  the first is an outlier when it lies outside the range of the others by more than
  ``FIRST_EPOCH_TOLERANCE`` (25 %): above 1.25 x their largest or below 0.75 x their
  smallest. Outside their *range*, not far from their median, so that an eval epoch
  pattern (a, b, a, b) never makes a plain first epoch look odd. It is then counted as
  spent but not extrapolated;
* **evaluation epochs** (an ``eval`` inside every N-th epoch): the estimate is the mean
  of the remaining epochs after dropping those beyond 3 scaled MADs of their median
  (a trimmed mean keeps the eval epochs' share, which a median would drop or double);
  when the MAD is 0 (most epochs equal, e.g. a, b, a, b, a) nothing is dropped.

The range multiplies the remaining epochs by the smallest and the largest of the kept
epochs (conservative: the spread of single epochs, not of their mean).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wattprint.errors import ConfigError

if TYPE_CHECKING:
    from wattprint.carbon.intensity import Intensity
    from wattprint.carbon.pue import Pue
    from wattprint.store.repository import Store

FIRST_EPOCH_TOLERANCE = 0.25
MAD_SCALE = 1.4826  # a normal distribution's standard deviation per MAD
MAD_LIMIT = 3.0
J_PER_KWH = 3.6e6


@dataclass(frozen=True)
class Prediction:
    """A training's predicted total energy (joules) and duration (seconds) for
    ``total_epochs``, from the first ``after_epochs``."""

    after_epochs: int
    total_epochs: int
    energy_j: float
    low_j: float
    high_j: float
    duration_s: float
    low_duration_s: float
    high_duration_s: float
    per_epoch_j: float
    method: str
    spent_j: float = 0.0
    per_epoch_low_j: float = 0.0
    per_epoch_high_j: float = 0.0
    first_skipped: bool = False


@dataclass(frozen=True)
class _Estimate:
    spent: float
    mean: float
    low: float
    high: float
    skipped_first: bool
    ratio: float  # first / median of the rest (nan when not computed)
    dropped: int


def _check_series(name: str, values: Sequence[float]) -> list[float]:
    out: list[float] = []
    for i, v in enumerate(values):
        x = float(v)
        if not math.isfinite(x) or x < 0:
            raise ConfigError(f"{name}[{i}]={v!r}: accepted: finite numbers >= 0")
        out.append(x)
    return out


def _mad(values: Sequence[float], centre: float) -> float:
    return MAD_SCALE * statistics.median(abs(v - centre) for v in values)


def first_is_outlier(values: Sequence[float]) -> tuple[bool, float]:
    """Whether the first value lies outside the range of the rest by more than
    ``FIRST_EPOCH_TOLERANCE`` (needs at least 2 others), and its ratio to their median."""
    if len(values) < 3:
        return False, math.nan
    rest, first = values[1:], values[0]
    med = statistics.median(rest)
    ratio = first / med if med > 0 else math.inf
    slow = first > (1 + FIRST_EPOCH_TOLERANCE) * max(rest)
    fast = first < (1 - FIRST_EPOCH_TOLERANCE) * min(rest)
    return slow or fast, ratio


def _estimate(values: list[float], skip_first: bool | None) -> _Estimate:
    outlier, ratio = first_is_outlier(values)
    skip = outlier if skip_first is None else (skip_first and len(values) > 1)
    base = values[1:] if skip else values
    med = statistics.median(base)
    mad = _mad(base, med)
    kept = [v for v in base if abs(v - med) <= MAD_LIMIT * mad] if mad > 0 else base
    return _Estimate(
        spent=sum(values),
        mean=statistics.fmean(kept),
        low=min(kept),
        high=max(kept),
        skipped_first=skip,
        ratio=ratio,
        dropped=len(base) - len(kept),
    )


def predict_training(
    epoch_energies_j: Sequence[float],
    epoch_durations_s: Sequence[float],
    total_epochs: int,
    *,
    skip_first: bool | None = None,
) -> Prediction:
    """Predict the total for ``total_epochs`` from the epochs observed so far.

    ``skip_first``: ``None`` detects a slow first epoch (see the module docstring);
    ``True``/``False`` force it out of / into the per-epoch estimate.
    """
    energies = _check_series("epoch_energies_j", epoch_energies_j)
    durations = _check_series("epoch_durations_s", epoch_durations_s)
    if not energies:
        raise ConfigError("no epoch observed: predict_training needs at least one epoch")
    if len(energies) != len(durations):
        raise ConfigError(
            f"{len(energies)} epoch energies but {len(durations)} durations: give one of each"
        )
    n = len(energies)
    if isinstance(total_epochs, bool) or not isinstance(total_epochs, int) or total_epochs < n:
        raise ConfigError(
            f"total_epochs={total_epochs!r}: accepted: an int >= the {n} epochs observed"
        )
    e = _estimate(energies, skip_first)
    d = _estimate(durations, skip_first)
    remaining = total_epochs - n
    parts = [f"{n} epochs observed + {remaining} x mean of the kept epochs"]
    if e.skipped_first:
        why = f"{e.ratio:.1f}x the median of the others" if skip_first is None else "asked"
        parts.append(f"first epoch not extrapolated ({why})")
    if e.dropped:
        parts.append(f"{e.dropped} outlier epochs dropped (> {MAD_LIMIT:g} MAD)")
    return Prediction(
        after_epochs=n,
        total_epochs=total_epochs,
        energy_j=e.spent + remaining * e.mean,
        low_j=e.spent + remaining * e.low,
        high_j=e.spent + remaining * e.high,
        duration_s=d.spent + remaining * d.mean,
        low_duration_s=d.spent + remaining * d.low,
        high_duration_s=d.spent + remaining * d.high,
        per_epoch_j=e.mean,
        method="; ".join(parts),
        spent_j=e.spent,
        per_epoch_low_j=e.low,
        per_epoch_high_j=e.high,
        first_skipped=e.skipped_first,
    )


def predict_run(
    store: Store, run_id: str, total_epochs: int, *, after: int | None = None
) -> Prediction:
    """Predict a stored run's total for ``total_epochs`` from its first ``after`` epochs
    (default: all of its ``epoch`` windows)."""
    from wattprint.analysis.curves import epoch_points

    points = epoch_points(store, run_id)
    if after is not None:
        if isinstance(after, bool) or not isinstance(after, int) or after < 1:
            raise ConfigError(f"after={after!r}: accepted: an int >= 1 (epochs)")
        if after > len(points):
            raise ConfigError(f"after={after}: the run has only {len(points)} epoch windows")
        points = points[:after]
    if not points:
        raise ConfigError(f"run {run_id!r} has no epoch windows to predict from")
    return predict_training(
        [p.energy_j for p in points], [p.end - p.start for p in points], total_epochs
    )


def predicted_emissions_kg(
    prediction: Prediction, intensity: Intensity | float, pue: Pue | float = 1.0
) -> tuple[float, float, float]:
    """``(kg, low_kg, high_kg)`` CO2e of a prediction at a yearly ``intensity`` (an
    ``Intensity`` — its source spread widens the range — or g/kWh) and ``pue``."""
    if isinstance(intensity, int | float):
        g = lo_g = hi_g = float(intensity)
    else:
        g, lo_g, hi_g = intensity.g_per_kwh, intensity.low_g_per_kwh, intensity.high_g_per_kwh
    factor = float(pue if isinstance(pue, int | float) else pue.value)
    if not math.isfinite(g) or g < 0:
        raise ConfigError(f"intensity {intensity!r}: accepted: gCO2e/kWh >= 0")
    if not math.isfinite(factor) or factor < 1:
        raise ConfigError(f"PUE {pue!r}: accepted: a number >= 1")
    k = factor / J_PER_KWH / 1000.0
    return prediction.energy_j * g * k, prediction.low_j * lo_g * k, prediction.high_j * hi_g * k
