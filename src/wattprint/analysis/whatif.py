"""What if the run had been elsewhere, on other hardware, or at another time?

All three re-use the run's stored energy; nothing is re-run.

* ``region_whatif``: the run's energy priced with every country's / cloud region's
  yearly intensity (and that place's PUE unless one is given or recorded), the same
  arithmetic as ``run_footprint`` with a yearly figure.
* ``accelerator_whatif``: the run's GPU energy scaled by the ratio of throughput per
  watt (peak dense TFLOPS at ``precision`` / TDP, from ``gpu_specs.csv``) of the run's
  GPU and each target: ``factor = (tflops/W of the run's GPU) / (tflops/W of the
  target)``. An estimate from datasheets: real speed-ups depend on the model.
  ``accelerator_whatif_from_runs`` compares two measured runs instead.
* ``best_start_time``: the run's own power profile shifted across a window of an
  intensity time series, priced at each start every ``step_s``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wattprint.analysis.footprint import energy_intervals
from wattprint.carbon.intensity import yearly_intensity
from wattprint.carbon.location import all_locations, resolve_location
from wattprint.carbon.providers import IntensityProvider, StepFunction
from wattprint.carbon.pue import resolve_pue
from wattprint.errors import ConfigError
from wattprint.hardware.gpu import GpuSpec, gpu_spec

if TYPE_CHECKING:
    from wattprint.store.records import RunDetail
    from wattprint.store.repository import Store

J_PER_KWH = 3.6e6
PRECISIONS = {
    "bf16": "fp16_bf16_tensor_tflops",
    "fp16": "fp16_bf16_tensor_tflops",
    "tf32": "tf32_tensor_tflops",
    "fp32": "fp32_tflops",
    "fp8": "fp8_tflops",
}


@dataclass(frozen=True)
class RegionOption:
    """The run's operational emissions had it run in ``code``."""

    code: str
    name: str
    kg: float
    low_kg: float
    high_kg: float
    g_per_kwh: float
    source: str
    year: int | None
    pue: float = 1.0
    kind: str = ""


def _energy(store: Store, detail: RunDetail) -> tuple[float, float, float]:
    intervals = energy_intervals(store.samples(detail.run_id), detail)
    if intervals:
        return (
            sum(i[2] for i in intervals),
            sum(i[3] for i in intervals),
            sum(i[4] for i in intervals),
        )
    return detail.energy_j, detail.energy_low_j, detail.energy_high_j


def region_whatif(
    store: Store,
    run_ref: str,
    *,
    kinds: Sequence[str] = ("country", "cloud"),
    limit: int | None = None,
    pue: float | None = None,
) -> list[RegionOption]:
    """The run re-priced in every location of ``kinds``, lowest emissions first."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit={limit!r}: accepted: an int >= 1, or none for all")
    detail = store.get_run(run_ref)
    energy, low, high = _energy(store, detail)
    recorded: Any = detail.settings.get("pue") if isinstance(detail.settings, dict) else None
    pue_value = pue if pue is not None else recorded
    options: list[RegionOption] = []
    for kind in kinds:
        for location in all_locations(kind):
            try:
                intensity = yearly_intensity(location)
                factor = resolve_pue(pue_value, location).value / J_PER_KWH / 1000.0
            except ConfigError:
                continue  # a place without a figure
            options.append(
                RegionOption(
                    code=location.code,
                    name=location.name,
                    kg=energy * intensity.g_per_kwh * factor,
                    low_kg=low * intensity.low_g_per_kwh * factor,
                    high_kg=high * intensity.high_g_per_kwh * factor,
                    g_per_kwh=intensity.g_per_kwh,
                    source=intensity.source,
                    year=intensity.year,
                    pue=factor * J_PER_KWH * 1000.0,
                    kind=location.kind,
                )
            )
    options.sort(key=lambda o: (o.kg, o.code))
    return options[:limit] if limit is not None else options


@dataclass(frozen=True)
class AcceleratorOption:
    """The run's GPU energy estimated on ``gpu`` (``factor`` x the measured energy)."""

    gpu: str
    energy_j: float
    low_j: float
    high_j: float
    factor: float
    basis: str


def throughput_per_watt(spec: GpuSpec, precision: str) -> float:
    """Peak dense TFLOPS at ``precision`` per watt of TDP."""
    column = PRECISIONS.get(precision)
    if column is None:
        raise ConfigError(f"precision={precision!r}: accepted: {', '.join(PRECISIONS)}")
    tflops = getattr(spec, column)
    if tflops is None or not spec.tdp_w:
        raise ConfigError(
            f"{spec.name} has no {precision} TFLOPS or TDP in gpu_specs.csv: pick another "
            f"precision ({', '.join(PRECISIONS)})"
        )
    return float(tflops) / float(spec.tdp_w)


def _run_gpus(detail: RunDetail) -> list[tuple[str, float, float, float]]:
    """(GPU name, energy, low, high) of each charged GPU component."""
    hardware = detail.hardware if isinstance(detail.hardware, dict) else {}
    listed = hardware.get("gpus") or []
    names: dict[str, str] = {}
    plain = [str(g) for g in listed if isinstance(g, str)]
    for g in listed:
        if isinstance(g, dict) and g.get("component"):
            names[str(g["component"])] = str(g.get("name", ""))
    found = []
    for i, c in enumerate(c for c in detail.components if c.kind == "gpu"):
        name = names.get(c.name) or (plain[i] if i < len(plain) else c.description)
        found.append((name, c.energy_j, c.low_j, c.high_j))
    return found


def accelerator_whatif(
    store: Store, run_ref: str, target_gpus: Sequence[str], *, precision: str = "bf16"
) -> list[AcceleratorOption]:
    """The run's GPU energy on each of ``target_gpus``, scaled by throughput per watt."""
    detail = store.get_run(run_ref)
    gpus = [g for g in _run_gpus(detail) if g[1] > 0]
    if not gpus:
        raise ConfigError(
            f"run {detail.project}/{detail.name} measured no GPU energy: the accelerator "
            "what-if scales a run's GPU energy; use a run that trained on a GPU"
        )
    sources = [(gpu_spec(name), e, lo, hi) for name, e, lo, hi in gpus]
    options: list[AcceleratorOption] = []
    for target in target_gpus:
        spec = gpu_spec(target)
        tpw = throughput_per_watt(spec, precision)
        energy = low = high = 0.0
        factors = []
        for src, e, lo, hi in sources:
            f = throughput_per_watt(src, precision) / tpw
            factors.append(f)
            energy, low, high = energy + e * f, low + lo * f, high + hi * f
        factor = energy / sum(e for _, e, _, _ in sources)
        names = ", ".join(sorted({s.name for s, *_ in sources}))
        options.append(
            AcceleratorOption(
                gpu=spec.name,
                energy_j=energy,
                low_j=low,
                high_j=high,
                factor=factor,
                basis=f"estimate: {precision} peak TFLOPS per TDP watt of {names} vs "
                f"{spec.name} (gpu_specs.csv); assumes the run's utilisation carries over",
            )
        )
    return sorted(options, key=lambda o: o.energy_j)


def accelerator_whatif_from_runs(store: Store, run_ref: str, other_ref: str) -> AcceleratorOption:
    """Two measured runs of the same training on different GPUs: the second's GPU energy
    against the first's (``factor`` = other / run)."""
    detail, other = store.get_run(run_ref), store.get_run(other_ref)
    mine, theirs = _run_gpus(detail), _run_gpus(other)
    if not mine or not theirs:
        missing = detail if not mine else other
        raise ConfigError(f"run {missing.project}/{missing.name} measured no GPU energy")
    base = sum(g[1] for g in mine)
    if base <= 0:
        raise ConfigError(f"run {detail.project}/{detail.name} has no GPU energy to compare")
    energy = sum(g[1] for g in theirs)
    return AcceleratorOption(
        gpu=", ".join(sorted({g[0] for g in theirs})),
        energy_j=energy,
        low_j=sum(g[2] for g in theirs),
        high_j=sum(g[3] for g in theirs),
        factor=energy / base,
        basis=f"measured: run {other.name} vs run {detail.name} (same training assumed)",
    )


@dataclass(frozen=True)
class StartTime:
    """The best start in a window: its emissions, the run's actual ones, the saving
    (a fraction of ``baseline_kg``)."""

    start: float
    kg: float
    baseline_kg: float
    saving: float


def _priced(profile: list[tuple[float, float, float]], steps: StepFunction, start: float) -> float:
    return sum(e * steps.mean(start + a, start + b) for a, b, e in profile)


def best_start_time(
    store: Store,
    run_ref: str,
    provider: IntensityProvider,
    window_start: float,
    window_end: float,
    *,
    step_s: float = 900,
) -> StartTime:
    """The start in ``[window_start, window_end - duration]`` (every ``step_s``) that
    minimises the run's emissions under ``provider``, its energy weighted by when it was
    used; the baseline is the run at its own start under the same provider."""
    if not math.isfinite(step_s) or step_s <= 0:
        raise ConfigError(f"step_s={step_s!r}: accepted: seconds > 0")
    detail = store.get_run(run_ref)
    t0 = detail.started_at
    profile = [
        (a - t0, b - t0, e)
        for a, b, e, _, _ in energy_intervals(store.samples(detail.run_id), detail)
    ]
    duration = max((b for _, b, _ in profile), default=detail.duration_s)
    if window_end - window_start < duration:
        raise ConfigError(
            f"window [{window_start}, {window_end}] is shorter than the run ({duration:.0f} s): "
            "give a window at least as long as the run"
        )
    settings = detail.settings if isinstance(detail.settings, dict) else {}
    region = settings.get("region")
    pue = resolve_pue(settings.get("pue"), resolve_location(region if region else None))
    factor = pue.value / J_PER_KWH / 1000.0
    steps = StepFunction(provider.series(window_start, window_end))
    best_start, best = window_start, math.inf
    start = window_start
    while start + duration <= window_end + 1e-9:
        kg = _priced(profile, steps, start) * factor
        if kg < best - 1e-15:
            best_start, best = start, kg
        start += step_s
    run_end = t0 + duration
    baseline = _priced(profile, StepFunction(provider.series(t0, run_end)), t0) * factor
    saving = 1.0 - best / baseline if baseline > 0 else 0.0
    return StartTime(start=best_start, kg=best, baseline_kg=baseline, saving=saving)
