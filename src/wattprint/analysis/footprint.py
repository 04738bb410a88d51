"""The carbon footprint of a stored run, computed as a view over its measured energy.

Nothing here is stored: a finished run can be re-priced for another region, year,
PUE or intensity time series without re-running it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattprint.carbon.embodied import EmbodiedEstimate, EmbodiedPart, embodied_emissions
from wattprint.carbon.emissions import Emissions, operational_emissions
from wattprint.carbon.intensity import Intensity, yearly_intensity
from wattprint.carbon.location import Location, resolve_location
from wattprint.carbon.providers import CsvSeriesProvider, IntensityProvider, YearlyProvider
from wattprint.carbon.pue import Pue, resolve_pue
from wattprint.errors import ConfigError
from wattprint.hardware.cpu import chip_threads
from wattprint.hardware.gpu import gpu_spec

if TYPE_CHECKING:
    from wattprint.store.records import ComponentTotal, RunDetail, SampleRecord
    from wattprint.store.repository import Store

Interval = tuple[float, float, float, float, float]


@dataclass(frozen=True)
class RunFootprint:
    """A run's operational emissions and everything they were computed from."""

    run_id: str
    location: Location
    intensity: Intensity
    pue: Pue
    provider: str
    emissions: Emissions
    location_from: str  # "given", "run settings" or "none: world average"
    embodied: RunEmbodied


@dataclass(frozen=True)
class RunEmbodied:
    """Manufacturing emissions amortised over the run, reported apart from operational
    ones: the charged GPUs whole, the server (with its CPUs and RAM) by ``host_share``."""

    kg: float
    low_kg: float
    high_kg: float
    host_share: float
    host_share_basis: str
    parts: tuple[EmbodiedEstimate, ...]


def run_footprint(
    store: Store,
    detail: RunDetail,
    *,
    region: str | None = None,
    pue: float | None = None,
    year: int | None = None,
    intensity_file: Path | None = None,
    provider: IntensityProvider | None = None,
) -> RunFootprint:
    """Price ``detail``'s energy: arguments win over the run's own settings. An
    intensity ``provider`` (e.g. a live API client) wins over ``intensity_file``, which
    wins over the yearly figure."""
    price = _pricing(detail, region, pue, year, intensity_file, provider)
    intervals = energy_intervals(store.samples(detail.run_id), detail)
    emissions = operational_emissions(intervals, price.provider, price.intensity, price.pue)
    return RunFootprint(
        run_id=detail.run_id,
        location=price.location,
        intensity=price.intensity,
        pue=price.pue,
        provider=price.provider.describe(),
        emissions=emissions,
        location_from=price.location_from,
        embodied=run_embodied(detail),
    )


@dataclass(frozen=True)
class _Pricing:
    location: Location
    location_from: str
    intensity: Intensity
    pue: Pue
    provider: IntensityProvider


def _pricing(
    detail: RunDetail,
    region: str | None,
    pue: float | None,
    year: int | None,
    intensity_file: Path | None,
    provider: IntensityProvider | None,
) -> _Pricing:
    """Where, at which PUE and with which intensity a run is priced (arguments first,
    then the run's recorded settings, then the world average)."""
    recorded = _mapping(detail.settings)
    code = region if region is not None else recorded.get("region")
    location_from = "given" if region is not None else "run settings" if code else "none"
    location = resolve_location(code)
    if location.kind == "world":
        location_from = "none: world average"
    intensity = yearly_intensity(location, year)
    pue_value = pue if pue is not None else recorded.get("pue")
    resolved_pue = resolve_pue(pue_value, location)
    if provider is None:
        series_file = intensity_file or _path(recorded.get("intensity_file"))
        provider = (
            CsvSeriesProvider(series_file) if series_file is not None else YearlyProvider(intensity)
        )
    return _Pricing(location, location_from, intensity, resolved_pue, provider)


@dataclass(frozen=True)
class WindowEmissions:
    """One window of a run, priced: its energy (IT, joules, with bounds) and emissions."""

    name: str
    started_at: float
    ended_at: float
    energy_j: float
    low_j: float
    high_j: float
    emissions: Emissions


def window_emissions(
    store: Store,
    detail: RunDetail,
    *,
    names: tuple[str, ...] | None = None,
    region: str | None = None,
    pue: float | None = None,
    year: int | None = None,
    intensity_file: Path | None = None,
) -> list[WindowEmissions]:
    """Each of the run's windows (or those called one of ``names``) priced like the run:
    the emissions table people download beside a run."""
    from wattprint.analysis.stored import component_ratios, window_energy

    price = _pricing(detail, region, pue, year, intensity_file, None)
    ratios = component_ratios(detail)
    rows: list[WindowEmissions] = []
    for w in store.windows(detail.run_id):
        energy, _, _ = window_energy([w], w.name, ratios)
        if energy is None or (names is not None and w.name not in names):
            continue
        interval = (w.started_at, w.ended_at, energy.j, energy.low_j, energy.high_j)
        priced = operational_emissions([interval], price.provider, price.intensity, price.pue)
        rows.append(
            WindowEmissions(
                w.name, w.started_at, w.ended_at, energy.j, energy.low_j, energy.high_j, priced
            )
        )
    return rows


def run_embodied(detail: RunDetail) -> RunEmbodied:
    """Embodied emissions of the hardware a run used, from its recorded inventory."""
    hardware = _mapping(detail.hardware)
    duration_s = max(detail.duration_s, 0.0)
    share, basis = host_share(hardware, str(_mapping(detail.settings).get("attribution", "")))
    cpu = _mapping(hardware.get("cpu"))
    host = [EmbodiedPart("server", 1, name="base rack server")]
    extra_sockets = int(cpu.get("sockets") or 1) - 1
    if extra_sockets > 0:
        host.append(EmbodiedPart("cpu", extra_sockets, name=str(cpu.get("model", ""))))
    if hardware.get("ram_gb"):
        host.append(EmbodiedPart("ram", float(hardware["ram_gb"]), name="RAM"))
    parts = [embodied_emissions(host, duration_s, share=share)]
    gpus = _charged_gpus(detail, hardware)
    if gpus:
        parts.append(embodied_emissions(gpus, duration_s, share=1.0))
    return RunEmbodied(
        kg=sum(p.kg for p in parts),
        low_kg=sum(p.low_kg for p in parts),
        high_kg=sum(p.high_kg for p in parts),
        host_share=share,
        host_share_basis=basis,
        parts=tuple(parts),
    )


def host_share(hardware: dict[str, Any], attribution: str) -> tuple[float, str]:
    """The share of the server charged to a run: all of it in machine attribution; else
    the logical CPUs the run could use out of the chip's. On a virtual machine the chip
    is not visible: its thread count comes from the CPU table (the model's row, or the
    median of its family), so a 2-vCPU VM is not charged a whole server."""
    if attribution == "machine":
        return 1.0, "machine attribution: the whole server"
    cpu = _mapping(hardware.get("cpu"))
    used = int(cpu.get("logical_cpus") or 1)
    if not cpu.get("hypervisor"):
        total = int(cpu.get("host_logical_cpus") or used)
        return min(1.0, used / total), f"{used} of the host's {total} logical CPUs"
    threads, where = chip_threads(str(cpu.get("model", "")))
    if threads is None:
        return (
            1.0,
            f"virtual machine of an unknown chip ({where}): the whole server, an upper bound",
        )
    sockets = int(cpu.get("sockets") or 1)
    return min(1.0, used / (threads * sockets)), (
        f"virtual machine: {used} vCPUs of {sockets} x {threads} threads ({where})"
    )


def _charged_gpus(detail: RunDetail, hardware: dict[str, Any]) -> list[EmbodiedPart]:
    charged = {c.name for c in detail.components if c.kind == "gpu"}
    parts: list[EmbodiedPart] = []
    for item in hardware.get("gpus") or []:
        gpu = _mapping(item)
        if gpu.get("component") not in charged:
            continue
        name = str(gpu.get("name", ""))
        try:
            spec = gpu_spec(name)
            die, source = spec.embodied_die_kgco2eq, spec.embodied_source
        except ConfigError:
            die, source = None, ""
        parts.append(EmbodiedPart("gpu", 1, name=name, die_kgco2eq=die, die_source=source))
    return parts


def energy_intervals(samples: list[SampleRecord], detail: RunDetail) -> list[Interval]:
    """``(t_start, t_end, energy_j, low_j, high_j)`` between consecutive samples of each
    charged component, from the run's start; the low/high bounds of estimated
    components come from their ranges."""
    ranges = {c.name: c for c in detail.components}
    by_component: dict[str, list[SampleRecord]] = defaultdict(list)
    for s in samples:
        if s.component in ranges:
            by_component[s.component].append(s)
    intervals: list[Interval] = []
    for name, series in by_component.items():
        component: ComponentTotal = ranges[name]
        t_prev, e_prev = detail.started_at, 0.0
        for s in sorted(series, key=lambda r: r.t):
            delta = max(0.0, s.energy_j - e_prev)
            if s.t > t_prev and delta > 0:
                intervals.append(
                    (t_prev, s.t, delta, delta * component.low_ratio, delta * component.high_ratio)
                )
            t_prev, e_prev = max(t_prev, s.t), max(e_prev, s.energy_j)
    return intervals


def _mapping(value: object) -> dict[str, Any]:
    """A recorded JSON object, or an empty one when a run recorded something else."""
    return dict(value) if isinstance(value, dict) else {}


def _path(value: object) -> Path | None:
    return Path(str(value)) if value else None
