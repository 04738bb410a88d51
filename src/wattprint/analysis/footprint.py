"""The carbon footprint of a stored run, computed as a view over its measured energy.

Nothing here is stored: a finished run can be re-priced for another region, year,
PUE or intensity time series without re-running it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattprint.carbon.emissions import Emissions, operational_emissions
from wattprint.carbon.intensity import Intensity, yearly_intensity
from wattprint.carbon.location import Location, resolve_location
from wattprint.carbon.providers import CsvSeriesProvider, IntensityProvider, YearlyProvider
from wattprint.carbon.pue import Pue, resolve_pue

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
    recorded: dict[str, Any] = dict(detail.settings or {})
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
    intervals = energy_intervals(store.samples(detail.run_id), detail)
    emissions = operational_emissions(intervals, provider, intensity, resolved_pue)
    return RunFootprint(
        run_id=detail.run_id,
        location=location,
        intensity=intensity,
        pue=resolved_pue,
        provider=provider.describe(),
        emissions=emissions,
        location_from=location_from,
    )


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


def _path(value: object) -> Path | None:
    return Path(str(value)) if value else None
