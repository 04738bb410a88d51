"""Recommendations computed from a run's own data; each only when its evidence holds.

* ``diminishing_returns``: the epochs after the monitored metric came within epsilon of
  its final value used at least ``PLATEAU_SHARE`` (20 %) of the energy (4+ epochs);
* ``gpu_idle``: a measured GPU drew at least half its reference power (TDP from
  ``gpu_specs.csv``, else the most it drew) less than ``BUSY_SHARE`` (60 %) of the
  sampled time (5+ power samples): the input pipeline is the likely bottleneck;
* ``region``: another country or cloud region would emit at least ``REGION_FACTOR``
  (2x) less than where the run was priced;
* ``warm_up``: the first epoch cost at least ``WARMUP_FACTOR`` (1.5x) the median of
  the others (3+ epochs).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wattprint.analysis.curves import EpochPoint, epoch_points, metric_names
from wattprint.analysis.returns import diminishing_returns, epoch_span, infer_goal
from wattprint.analysis.whatif import _run_gpus, region_whatif
from wattprint.errors import ConfigError

if TYPE_CHECKING:
    from wattprint.store.records import RunDetail
    from wattprint.store.repository import Store

PLATEAU_SHARE = 0.2
BUSY_SHARE = 0.6
BUSY_POWER_SHARE = 0.5
REGION_FACTOR = 2.0
WARMUP_FACTOR = 1.5


@dataclass(frozen=True)
class Recommendation:
    kind: str
    text: str
    evidence: Mapping[str, float]


def recommendations(store: Store, run_ref: str) -> list[Recommendation]:
    """What the run's own data says could save energy or carbon."""
    detail = store.get_run(run_ref)
    points = epoch_points(store, detail.run_id)
    found = [
        r
        for r in (
            _plateau(points),
            _gpu_idle(store, detail),
            _region(store, detail),
            _warm_up(points),
        )
        if r is not None
    ]
    return found


def _monitored(points: list[EpochPoint]) -> str | None:
    names = []
    for n in metric_names(points):
        try:
            infer_goal(n)
        except ConfigError:
            continue
        if not n.startswith(("predicted_", "wattprint_")):
            names.append(n)
    preferred = [n for n in names if n.startswith(("val", "eval"))]
    chosen = preferred or names
    return chosen[0] if chosen else None


def _plateau(points: list[EpochPoint]) -> Recommendation | None:
    metric = _monitored(points)
    if metric is None or len(points) < 4:
        return None
    dr = diminishing_returns(points, metric)
    if dr.epoch_within_epsilon is None or dr.share_after_within_epsilon < PLATEAU_SHARE:
        return None
    within = next(p for p in points if p.index == dr.epoch_within_epsilon)
    gain = abs(dr.final - within.metrics.get(metric, dr.final))
    return Recommendation(
        kind="diminishing_returns",
        text=(
            f"{epoch_span(within.index + 1, points[-1].index)} used "
            f"{dr.share_after_within_epsilon:.0%} of the energy for {gain:.3g} of {metric}: "
            f"stop earlier (wattprint's EnergyAwareEarlyStopping, or fewer epochs)"
        ),
        evidence={
            "share": dr.share_after_within_epsilon,
            "epoch": float(within.index),
            "gain": gain,
            "epsilon": dr.epsilon,
        },
    )


def _gpu_idle(store: Store, detail: RunDetail) -> Recommendation | None:
    from wattprint.hardware.gpu import gpu_spec

    names = {c.name for c in detail.components if c.kind == "gpu" and c.quality == "measured"}
    gpus = dict((c.name, g[0]) for c, g in zip(
        (c for c in detail.components if c.kind == "gpu"), _run_gpus(detail), strict=False
    ))  # fmt: skip
    for name in sorted(names):
        samples = [s for s in store.samples(detail.run_id, name) if s.power_w is not None]
        if len(samples) < 5:
            continue
        powers = [float(s.power_w or 0.0) for s in samples]
        reference, basis = max(powers), 1.0
        try:
            tdp = gpu_spec(gpus.get(name, "")).tdp_w
            if tdp:
                reference, basis = float(tdp), 0.0
        except ConfigError:
            pass
        busy = sum(p >= BUSY_POWER_SHARE * reference for p in powers) / len(powers)
        if busy < BUSY_SHARE:
            return Recommendation(
                kind="gpu_idle",
                text=(
                    f"GPU {name} busy {busy:.0%} of the time (drawing ≥ "
                    f"{BUSY_POWER_SHARE:.0%} of {reference:.0f} W): the input pipeline is "
                    "the bottleneck; more data-loader workers, pinned memory or "
                    "prefetching would keep it fed"
                ),
                evidence={
                    "busy_share": busy,
                    "reference_w": reference,
                    "reference_is_max_seen": basis,
                    "mean_power_w": statistics.fmean(powers),
                },
            )
    return None


def _region(store: Store, detail: RunDetail) -> Recommendation | None:
    from wattprint.analysis.footprint import run_footprint

    if detail.energy_j <= 0:
        return None
    own = run_footprint(store, detail).emissions.kg
    # Cloud regions: places a user can actually move a job to.
    options = region_whatif(store, detail.run_id, kinds=("cloud",), limit=1)
    if not options or own <= 0:
        return None
    best = options[0]
    if best.kg > 0:
        factor = own / best.kg
        how_much = f"{factor:.0f}x less than"
    else:  # a grid reported at 0 g/kWh: a ratio means nothing
        factor = float("inf")
        how_much = "nothing, against"
    if factor < REGION_FACTOR:
        return None
    return Recommendation(
        kind="region",
        text=f"{best.name} ({best.code}) would emit {how_much} this run's "
        f"{own * 1000:.3g} g CO2e ({best.g_per_kwh:g} gCO2e/kWh, {best.source})",
        evidence={"kg": own, "best_kg": best.kg} | ({"factor": factor} if best.kg > 0 else {}),
    )


def _warm_up(points: list[EpochPoint]) -> Recommendation | None:
    if len(points) < 3:
        return None
    rest = statistics.median(p.energy_j for p in points[1:])
    if rest <= 0:
        return None
    ratio = points[0].energy_j / rest
    if ratio < WARMUP_FACTOR:
        return None
    return Recommendation(
        kind="warm_up",
        text=f"the first epoch cost {ratio:.1f}x the others (warm-up, compilation, caching): "
        "cache the preprocessed data or compiled model between runs",
        evidence={"ratio": ratio, "first_j": points[0].energy_j, "median_rest_j": rest},
    )
