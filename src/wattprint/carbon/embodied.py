"""Embodied (manufacturing) emissions of the hardware a job uses, amortised over its
lifetime: ``kg = manufacturing kg * duration / lifetime * share``.

Factors come from ``data/embodied.csv`` (Teads/Cloud Carbon Footprint, LLMCarbon,
Boavizta/ADEME) and, for a GPU's die, from ``data/gpu_specs.csv`` (LLMCarbon). The
point figure of every part is the Teads/CCF factor (cradle-to-gate per component, one
consistent boundary across GPUs, CPUs, memory and server). The low-high range of a part
spans the sources that estimate *that same part* (e.g. LLMCarbon's die-only figure as
the low bound of a GPU card); two sources are never added for one part, and a figure
whose boundary overlaps other parts (ADEME's whole server, which holds its own CPU and
memory) is reported for comparison only. Embodied emissions are reported apart from
operational ones.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from wattprint.datafiles import read_csv
from wattprint.errors import ConfigError

EMBODIED_FILE = "embodied.csv"
LIFESPAN_ID = "teads_rack_server_lifespan"
SECONDS_PER_YEAR = 365.25 * 24 * 3600.0
"""A Julian year: the unit conversion used for lifetimes given in years."""

PartKind = Literal["gpu", "cpu", "ram", "server"]
PART_KINDS: tuple[PartKind, ...] = ("gpu", "cpu", "ram", "server")

# Which rows of embodied.csv estimate each part. The first is the point figure.
POINT_FACTOR: dict[PartKind, str] = {
    "gpu": "teads_gpu_unit",
    "cpu": "teads_cpu_unit",
    "ram": "teads_dram_per_gb",
    "server": "teads_base_rack_server",
}
CPU_CHIP_FACTOR = "llmcarbon_chip_cpu"
CPU_DIE_FACTOR = "boavizta_cpu_die"
CPU_BASE_FACTOR = "boavizta_cpu_base"
RAM_ALTERNATIVE_FACTOR = "llmcarbon_cpa_dram"
SERVER_ALTERNATIVE_FACTOR = "llmcarbon_chip_others"
SERVER_BOAVIZTA_FACTORS = ("boavizta_motherboard", "boavizta_case_rack", "boavizta_assembly")
SERVER_COMPARISON_FACTOR = "ademe_generic_server"


@dataclass(frozen=True)
class EmbodiedFactor:
    """One row of ``embodied.csv``."""

    id: str
    component: str
    description: str
    value: float
    unit: str
    scope: str
    source: str
    source_url: str
    upstream: str
    license: str
    notes: str

    def cite(self) -> str:
        """``source (id: value unit, scope; licence)``."""
        return (
            f"{self.source} ({self.id}: {self.value:g} {self.unit}, {self.scope}; {self.license})"
        )


@functools.cache
def embodied_factors() -> dict[str, EmbodiedFactor]:
    """``embodied.csv`` indexed by ``id`` (parsed once, on first use)."""
    return {
        row["id"]: EmbodiedFactor(
            id=row["id"],
            component=row["component"],
            description=row["description"],
            value=float(row["value"]),
            unit=row["unit"],
            scope=row["scope"],
            source=row["source"],
            source_url=row["source_url"],
            upstream=row["upstream"],
            license=row["license"],
            notes=row["notes"],
        )
        for row in read_csv(EMBODIED_FILE)
    }


def embodied_factor(factor_id: str) -> EmbodiedFactor:
    """One factor by id; ``KeyError`` naming the id and the file when absent."""
    try:
        return embodied_factors()[factor_id]
    except KeyError:
        raise KeyError(f"embodied factor {factor_id!r} not in {EMBODIED_FILE}") from None


def default_lifetime_years() -> EmbodiedFactor:
    """Teads/CCF's assumed server lifespan (4 years), the default amortisation period."""
    return embodied_factor(LIFESPAN_ID)


@dataclass(frozen=True)
class EmbodiedPart:
    """Hardware to charge: ``quantity`` units (GPU cards, CPUs, servers) or GB (RAM).

    ``die_kgco2eq``/``die_source``: a GPU's die-only figure per unit (LLMCarbon, from
    ``gpu_specs.csv``), used as its low bound. ``die_area_mm2``: a CPU's die area, which
    enables Boavizta's per-area CPU factor as an alternative.
    """

    kind: PartKind
    quantity: float
    name: str = ""
    die_kgco2eq: float | None = None
    die_source: str = ""
    die_area_mm2: float | None = None


@dataclass(frozen=True)
class EmbodiedItem:
    """A part's manufacturing emissions (``manufacturing_*_kg``, for its quantity) and
    the amortised share charged to the job (``kg``, ``low_kg``, ``high_kg``).

    ``source`` cites the point figure; ``alternatives`` every other figure considered,
    per unit, with its boundary; ``comparison`` figures whose boundary overlaps other
    parts, shown but not used in the range.
    """

    kind: str
    name: str
    quantity: float
    unit: str
    kg_per_unit: float
    low_kg_per_unit: float
    high_kg_per_unit: float
    manufacturing_kg: float
    manufacturing_low_kg: float
    manufacturing_high_kg: float
    kg: float
    low_kg: float
    high_kg: float
    source: str
    alternatives: tuple[str, ...]
    comparison: tuple[str, ...]


@dataclass(frozen=True)
class EmbodiedEstimate:
    """Embodied emissions charged to a job: ``Σ manufacturing * fraction * share`` with
    ``fraction = min(1, duration / lifetime)``."""

    kg: float
    low_kg: float
    high_kg: float
    duration_s: float
    lifetime_years: float
    lifetime_source: str
    fraction_of_lifetime: float
    share: float
    items: tuple[EmbodiedItem, ...]
    sources: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Figure:
    kg_per_unit: float
    line: str


def _gpu_figures(part: EmbodiedPart) -> list[_Figure]:
    figures: list[_Figure] = []
    if part.die_kgco2eq is not None:
        figures.append(
            _Figure(
                part.die_kgco2eq,
                f"die only (chip fabrication): {part.die_kgco2eq:g} kg per unit, "
                f"gpu_specs.csv embodied_die_kgco2eq ({part.die_source or 'LLMCarbon'})",
            )
        )
    return figures


def _cpu_figures(part: EmbodiedPart) -> list[_Figure]:
    chip = embodied_factor(CPU_CHIP_FACTOR)
    figures = [_Figure(chip.value, f"die only: {chip.cite()}")]
    if part.die_area_mm2 is not None:
        per_area, base = embodied_factor(CPU_DIE_FACTOR), embodied_factor(CPU_BASE_FACTOR)
        value = per_area.value * part.die_area_mm2 + base.value
        figures.append(
            _Figure(
                value,
                f"Boavizta: {per_area.value:g} kg/mm² * {part.die_area_mm2:g} mm² + "
                f"{base.value:g} kg = {value:.2f} kg per CPU ({per_area.id}, {base.id}; "
                f"{per_area.scope}; {per_area.license})",
            )
        )
    return figures


def _ram_figures(part: EmbodiedPart) -> list[_Figure]:
    alt = embodied_factor(RAM_ALTERNATIVE_FACTOR)
    return [_Figure(alt.value, f"chip fabrication: {alt.cite()}")]


def _server_figures(part: EmbodiedPart) -> list[_Figure]:
    others = embodied_factor(SERVER_ALTERNATIVE_FACTOR)
    rows = [embodied_factor(i) for i in SERVER_BOAVIZTA_FACTORS]
    total = sum(r.value for r in rows)
    terms = " + ".join(f"{r.id} {r.value:g}" for r in rows)
    return [
        _Figure(others.value, f"chip fabrication of the other server parts: {others.cite()}"),
        _Figure(
            total,
            f"Boavizta chassis parts ({terms} = {total:.2f} kg; no power supply, CPU or "
            f"memory; {rows[0].scope}; {rows[0].license})",
        ),
    ]


def _validate_part(part: EmbodiedPart) -> None:
    if part.kind not in PART_KINDS:
        raise ConfigError(f"embodied part kind {part.kind!r}: accepted: {', '.join(PART_KINDS)}")
    if not part.quantity >= 0:
        raise ConfigError(
            f"embodied {part.kind} quantity={part.quantity!r}: must be >= 0 "
            f"({'GB' if part.kind == 'ram' else 'units'})"
        )
    for label, value in (("die_kgco2eq", part.die_kgco2eq), ("die_area_mm2", part.die_area_mm2)):
        if value is not None and not value > 0:
            raise ConfigError(f"embodied {part.kind} {label}={value!r}: must be > 0")


def _item(part: EmbodiedPart, fraction: float, share: float) -> EmbodiedItem:
    _validate_part(part)
    point = embodied_factor(POINT_FACTOR[part.kind])
    figures = {
        "gpu": _gpu_figures,
        "cpu": _cpu_figures,
        "ram": _ram_figures,
        "server": _server_figures,
    }[part.kind](part)
    values = [point.value, *(f.kg_per_unit for f in figures)]
    low, high = min(values), max(values)
    comparison: tuple[str, ...] = ()
    if part.kind == "server":
        ademe = embodied_factor(SERVER_COMPARISON_FACTOR)
        comparison = (
            f"for comparison only (its boundary includes the server's own CPU and memory, "
            f"so it is not added to the range): {ademe.cite()}",
        )
    factor = fraction * share
    total, total_low, total_high = (v * part.quantity for v in (point.value, low, high))
    return EmbodiedItem(
        kind=part.kind,
        name=part.name,
        quantity=part.quantity,
        unit="GB" if part.kind == "ram" else "unit",
        kg_per_unit=point.value,
        low_kg_per_unit=low,
        high_kg_per_unit=high,
        manufacturing_kg=total,
        manufacturing_low_kg=total_low,
        manufacturing_high_kg=total_high,
        kg=total * factor,
        low_kg=total_low * factor,
        high_kg=total_high * factor,
        source=point.cite(),
        alternatives=tuple(f.line for f in figures),
        comparison=comparison,
    )


def embodied_emissions(
    parts: Sequence[EmbodiedPart],
    duration_s: float,
    *,
    lifetime_years: float | None = None,
    share: float = 1.0,
) -> EmbodiedEstimate:
    """Embodied kgCO2e of ``parts`` charged to a job of ``duration_s`` seconds.

    ``lifetime_years`` defaults to Teads/CCF's 4-year server lifespan; ``share`` is the
    share of the machine the job used (0 < share <= 1). A job longer than the lifetime
    is charged the whole manufacturing footprint once (fraction capped at 1).
    """
    if not duration_s >= 0:
        raise ConfigError(f"duration_s={duration_s!r}: must be >= 0 seconds")
    if not 0 < share <= 1:
        raise ConfigError(f"share={share!r}: must be in (0, 1], the share of the machine used")
    lifespan = default_lifetime_years()
    if lifetime_years is None:
        years, lifetime_source = lifespan.value, lifespan.cite()
    elif lifetime_years > 0:
        years, lifetime_source = float(lifetime_years), "given by the user"
    else:
        raise ConfigError(
            f"lifetime_years={lifetime_years!r}: must be > 0 years "
            f"(default {lifespan.value:g}, {lifespan.source})"
        )
    ratio = duration_s / (years * SECONDS_PER_YEAR)
    fraction = min(1.0, ratio)
    items = tuple(_item(part, fraction, share) for part in parts)
    notes = [
        "the point figure of each part is the Teads/CCF factor (cradle-to-gate per "
        "component); low-high spans the other sources' figures for that same part "
        "(LLMCarbon chip fabrication only, Boavizta per component); boundaries are "
        "never added together",
        f"amortised over {years:g} years ({lifetime_source}) * share {share:g}",
    ]
    if ratio > 1:
        notes.append(
            f"the job ({duration_s / SECONDS_PER_YEAR:.2f} years) outlasts the {years:g}-year "
            "lifetime: charged the whole manufacturing footprint once"
        )
    if any(part.kind == "gpu" and part.die_kgco2eq is None for part in parts):
        card = embodied_factor(POINT_FACTOR["gpu"])
        notes.append(
            f"no per-model GPU board LCA is available: GPU cards use Teads' generic "
            f"{card.value:g} kg card (no range where LLMCarbon gives no die figure)"
        )
    sources: list[str] = []
    for item in items:
        for line in (item.source, *item.alternatives, *item.comparison):
            if line not in sources:
                sources.append(line)
    return EmbodiedEstimate(
        kg=sum(i.kg for i in items),
        low_kg=sum(i.low_kg for i in items),
        high_kg=sum(i.high_kg for i in items),
        duration_s=float(duration_s),
        lifetime_years=years,
        lifetime_source=lifetime_source,
        fraction_of_lifetime=fraction,
        share=share,
        items=items,
        sources=tuple(sources),
        notes=tuple(notes),
    )
