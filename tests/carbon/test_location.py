from __future__ import annotations

import pytest

from wattprint.carbon import resolve_location
from wattprint.carbon.location import WORLD, all_locations
from wattprint.errors import ConfigError


@pytest.mark.parametrize("code", [None, "", "   ", "WORLD", "world"])
def test_world(code: str | None) -> None:
    assert resolve_location(code) == WORLD
    assert WORLD.kind == "world" and WORLD.country is None


@pytest.mark.parametrize("code", ["FR", "fr", "FRA", "fra", "France", "FRANCE", " france "])
def test_country_spellings(code: str) -> None:
    loc = resolve_location(code)
    assert (loc.code, loc.kind, loc.name, loc.country, loc.provider) == (
        "FR",
        "country",
        "France",
        "FR",
        None,
    )


def test_namibia_is_not_a_missing_value() -> None:
    assert resolve_location("NA").name == "Namibia"


@pytest.mark.parametrize(
    ("code", "canonical", "country"),
    [
        ("US-CA", "US-CA", "US"),
        ("us-ca", "US-CA", "US"),
        ("CA-QC", "CA-QC", "CA"),
        ("AU-NSW", "AU-NSW", "AU"),
        ("RFC", "US-NERC-RFC", "US"),
        ("nerc-serc", "US-NERC-SERC", "US"),
        ("US-NERC-WECC", "US-NERC-WECC", "US"),
        ("California", "US-CA", "US"),
    ],
)
def test_regions(code: str, canonical: str, country: str) -> None:
    loc = resolve_location(code)
    assert loc.kind == "region"
    assert loc.code == canonical
    assert loc.country == country


def test_region_name_format() -> None:
    assert resolve_location("US-CA").name == "California, US"


def test_country_wins_over_region_and_names() -> None:
    # HK is both a country (OWID) and a utility-area code in the region file.
    assert resolve_location("HK").kind == "country"
    # Georgia is a country and a US state: the country wins, the state has its code.
    assert resolve_location("Georgia").code == "GE"
    assert resolve_location("US-GA").name == "Georgia, US"


@pytest.mark.parametrize(
    ("code", "canonical", "provider", "country"),
    [
        ("aws:eu-west-3", "aws:eu-west-3", "aws", "FR"),
        ("AWS:EU-WEST-3", "aws:eu-west-3", "aws", "FR"),
        ("aws : eu-west-3", "aws:eu-west-3", "aws", "FR"),
        ("gcp:europe-west1", "gcp:europe-west1", "gcp", "BE"),
        ("azure:westeurope", "azure:westeurope", "azure", "NL"),
        ("ovh:gra", "ovh:gra", "ovh", "FR"),
        ("scaleway:fr-par", "scaleway:fr-par", "scaleway", "FR"),
        ("coreweave:lga1", "coreweave:LGA1", "coreweave", "US"),
    ],
)
def test_cloud(code: str, canonical: str, provider: str, country: str) -> None:
    loc = resolve_location(code)
    assert (loc.code, loc.kind, loc.provider, loc.country) == (
        canonical,
        "cloud",
        provider,
        country,
    )


def test_cloud_name() -> None:
    assert resolve_location("aws:eu-west-3").name == "AWS eu-west-3 (Paris)"


def test_every_preferred_cloud_row_resolves() -> None:
    from wattprint.carbon import data

    for row in data.cloud_rows():
        if row.preferred:
            assert resolve_location(f"{row.provider}:{row.region_id}").kind == "cloud"


def test_non_preferred_only_rows_are_not_locations() -> None:
    # Seeweb has only a market-based (0 g/kWh, preferred=false) row.
    with pytest.raises(ConfigError, match=r"unknown cloud provider 'seeweb'"):
        resolve_location("seeweb:fro2")


def test_unknown_lists_close_matches_and_how_to_list() -> None:
    with pytest.raises(ConfigError) as err:
        resolve_location("Frnace")
    message = str(err.value)
    assert "'Frnace'" in message
    assert "FR (France)" in message
    assert "wattprint regions" in message


def test_unknown_cloud_region_suggests_same_provider() -> None:
    with pytest.raises(ConfigError) as err:
        resolve_location("aws:eu-west-9")
    message = str(err.value)
    assert "aws:eu-west-3" in message
    suggestions = message.split("did you mean")[1].split("?")[0]
    assert "gcp:" not in suggestions
    assert suggestions.count("aws:") == 5  # at most five suggestions


def test_unknown_provider_lists_providers() -> None:
    with pytest.raises(ConfigError, match=r"accepted providers: .*aws.*gcp|gcp.*aws"):
        resolve_location("oracle:us-phoenix-1")


def test_nothing_close() -> None:
    with pytest.raises(ConfigError, match=r"unknown location 'zzzzzzzz':  ?accepted"):
        resolve_location("zzzzzzzz")


def test_all_locations_by_kind() -> None:
    assert all_locations("world") == (WORLD,)
    assert len(all_locations("country")) == 214
    assert {loc.kind for loc in all_locations()} == {"world", "country", "region", "cloud"}
    with pytest.raises(ConfigError, match=r"unknown location kind 'planet'"):
        all_locations("planet")
