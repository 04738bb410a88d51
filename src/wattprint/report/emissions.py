"""The emissions table of a run as CSV: one row per window and one for the whole run,
each with its energy, the PUE and grid intensity applied (and their sources), and the
operational emissions with their range. What people download beside a training run."""

from __future__ import annotations

import csv
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from wattprint.store.repository import Store

J_PER_KWH = 3.6e6
COLUMNS = (
    "scope",
    "started_at",
    "ended_at",
    "duration_s",
    "energy_kwh",
    "energy_low_kwh",
    "energy_high_kwh",
    "energy_quality",
    "pue",
    "pue_source",
    "facility_energy_kwh",
    "intensity_g_per_kwh",
    "intensity_source",
    "kgco2e",
    "kgco2e_low",
    "kgco2e_high",
)


def write_emissions_csv(
    store: Store,
    run_ref: str,
    stream: IO[str],
    *,
    region: str | None = None,
    pue: float | None = None,
) -> int:
    """Write the table of run ``run_ref`` priced for ``region``/``pue`` (default: the run's
    own settings); returns the number of rows written after the header."""
    from wattprint.analysis.footprint import run_footprint, window_emissions

    detail = store.get_run(run_ref)
    footprint = run_footprint(store, detail, region=region, pue=pue)
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = [
        (f"window:{w.name}", w.started_at, w.ended_at, w.energy_j, w.low_j, w.high_j, w.emissions)
        for w in window_emissions(store, detail, region=region, pue=pue)
    ]
    end = detail.ended_at if detail.ended_at is not None else detail.started_at + detail.duration_s
    rows.append(
        (
            "run",
            detail.started_at,
            end,
            detail.energy_j,
            detail.energy_low_j,
            detail.energy_high_j,
            footprint.emissions,
        )
    )
    for scope, start, stop, e, low, high, em in rows:
        writer.writerow(
            [
                scope,
                f"{start:.3f}",
                f"{stop:.3f}",
                f"{stop - start:.3f}",
                f"{e / J_PER_KWH:.6g}",
                f"{low / J_PER_KWH:.6g}",
                f"{high / J_PER_KWH:.6g}",
                detail.quality,
                f"{em.pue.value:g}",
                em.pue.reason,
                f"{em.energy_kwh:.6g}",
                f"{em.intensity_g_per_kwh:.4g}",
                em.intensity_source,
                f"{em.kg:.6g}",
                f"{em.low_kg:.6g}",
                f"{em.high_kg:.6g}",
            ]
        )
    return len(rows)
