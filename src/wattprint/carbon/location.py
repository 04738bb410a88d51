"""Where the electricity was used: a country, a sub-national region, a cloud region or
the world, resolved from what a user types.

Accepted spellings (case-insensitive): ISO 3166-1 alpha-2 and alpha-3 codes and the
country names of ``carbon_intensity_country.csv``; the region codes of
``carbon_intensity_region.csv`` (ISO 3166-2 such as ``US-CA``, ``CA-QC``, ``AU-NSW``;
US NERC regions as ``US-NERC-RFC``, ``NERC-RFC`` or ``RFC``) and their names;
``provider:region`` for every preferred row of ``cloud_regions.csv``; ``WORLD``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from wattprint.errors import ConfigError

LocationKind = Literal["world", "country", "region", "cloud"]
KINDS: tuple[LocationKind, ...] = ("world", "country", "region", "cloud")

WORLD_CODE = "WORLD"

# Display names of the providers in ``cloud_regions.csv`` (naming only, no figures).
PROVIDER_NAMES = {
    "aws": "AWS",
    "gcp": "GCP",
    "azure": "Azure",
    "ovh": "OVHcloud",
    "scaleway": "Scaleway",
    "coreweave": "CoreWeave",
    "seeweb": "Seeweb",
}

_HOW_TO = (
    "accepted: an ISO country code or name (FR, FRA, France), a region code (US-CA, "
    "CA-QC, AU-NSW, a US NERC region such as RFC), a cloud region as provider:region "
    "(aws:eu-west-3, gcp:europe-west1, azure:westeurope) or WORLD; "
    "`wattprint regions` lists them all"
)


@dataclass(frozen=True)
class Location:
    """A place whose grid carbon intensity can be looked up."""

    code: str  # canonical: "FR", "US-CA", "aws:eu-west-3", "gcp:europe-west1", "WORLD"
    kind: LocationKind
    name: str  # "France", "California, US", "AWS eu-west-3 (Paris)"
    country: str | None  # ISO alpha-2 of the country it is in, when known
    provider: str | None  # "aws" | "gcp" | "azure" | ... for cloud regions


WORLD = Location(code=WORLD_CODE, kind="world", name="World", country=None, provider=None)


def provider_name(provider: str) -> str:
    """Display name of a cloud provider key (``aws`` → ``AWS``)."""
    return PROVIDER_NAMES.get(provider, provider.capitalize())


@dataclass(frozen=True)
class _Index:
    by_key: dict[str, Location]  # lower-cased spelling → location
    by_kind: dict[str, tuple[Location, ...]]
    providers: tuple[str, ...]


@functools.cache
def _index() -> _Index:
    from wattprint.carbon import data

    by_key: dict[str, Location] = {}
    by_kind: dict[str, list[Location]] = {kind: [] for kind in KINDS}

    by_kind["world"].append(WORLD)
    by_key["world"] = WORLD

    for crow in data.country_rows():
        loc = Location(
            code=crow.iso2, kind="country", name=crow.name, country=crow.iso2, provider=None
        )
        by_kind["country"].append(loc)
        for key in (crow.iso2, crow.iso3, crow.name):
            by_key.setdefault(key.lower(), loc)

    newest: dict[str, data.RegionRow] = {}
    for row in data.region_rows():
        if row.region_code.lower() in by_key:
            continue  # e.g. HK: a country in its own right; its rows serve as range input
        kept = newest.get(row.region_code)
        if kept is None or row.year > kept.year:
            newest[row.region_code] = row
    names: dict[str, list[Location]] = {}
    for code, row in sorted(newest.items()):
        if row.region_type == "NERC region":
            name = f"{row.name} (NERC region), {row.country_iso2}"
        else:
            name = f"{row.name}, {row.country_iso2}"
        loc = Location(code=code, kind="region", name=name, country=row.country_iso2, provider=None)
        by_kind["region"].append(loc)
        by_key[code.lower()] = loc
        by_key.setdefault(name.lower(), loc)
        if row.region_type == "NERC region":
            short = row.source_region_code.lower()
            by_key.setdefault(short, loc)
            by_key.setdefault(f"nerc-{short}", loc)
        names.setdefault(row.name.lower(), []).append(loc)
    for name, locs in names.items():
        if len(locs) == 1:  # a bare region name only when unambiguous and not a country
            by_key.setdefault(name, locs[0])

    providers: list[str] = []
    for c in data.cloud_rows():
        if not c.preferred:
            continue
        code = f"{c.provider}:{c.region_id}"
        if code.lower() in by_key:
            continue
        place = c.city or c.region_name
        loc = Location(
            code=code,
            kind="cloud",
            name=f"{provider_name(c.provider)} {c.region_id} ({place})",
            country=c.country_iso2 or None,
            provider=c.provider,
        )
        by_kind["cloud"].append(loc)
        by_key[code.lower()] = loc
        if c.provider not in providers:
            providers.append(c.provider)

    return _Index(
        by_key=by_key,
        by_kind={kind: tuple(locs) for kind, locs in by_kind.items()},
        providers=tuple(providers),
    )


def _normalise(text: str) -> str:
    text = " ".join(text.strip().split()).lower()
    if ":" in text:
        provider, _, region = text.partition(":")
        text = f"{provider.strip()}:{region.strip()}"
    return text


def resolve_location(code: str | None) -> Location:
    """The ``Location`` for ``code``; ``None`` or ``""`` is the world (callers warn).

    Raises ``ConfigError`` naming the value, up to five close matches and how to list
    every accepted code when nothing matches.
    """
    if code is None or not code.strip():
        return WORLD
    index = _index()
    key = _normalise(code)
    found = index.by_key.get(key)
    if found is not None:
        return found
    raise ConfigError(_unknown_message(code, key, index))


def _unknown_message(code: str, key: str, index: _Index) -> str:
    import difflib

    if ":" in key:
        provider, _, _region = key.partition(":")
        if provider not in index.providers:
            return (
                f"unknown cloud provider {provider!r} in location {code!r}: accepted providers: "
                f"{', '.join(index.providers)}; `wattprint regions` lists their regions"
            )
        pool = {loc.code.lower(): loc for loc in index.by_kind["cloud"] if loc.provider == provider}
    else:
        pool = index.by_key
    candidates = difflib.get_close_matches(key, list(pool), n=20, cutoff=0.6)
    matches: list[Location] = []
    for cand in candidates:
        loc = pool[cand]
        if loc not in matches:
            matches.append(loc)
    hint = ""
    if matches:
        hint = " did you mean " + ", ".join(f"{m.code} ({m.name})" for m in matches[:5]) + "?"
    return f"unknown location {code!r}:{hint} {_HOW_TO}"


def all_locations(kind: str | None = None) -> tuple[Location, ...]:
    """Every location of ``kind`` (all kinds when ``None``), in a stable order."""
    index = _index()
    if kind is None:
        return tuple(loc for k in KINDS for loc in index.by_kind[k])
    if kind not in index.by_kind:
        raise ConfigError(
            f"unknown location kind {kind!r}: accepted: {', '.join(KINDS)}, or none for all"
        )
    return index.by_kind[kind]
