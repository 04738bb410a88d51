"""Yearly average grid carbon intensity of a location, with the spread of the sources.

Preferred figure per kind of location:

- country: ``carbon_intensity_country.csv`` (OWID / Ember, latest year); ``year=``
  reads ``carbon_intensity_country_history.csv``;
- region: the newest row of ``carbon_intensity_region.csv`` for that region;
- cloud: the preferred row of ``cloud_regions.csv`` (GCP: ``gcp_region_carbon_history.csv``
  for ``year=``); a region without a factor falls back to its sub-national region
  figure, else to its country's figure, and says so;
- world: OWID's World aggregate, latest year.

``low``/``high`` are the minimum and maximum over the independent figures the data
holds for the same place, each source taken at its year nearest the central figure's
year and no further than ``RANGE_WINDOW_YEARS`` from it (cloud alternatives state no
year and always count). With a single figure, low = high = the figure.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from wattprint.carbon import data
from wattprint.carbon.location import Location, all_locations, resolve_location
from wattprint.errors import ConfigError

RANGE_WINDOW_YEARS = 6
"""How far (years) another source's figure may be from the central figure's year to
count in the low/high range. Six keeps the IEA 2018 world figure next to OWID 2024."""

OWID_SOURCE = "Our World in Data / Ember (2025)"
OWID_BASIS = (
    "annual grid average, generation-based (domestic production, imports excluded) with "
    "life-cycle emission factors per fuel (Ember method); CC-BY-4.0: Our World in Data "
    "based on Ember (2025) and Energy Institute - Statistical Review of World Energy (2024)"
)
WORLD_WARNING = "world average: no country, region or cloud region given"


@dataclass(frozen=True)
class Intensity:
    """A yearly grid carbon intensity (gCO2e per kWh) and where it comes from."""

    g_per_kwh: float
    low_g_per_kwh: float  # spread of the sources for this place
    high_g_per_kwh: float
    source: str  # e.g. "Our World in Data / Ember (2025)"
    year: int | None  # year of the data
    basis: str  # one line: what the figure is, and its licence
    location: Location
    warning: str | None = None  # e.g. "world average: no country, region or cloud region given"


# ---------------------------------------------------------------- indexes (lazy)


@functools.cache
def _countries() -> dict[str, data.CountryRow]:
    return {row.iso2: row for row in data.country_rows()}


@functools.cache
def _regions() -> dict[str, tuple[data.RegionRow, ...]]:
    table: dict[str, list[data.RegionRow]] = {}
    for row in data.region_rows():
        table.setdefault(row.region_code, []).append(row)
    return {code: tuple(sorted(rows, key=lambda r: -r.year)) for code, rows in table.items()}


@functools.cache
def _clouds() -> dict[str, tuple[data.CloudRow, ...]]:
    """``provider:region`` → rows, the preferred row first."""
    table: dict[str, list[data.CloudRow]] = {}
    for row in data.cloud_rows():
        table.setdefault(f"{row.provider}:{row.region_id}", []).append(row)
    return {
        code: tuple(sorted(rows, key=lambda r: not r.preferred)) for code, rows in table.items()
    }


def _nearest(by_year: dict[int, float], year: int) -> float | None:
    """The figure of the year nearest ``year`` (newer wins a tie) within the window."""
    best: tuple[int, int] | None = None
    for y in by_year:
        gap = abs(y - year)
        if gap > RANGE_WINDOW_YEARS:
            continue
        rank = (gap, -y)
        if best is None or rank < best:
            best = rank
    return None if best is None else by_year[-best[1]]


def _build(
    g: float,
    others: list[float],
    *,
    source: str,
    year: int | None,
    basis: str,
    location: Location,
    warning: str | None = None,
) -> Intensity:
    figures = [g, *others]
    return Intensity(
        g_per_kwh=g,
        low_g_per_kwh=min(figures),
        high_g_per_kwh=max(figures),
        source=source,
        year=year,
        basis=basis,
        location=location,
        warning=warning,
    )


def _years_message(what: str, year: int, years: list[int]) -> str:
    listed = ", ".join(str(y) for y in sorted(set(years))) or "none"
    return f"no {year} grid intensity for {what}: available years: {listed}"


# ---------------------------------------------------------------- per kind


def _country(location: Location, year: int | None) -> Intensity:
    iso2 = location.code
    row = _countries().get(iso2)
    if row is None:
        raise ConfigError(f"no grid intensity for country {iso2!r}")
    if year is None or year == row.year:
        g, y = row.g_per_kwh, row.year
    else:
        history = data.country_history().get(iso2, {})
        if year not in history:
            years = [*history, row.year]
            raise ConfigError(_years_message(f"{location.name} ({iso2})", year, years))
        g, y = history[year], year
    return _build(
        g,
        _country_others(iso2, y),
        source=OWID_SOURCE,
        year=y,
        basis=OWID_BASIS,
        location=location,
    )


def _country_others(iso2: str, year: int) -> list[float]:
    """Independent figures for a country: Electricity Maps' yearly value (ODbL file,
    when shipped) and sub-national rows filed under the country's own code (HK)."""
    others: list[float] = []
    em = _nearest(data.zone_years().get(iso2, {}), year)
    if em is not None:
        others.append(em)
    for r in _regions().get(iso2, ()):
        if abs(r.year - year) <= RANGE_WINDOW_YEARS:
            others.append(r.g_per_kwh)
    return others


def _region(location: Location, year: int | None) -> Intensity:
    rows = list(_regions().get(location.code, ()))
    if not rows:
        raise ConfigError(f"no grid intensity for region {location.code!r}")
    if year is None:
        central = rows[0]  # newest
    else:
        same = [r for r in rows if r.year == year]
        if not same:
            raise ConfigError(
                _years_message(f"{location.name} ({location.code})", year, [r.year for r in rows])
            )
        central = same[0]
    others = [
        r.g_per_kwh
        for r in rows
        if r is not central and abs(r.year - central.year) <= RANGE_WINDOW_YEARS
    ]
    em = _nearest(data.zone_years().get(location.code, {}), central.year)
    if em is not None:
        others.append(em)
    return _build(
        central.g_per_kwh,
        others,
        source=central.source,
        year=central.year,
        basis=f"{central.basis}; {central.license}",
        location=location,
    )


def _cloud(location: Location, year: int | None) -> Intensity:
    rows = list(_clouds().get(location.code, ()))
    if not rows or not rows[0].preferred:
        raise ConfigError(f"no grid intensity for cloud region {location.code!r}")
    pref, alternatives = rows[0], rows[1:]
    alt_figures = [r.g_per_kwh for r in alternatives if r.g_per_kwh is not None]

    if pref.g_per_kwh is None:
        # No published factor (newer AWS regions): the sub-national region, else the country.
        target = None
        if pref.subdivision_iso and pref.subdivision_iso in _regions():
            target = resolve_location(pref.subdivision_iso)
        elif pref.country_iso2:
            target = resolve_location(pref.country_iso2)
        if target is None:
            raise ConfigError(f"no grid intensity for cloud region {location.code!r}")
        inner = yearly_intensity(target, year)
        note = f"no published factor for {location.code}: {target.name} ({target.code}) figure used"
        return _build(
            inner.g_per_kwh,
            [inner.low_g_per_kwh, inner.high_g_per_kwh, *alt_figures],
            source=inner.source,
            year=inner.year,
            basis=f"{note}; {inner.basis}",
            location=location,
            warning=note,
        )

    if year is not None and year != pref.year:
        if pref.provider == "gcp":
            history = data.gcp_history().get(pref.region_id, {})
            if year not in history:
                raise ConfigError(_years_message(location.code, year, list(history)))
            h = history[year]
            basis = (
                f"Google-published grid carbon intensity ({h.basis}), location-based; "
                f"{pref.license}"
            )
            return _build(
                h.g_per_kwh,
                [*alt_figures, *_country_figure(pref.country_iso2, year)],
                source=pref.source,
                year=year,
                basis=basis,
                location=location,
            )
        stated = str(pref.year) if pref.year is not None else "year not stated"
        where = pref.subdivision_iso if pref.subdivision_iso in _regions() else pref.country_iso2
        raise ConfigError(
            f"no {year} grid intensity for {location.code}: the table holds one figure for it "
            f"({stated}), not a yearly series; accepted: no year, or the location "
            f"{where!r} whose yearly history is available"
        )

    return _build(
        pref.g_per_kwh,
        [*alt_figures, *_country_figure(pref.country_iso2, pref.year)],
        source=pref.source,
        year=pref.year,
        basis=f"{pref.basis}; {pref.license}",
        location=location,
    )


def _country_figure(iso2: str, year: int | None) -> list[float]:
    """The country's OWID figure for ``year`` when held, else its latest."""
    row = _countries().get(iso2)
    if row is None:
        return []
    if year is not None:
        value = data.country_history().get(iso2, {}).get(year)
        if value is not None:
            return [value]
    return [row.g_per_kwh]


def _world(location: Location, year: int | None) -> Intensity:
    rows = [r for r in data.aggregate_rows() if r.entity == data.WORLD_ENTITY]
    if year is None:
        central = max(rows, key=lambda r: r.year)
    else:
        same = [r for r in rows if r.year == year]
        if not same:
            raise ConfigError(_years_message("the world", year, [r.year for r in rows]))
        central = same[0]
    others = [
        r.g_per_kwh
        for r in data.aggregate_rows()
        if r.entity != data.WORLD_ENTITY
        and r.entity.startswith(data.WORLD_ENTITY + " (")
        and abs(r.year - central.year) <= RANGE_WINDOW_YEARS
    ]
    return _build(
        central.g_per_kwh,
        others,
        source=OWID_SOURCE,
        year=central.year,
        basis=OWID_BASIS,
        location=location,
        warning=WORLD_WARNING,
    )


# ---------------------------------------------------------------- public


def yearly_intensity(location: Location, year: int | None = None) -> Intensity:
    """The yearly grid intensity of ``location``: the latest year, or ``year``.

    ``ConfigError`` when ``year`` has no data for that place (the message lists the
    years that have).
    """
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise ConfigError(f"year {year!r} is not a whole year; accepted: e.g. 2023, or none")
    if location.kind == "country":
        return _country(location, year)
    if location.kind == "region":
        return _region(location, year)
    if location.kind == "cloud":
        return _cloud(location, year)
    return _world(location, year)


def list_regions(kind: str | None = None) -> list[tuple[Location, Intensity]]:
    """Every known location of ``kind`` (or all) with its latest yearly intensity."""
    return [(loc, yearly_intensity(loc)) for loc in all_locations(kind)]


def describe_intensity(intensity: Intensity) -> str:
    """One line for reports: figure, place, source and year."""
    year = f", {intensity.year}" if intensity.year is not None else ""
    return (
        f"{intensity.g_per_kwh:g} gCO2e/kWh for {intensity.location.name} "
        f"({intensity.source}{year})"
    )
