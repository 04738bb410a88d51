from __future__ import annotations

import pytest

from wattprint.carbon import list_regions, resolve_location, yearly_intensity
from wattprint.carbon.intensity import OWID_SOURCE, WORLD_WARNING
from wattprint.errors import ConfigError

# Figures below are read from the shipped CSV files (see src/wattprint/data/README.md).


def test_world_is_owid_latest_with_iea_as_range() -> None:
    i = yearly_intensity(resolve_location(None))
    assert i.g_per_kwh == 473.01
    assert i.year == 2024
    assert i.source == OWID_SOURCE
    assert (i.low_g_per_kwh, i.high_g_per_kwh) == (473.01, 475.0)
    assert i.warning == WORLD_WARNING


def test_world_year() -> None:
    assert yearly_intensity(resolve_location("WORLD"), 2015).g_per_kwh == 533.2
    with pytest.raises(ConfigError, match=r"available years: 2015, .*2024"):
        yearly_intensity(resolve_location("WORLD"), 1990)


def test_country_latest_and_electricity_maps_spread() -> None:
    i = yearly_intensity(resolve_location("FR"))
    assert (i.g_per_kwh, i.year) == (44.18, 2024)
    # Electricity Maps (ODbL) 2024 yearly value for FR is 33.
    assert (i.low_g_per_kwh, i.high_g_per_kwh) == (33.0, 44.18)
    assert "CC-BY-4.0" in i.basis
    assert i.warning is None


def test_country_year_from_history() -> None:
    i = yearly_intensity(resolve_location("DE"), 2019)
    assert (i.g_per_kwh, i.year) == (392.49, 2019)
    # Electricity Maps starts in 2021: its nearest year (2021: 439) is in the window.
    assert i.high_g_per_kwh == 439.0


def test_country_year_without_data_lists_years() -> None:
    with pytest.raises(ConfigError) as err:
        yearly_intensity(resolve_location("DE"), 2030)
    assert "2030" in str(err.value)
    assert "Germany" in str(err.value)
    assert "available years: 2015, 2016" in str(err.value)


def test_country_with_only_one_source() -> None:
    i = yearly_intensity(resolve_location("EH"))  # Western Sahara: 2009, no EM figure near
    assert i.low_g_per_kwh == i.g_per_kwh == i.high_g_per_kwh


def test_region_newest_row_and_older_as_range() -> None:
    i = yearly_intensity(resolve_location("US-CA"))
    assert (i.g_per_kwh, i.year) == (216.43, 2020)  # Green Algorithms (2020)
    assert i.low_g_per_kwh == 205.27  # eGRID2016, converted from lb/MWh
    assert i.high_g_per_kwh == 216.43
    assert "CC-BY-4.0" in i.basis


def test_region_year() -> None:
    i = yearly_intensity(resolve_location("US-CA"), 2016)
    assert (i.g_per_kwh, i.year) == (205.27, 2016)
    with pytest.raises(ConfigError, match=r"available years: 2016, 2020"):
        yearly_intensity(resolve_location("US-CA"), 2018)


def test_nerc_region_single_figure() -> None:
    i = yearly_intensity(resolve_location("RFC"))
    assert i.g_per_kwh == i.low_g_per_kwh == i.high_g_per_kwh == 410.61


def test_cloud_preferred_row_and_range() -> None:
    i = yearly_intensity(resolve_location("aws:eu-west-3"))
    assert i.g_per_kwh == 51.1  # CCF factor
    assert i.source == "Cloud Carbon Footprint default emission factors"
    assert i.low_g_per_kwh == 44.18  # France, OWID 2024
    assert i.high_g_per_kwh == 105.0  # mlco2 alternative row
    assert "Apache-2.0" in i.basis


def test_gcp_latest_and_history() -> None:
    latest = yearly_intensity(resolve_location("gcp:europe-west1"))
    assert (latest.g_per_kwh, latest.year) == (103.37, 2024)
    old = yearly_intensity(resolve_location("gcp:europe-west1"), 2020)
    assert old.year == 2020
    assert "lifecycle" in old.basis
    with pytest.raises(ConfigError, match=r"available years"):
        yearly_intensity(resolve_location("gcp:europe-west1"), 2012)


def test_cloud_year_without_series_is_refused_with_alternative() -> None:
    with pytest.raises(ConfigError, match=r"not a yearly series.*'FR'"):
        yearly_intensity(resolve_location("aws:eu-west-3"), 2022)


def test_aws_region_without_factor_falls_back_and_says_so() -> None:
    i = yearly_intensity(resolve_location("aws:ap-south-2"))
    india = yearly_intensity(resolve_location("IN"))
    assert i.g_per_kwh == india.g_per_kwh
    assert "no published factor for aws:ap-south-2" in i.basis
    assert i.warning and "India" in i.warning
    assert i.location.code == "aws:ap-south-2"


def test_aws_region_without_factor_prefers_its_subdivision() -> None:
    i = yearly_intensity(resolve_location("aws:ca-west-1"))  # Calgary: Alberta, not Canada
    assert i.g_per_kwh == yearly_intensity(resolve_location("CA-AB")).g_per_kwh
    assert "Alberta" in i.basis


def test_bad_year_type() -> None:
    with pytest.raises(ConfigError, match=r"not a whole year"):
        yearly_intensity(resolve_location("FR"), "2020")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [None, "world", "country", "region", "cloud"])
def test_list_regions(kind: str | None) -> None:
    rows = list_regions(kind)
    assert rows
    for loc, i in rows:
        assert kind is None or loc.kind == kind
        assert i.location == loc
        assert i.low_g_per_kwh <= i.g_per_kwh <= i.high_g_per_kwh
        assert i.g_per_kwh >= 0
        assert i.source and i.basis


def test_list_regions_bad_kind() -> None:
    with pytest.raises(ConfigError, match=r"accepted: world, country, region, cloud"):
        list_regions("continent")
