"""Energy set against training progress: one point per epoch, and the run's timeline.

``epoch_points`` turns a stored run's ``epoch`` windows and metrics into a list of
``EpochPoint``: the epoch's energy (charged components, with the bounds of estimated
ones), the cumulative energy, and the metrics logged during the epoch or at its end.
A metric belongs to the epoch whose window started last at or before the metric's time
(so a value logged between the end of epoch *i* and the start of epoch *i+1* — the
integrations' end-of-epoch metrics, the stopper's prediction — belongs to epoch *i*);
metrics logged before the first epoch are left out, and so are metrics without a step
logged after the last epoch ended (a run's final figures, e.g. a benchmark's test
accuracy and inference counts, which belong to no epoch).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wattprint.store.repository import Store

EPOCH_COUNTER = "epoch"
"""The integrations' epochs-completed counter: a metric, but not one to analyse."""


@dataclass(frozen=True)
class EpochPoint:
    """One epoch of a run: its energy, the energy so far, and its metrics."""

    index: int  # 1-based epoch
    start: float
    end: float
    energy_j: float
    low_j: float
    high_j: float
    cumulative_j: float
    cumulative_low_j: float
    cumulative_high_j: float
    energy_by_component_j: Mapping[str, float]
    metrics: Mapping[str, float]

    @property
    def duration_s(self) -> float:
        return self.end - self.start


def epoch_points(store: Store, run_id: str, window: str = "epoch") -> list[EpochPoint]:
    """The run's ``window`` windows (default ``epoch``) in time order, as ``EpochPoint``s."""
    detail = store.get_run(run_id)
    ratios = {c.name: (c.low_ratio, c.high_ratio) for c in detail.components}
    windows = sorted(
        (w for w in store.windows(detail.run_id) if w.name == window), key=lambda w: w.started_at
    )
    starts = [w.started_at for w in windows]
    last_end = windows[-1].ended_at if windows else 0.0
    per_epoch: list[dict[str, float]] = [{} for _ in windows]
    for m in store.metrics(detail.run_id):
        if m.value is None or (m.step is None and m.t > last_end):
            continue
        i = bisect.bisect_right(starts, m.t) - 1
        if i >= 0:
            per_epoch[i][m.name] = m.value  # the last value of each name wins
    points: list[EpochPoint] = []
    total = total_low = total_high = 0.0
    for i, w in enumerate(windows):
        energy = {k: float(v) for k, v in w.energy_j.items() if not ratios or k in ratios}
        e = sum(energy.values())
        low = sum(j * ratios.get(k, (1.0, 1.0))[0] for k, j in energy.items())
        high = sum(j * ratios.get(k, (1.0, 1.0))[1] for k, j in energy.items())
        total, total_low, total_high = total + e, total_low + low, total_high + high
        points.append(
            EpochPoint(
                index=i + 1,
                start=w.started_at,
                end=w.ended_at,
                energy_j=e,
                low_j=low,
                high_j=high,
                cumulative_j=total,
                cumulative_low_j=total_low,
                cumulative_high_j=total_high,
                energy_by_component_j=energy,
                metrics=per_epoch[i],
            )
        )
    return points


def metric_names(points: Sequence[EpochPoint]) -> list[str]:
    """Every metric name the points carry, sorted, without the ``epoch`` counter."""
    return sorted({n for p in points for n in p.metrics} - {EPOCH_COUNTER})


@dataclass(frozen=True)
class Timeline:
    """The run's energy over time from its samples: cumulative joules and mean power of
    each charged component at every sample time (seconds since the run started)."""

    times: list[float]
    cumulative_j: Mapping[str, list[float]]
    power_w: Mapping[str, list[float | None]]
    quality: Mapping[str, str]


def timeline(store: Store, run_id: str) -> Timeline:
    """Samples of every component on one time axis; a component without a sample at a
    time keeps its last cumulative value (0 before its first) and has no power there."""
    detail = store.get_run(run_id)
    samples = store.samples(detail.run_id)
    times = sorted({s.t for s in samples})
    index = {t: i for i, t in enumerate(times)}
    names = sorted({s.component for s in samples})
    raw: dict[str, list[float | None]] = {n: [None] * len(times) for n in names}
    power: dict[str, list[float | None]] = {n: [None] * len(times) for n in names}
    for s in samples:
        raw[s.component][index[s.t]] = s.energy_j
        power[s.component][index[s.t]] = s.power_w
    cumulative: dict[str, list[float]] = {}
    for n in names:
        last = 0.0
        filled: list[float] = []
        for v in raw[n]:
            last = v if v is not None else last
            filled.append(last)
        cumulative[n] = filled
    quality = {c.name: c.quality for c in detail.components}
    return Timeline(
        times=[t - detail.started_at for t in times],
        cumulative_j=cumulative,
        power_w=power,
        quality={n: quality.get(n, "estimated") for n in names},
    )
