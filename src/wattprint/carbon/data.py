"""Lazy, cached loaders of the carbon reference tables in ``wattprint/data/``.

Nothing is read at import time: each table is parsed on first use and kept for the
life of the process. Sources, licences and years are in ``wattprint/data/README.md``.

The Electricity Maps yearly zone file is ODbL-1.0 and lives apart, in
``wattprint/data/odbl/``; a distribution may leave that folder out, so its loader
returns an empty table when the file is missing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from wattprint.datafiles import float_or_none, int_or_none, read_csv

COUNTRY_FILE = "carbon_intensity_country.csv"
COUNTRY_HISTORY_FILE = "carbon_intensity_country_history.csv"
AGGREGATES_FILE = "carbon_intensity_aggregates.csv"
REGION_FILE = "carbon_intensity_region.csv"
CLOUD_FILE = "cloud_regions.csv"
GCP_HISTORY_FILE = "gcp_region_carbon_history.csv"
PUE_FILE = "pue.csv"
EQUIVALENCES_FILE = "equivalences.csv"
ZONES_FILE = "odbl/carbon_intensity_zones_electricitymaps.csv"

WORLD_ENTITY = "World"
"""OWID's entity name for the world aggregate in ``carbon_intensity_aggregates.csv``."""


@dataclass(frozen=True)
class CountryRow:
    """One country and year (latest file or history file)."""

    iso3: str
    iso2: str
    name: str
    year: int
    g_per_kwh: float
    source: str
    source_url: str
    license: str


@dataclass(frozen=True)
class AggregateRow:
    """One OWID/Ember aggregate (World, continents, income groups…) and year."""

    entity: str
    owid_code: str
    year: int
    g_per_kwh: float
    source: str
    source_url: str
    license: str


@dataclass(frozen=True)
class RegionRow:
    """One sub-national figure (US state, Canadian province, NERC region…)."""

    region_code: str
    source_region_code: str
    country_iso2: str
    name: str
    region_type: str
    year: int
    g_per_kwh: float
    basis: str
    source: str
    source_url: str
    license: str


@dataclass(frozen=True)
class CloudRow:
    """One (provider, region, source) row of ``cloud_regions.csv``."""

    provider: str
    region_id: str
    region_name: str
    city: str
    country_iso2: str
    subdivision_iso: str
    g_per_kwh: float | None
    year: int | None
    basis: str
    pue: float | None
    pue_scope: str
    pue_year: int | None
    pue_source: str
    preferred: bool
    source: str
    source_url: str
    license: str
    notes: str


@dataclass(frozen=True)
class GcpHistoryRow:
    """One GCP region and year from Google's region carbon data."""

    region_id: str
    location: str
    year: int
    g_per_kwh: float
    basis: str  # "lifecycle" (2019-2020) or "operational" (2021 on)


@dataclass(frozen=True)
class PueRow:
    """One row of ``pue.csv``."""

    scope: str
    entity: str
    pue: float
    year: int | None
    source_name: str
    source_url: str
    provider_default: bool
    notes: str


@dataclass(frozen=True)
class EquivalenceRow:
    """One row of ``equivalences.csv``."""

    id: str
    description: str
    kg_per_unit: float
    unit: str
    source: str
    source_url: str
    license: str
    notes: str


@dataclass(frozen=True)
class ZoneRow:
    """One Electricity Maps zone and year (ODbL-1.0)."""

    zone_id: str
    name: str
    country_iso2: str
    zone_type: str
    year: int
    g_per_kwh: float


@functools.cache
def country_rows() -> tuple[CountryRow, ...]:
    """``carbon_intensity_country.csv``: the latest year for each country."""
    return tuple(
        CountryRow(
            iso3=r["iso3"],
            iso2=r["iso2"],
            name=r["country_name"],
            year=int(r["year"]),
            g_per_kwh=float(r["carbon_intensity_gco2eq_per_kwh"]),
            source=r["source"],
            source_url=r["source_url"],
            license=r["license"],
        )
        for r in read_csv(COUNTRY_FILE)
    )


@functools.cache
def country_history() -> dict[str, dict[int, float]]:
    """``carbon_intensity_country_history.csv`` as ``{iso2: {year: g/kWh}}``."""
    table: dict[str, dict[int, float]] = {}
    for r in read_csv(COUNTRY_HISTORY_FILE):
        table.setdefault(r["iso2"], {})[int(r["year"])] = float(
            r["carbon_intensity_gco2eq_per_kwh"]
        )
    return table


@functools.cache
def aggregate_rows() -> tuple[AggregateRow, ...]:
    """``carbon_intensity_aggregates.csv``: OWID/Ember aggregates, plus the old IEA world row."""
    return tuple(
        AggregateRow(
            entity=r["entity"],
            owid_code=r["owid_code"],
            year=int(r["year"]),
            g_per_kwh=float(r["carbon_intensity_gco2eq_per_kwh"]),
            source=r["source"],
            source_url=r["source_url"],
            license=r["license"],
        )
        for r in read_csv(AGGREGATES_FILE)
    )


@functools.cache
def region_rows() -> tuple[RegionRow, ...]:
    """``carbon_intensity_region.csv``: sub-national figures (several rows per region)."""
    return tuple(
        RegionRow(
            region_code=r["region_code"],
            source_region_code=r["source_region_code"],
            country_iso2=r["country_iso2"],
            name=r["region_name"],
            region_type=r["region_type"],
            year=int(r["year"]),
            g_per_kwh=float(r["carbon_intensity_gco2eq_per_kwh"]),
            basis=r["basis"],
            source=r["source"],
            source_url=r["source_url"],
            license=r["license"],
        )
        for r in read_csv(REGION_FILE)
    )


@functools.cache
def cloud_rows() -> tuple[CloudRow, ...]:
    """``cloud_regions.csv``: one row per (provider, region, source)."""
    return tuple(
        CloudRow(
            provider=r["provider"].strip().lower(),
            region_id=r["region_id"],
            region_name=r["region_name"],
            city=r["city"],
            country_iso2=r["country_iso2"],
            subdivision_iso=r["subdivision_iso"],
            g_per_kwh=float_or_none(r["grid_intensity_gco2eq_per_kwh"]),
            year=int_or_none(r["intensity_year"]),
            basis=r["intensity_basis"],
            pue=float_or_none(r["pue"]),
            pue_scope=r["pue_scope"],
            pue_year=int_or_none(r["pue_year"]),
            pue_source=r["pue_source"],
            preferred=r["preferred"].strip().lower() == "true",
            source=r["source"],
            source_url=r["source_url"],
            license=r["license"],
            notes=r["notes"],
        )
        for r in read_csv(CLOUD_FILE)
    )


@functools.cache
def gcp_history() -> dict[str, dict[int, GcpHistoryRow]]:
    """``gcp_region_carbon_history.csv`` as ``{region_id: {year: row}}``."""
    table: dict[str, dict[int, GcpHistoryRow]] = {}
    for r in read_csv(GCP_HISTORY_FILE):
        row = GcpHistoryRow(
            region_id=r["region_id"],
            location=r["location"],
            year=int(r["year"]),
            g_per_kwh=float(r["grid_intensity_gco2eq_per_kwh"]),
            basis=r["intensity_basis"],
        )
        table.setdefault(row.region_id, {})[row.year] = row
    return table


@functools.cache
def pue_rows() -> tuple[PueRow, ...]:
    """``pue.csv``: published PUE figures, hand-written from the cited pages."""
    return tuple(
        PueRow(
            scope=r["scope"],
            entity=r["entity"],
            pue=float(r["pue"]),
            year=int_or_none(r["year"]),
            source_name=r["source_name"],
            source_url=r["source_url"],
            provider_default=r["use_as_provider_default"].strip().lower() == "yes",
            notes=r["notes"],
        )
        for r in read_csv(PUE_FILE)
    )


@functools.cache
def equivalence_rows() -> dict[str, EquivalenceRow]:
    """``equivalences.csv`` indexed by ``id``."""
    return {
        r["id"]: EquivalenceRow(
            id=r["id"],
            description=r["description"],
            kg_per_unit=float(r["kgco2eq_per_unit"]),
            unit=r["unit"],
            source=r["source"],
            source_url=r["source_url"],
            license=r["license"],
            notes=r["notes"],
        )
        for r in read_csv(EQUIVALENCES_FILE)
    }


@functools.cache
def zone_rows() -> tuple[ZoneRow, ...]:
    """Electricity Maps yearly zone averages (ODbL-1.0); empty when the file is not shipped."""
    try:
        raw = read_csv(ZONES_FILE)
    except (FileNotFoundError, OSError):
        return ()
    return tuple(
        ZoneRow(
            zone_id=r["zone_id"],
            name=r["zone_name"],
            country_iso2=r["country_iso2"],
            zone_type=r["zone_type"],
            year=int(r["year"]),
            g_per_kwh=float(r["carbon_intensity_gco2eq_per_kwh"]),
        )
        for r in raw
    )


@functools.cache
def zone_years() -> dict[str, dict[int, float]]:
    """Electricity Maps yearly figures as ``{zone_id: {year: g/kWh}}``."""
    table: dict[str, dict[int, float]] = {}
    for row in zone_rows():
        table.setdefault(row.zone_id, {})[row.year] = row.g_per_kwh
    return table
