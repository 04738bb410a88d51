"""Diminishing returns: how much of a run's energy bought how little of its metric.

For a metric logged per epoch, with ``first`` its first value and ``final`` its last,
the *gain* is the change in the goal's direction (``first - value`` for a loss,
``value - first`` for an accuracy). ``DiminishingReturns`` says:

* when the metric came within ``epsilon`` of its final value **and stayed there** (an
  epoch after which every value is within ``epsilon``; staying, so that a noisy curve
  touching the final value once does not count), and the share of the energy spent
  after that epoch;
* the cumulative energy when the gain first reached 50, 90, 95 and 99 % of the total
  gain;
* the energy per unit of metric over the last ``last_k`` epochs.

Default ``epsilon``: ``DEFAULT_EPSILON_SHARE`` (1 %) of the metric's total change
(``|final - first|``), so the figure means "the last 1 % of the improvement".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from wattprint.analysis.curves import EpochPoint, metric_names
from wattprint.errors import ConfigError

Goal = Literal["min", "max"]
DEFAULT_EPSILON_SHARE = 0.01
REACH_PERCENTS = (50, 90, 95, 99)

_MIN_WORDS = ("loss", "error", "perplexity", "wer", "cer", "mse", "mae", "rmse", "ppl")
_MAX_WORDS = (
    "accuracy", "acc", "f1", "auc", "bleu", "rouge", "precision", "recall", "iou", "map",
    "rouge1", "rouge2", "rougel", "exact_match", "em",
)  # fmt: skip
_TOKENS = re.compile(r"[a-z0-9]+")


def infer_goal(metric: str) -> Goal:
    """``min`` for losses and error rates, ``max`` for accuracies and scores, from the
    words of the metric's name; ``ConfigError`` when the name says neither."""
    words = _TOKENS.findall(metric.lower())
    lowered = metric.lower()
    if any(w in _MIN_WORDS for w in words) or any(
        w in lowered for w in ("loss", "error", "perplexity")
    ):
        return "min"
    if any(w in _MAX_WORDS for w in words) or any(
        w in lowered for w in ("accuracy", "bleu", "rouge")
    ):
        return "max"
    raise ConfigError(
        f"cannot tell whether metric {metric!r} should go down or up: pass goal='min' "
        "(loss, error, perplexity, wer) or goal='max' (accuracy, f1, auc, bleu, rouge)"
    )


def check_goal(metric: str, goal: str | None) -> Goal:
    if goal is None:
        return infer_goal(metric)
    if goal not in ("min", "max"):
        raise ConfigError(f"goal={goal!r} for metric {metric!r}: accepted: 'min', 'max'")
    return "min" if goal == "min" else "max"


@dataclass(frozen=True)
class DiminishingReturns:
    """How the energy of a run was spent against one metric (see the module docstring)."""

    metric: str
    goal: Goal
    final: float
    best: float
    epsilon: float
    share_after_within_epsilon: float
    epoch_within_epsilon: int | None
    energy_to_reach_j: Mapping[int, float | None]
    marginal_j_per_unit: float | None
    last_k: int
    sentence: str
    first: float = 0.0
    total_energy_j: float = 0.0
    epochs: int = 0


def diminishing_returns(
    points: Sequence[EpochPoint],
    metric: str,
    *,
    goal: Goal | None = None,
    epsilon: float | None = None,
    last_k: int = 3,
) -> DiminishingReturns:
    """Diminishing returns of ``metric`` over the epochs ``points`` (``epoch_points``)."""
    direction = check_goal(metric, goal)
    if isinstance(last_k, bool) or not isinstance(last_k, int) or last_k < 1:
        raise ConfigError(f"last_k={last_k!r}: accepted: an int >= 1 (epochs)")
    series = [
        (p, p.metrics[metric])
        for p in points
        if metric in p.metrics and math.isfinite(p.metrics[metric])
    ]
    if not series:
        known = ", ".join(metric_names(points)) or "none"
        raise ConfigError(f"no epoch has metric {metric!r}; metrics logged per epoch: {known}")
    sign = -1.0 if direction == "min" else 1.0
    first, final = series[0][1], series[-1][1]
    values = [v for _, v in series]
    best = min(values) if direction == "min" else max(values)
    change = abs(final - first)
    if epsilon is None:
        epsilon = DEFAULT_EPSILON_SHARE * change
    elif not math.isfinite(epsilon) or epsilon < 0:
        raise ConfigError(f"epsilon={epsilon!r}: accepted: a number >= 0 (metric units)")
    total = points[-1].cumulative_j if points else 0.0

    within: EpochPoint | None = None
    for p, v in reversed(series):  # the earliest epoch from which every value stays within
        if abs(v - final) > epsilon:
            break
        within = p
    share = (total - within.cumulative_j) / total if within is not None and total > 0 else 0.0

    total_gain = sign * (final - first)
    reach: dict[int, float | None] = {}
    for pct in REACH_PERCENTS:
        reach[pct] = None
        if total_gain > 0:
            for p, v in series:
                if sign * (v - first) >= pct / 100 * total_gain:
                    reach[pct] = p.cumulative_j
                    break

    k = min(last_k, len(series) - 1)
    marginal: float | None = None
    if k >= 1:
        start_p, start_v = series[-1 - k]
        gain = sign * (final - start_v)
        energy = series[-1][0].cumulative_j - start_p.cumulative_j
        marginal = energy / gain if gain > 0 else None

    sentence = _sentence(metric, series, within, share, final)
    return DiminishingReturns(
        metric=metric,
        goal=direction,
        final=final,
        best=best,
        epsilon=epsilon,
        share_after_within_epsilon=share,
        epoch_within_epsilon=within.index if within is not None else None,
        energy_to_reach_j=reach,
        marginal_j_per_unit=marginal,
        last_k=max(k, 0),
        sentence=sentence,
        first=first,
        total_energy_j=total,
        epochs=len(points),
    )


def _sentence(
    metric: str,
    series: list[tuple[EpochPoint, float]],
    within: EpochPoint | None,
    share: float,
    final: float,
) -> str:
    if within is None or share <= 0:
        return f"{metric} was still moving at the last epoch: no energy went to a plateau"
    value_then = next(v for p, v in series if p is within)
    last = series[-1][0].index
    return (
        f"{share:.0%} of the energy ({epoch_span(within.index + 1, last)}) bought the last "
        f"{abs(final - value_then):.3g} of {metric}"
    )


def epoch_span(first: int, last: int) -> str:
    """``epoch 6`` or ``epochs 6-9``."""
    return f"epoch {first}" if first == last else f"epochs {first}-{last}"
