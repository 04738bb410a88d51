from __future__ import annotations

import math

import pytest

from wattprint.carbon import resolve_location, resolve_pue
from wattprint.carbon.pue import DEFAULT_REASON, industry_average_pue
from wattprint.errors import ConfigError


def test_user_value_wins() -> None:
    pue = resolve_pue(1.3, resolve_location("aws:eu-west-3"))
    assert (pue.value, pue.reason) == (1.3, "given by the user")


def test_exactly_one_is_accepted() -> None:
    assert resolve_pue(1.0, resolve_location("FR")).value == 1.0


@pytest.mark.parametrize("bad", [0.9, 0.0, -1.2])
def test_below_one_rejected(bad: float) -> None:
    with pytest.raises(ConfigError) as err:
        resolve_pue(bad, resolve_location("FR"))
    message = str(err.value)
    assert f"PUE {bad!r} is below 1" in message
    assert "accepted: a number ≥ 1" in message


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_rejected(bad: float) -> None:
    with pytest.raises(ConfigError, match=r"not a finite number.*accepted: a number ≥ 1"):
        resolve_pue(bad, resolve_location("FR"))


def test_not_a_number_rejected() -> None:
    with pytest.raises(ConfigError, match=r"not a number"):
        resolve_pue("high", resolve_location("FR"))  # type: ignore[arg-type]


def test_aws_fleet_default() -> None:
    pue = resolve_pue(None, resolve_location("aws:eu-west-3"))
    assert pue.value == 1.14
    assert pue.reason.startswith("AWS fleet PUE 2025")


def test_gcp_site_value() -> None:
    pue = resolve_pue(None, resolve_location("gcp:europe-west1"))
    assert pue.value == 1.08
    assert pue.reason.startswith("GCP site PUE 2020")


def test_azure_default() -> None:
    assert resolve_pue(None, resolve_location("azure:westeurope")).value == 1.18


def test_cloud_without_pue_gets_one_and_says_so() -> None:
    pue = resolve_pue(None, resolve_location("coreweave:LGA1"))
    assert pue.value == 1.0
    assert "no published PUE for CoreWeave" in pue.reason


@pytest.mark.parametrize("code", [None, "FR", "US-CA"])
def test_non_cloud_default_is_one(code: str | None) -> None:
    pue = resolve_pue(None, resolve_location(code))
    assert (pue.value, pue.reason) == (1.0, DEFAULT_REASON)


def test_industry_average() -> None:
    pue = industry_average_pue()
    assert pue.value == 1.56
    assert "2024" in pue.reason
