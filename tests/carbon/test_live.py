"""The live clients against a local server that speaks the APIs' documented JSON."""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.carbon.fake_apis import EM_KEY, WT_PASSWORD, WT_USER, FakeApis, em_value, wt_value_lbs
from tests.carbon.helpers import make_intensity
from wattprint.carbon import ElectricityMapsClient, WattTimeClient, operational_emissions
from wattprint.carbon.providers import LBS_PER_MWH_TO_G_PER_KWH
from wattprint.carbon.pue import Pue
from wattprint.errors import ConfigError

START = 1_719_792_000.0 + 900  # 2024-07-01 00:15 UTC
END = START + 3 * 3600
LATER = START + 30 * 86400  # "now" for past-range requests
FALLBACK = make_intensity(250.0, 200.0, 300.0)


@pytest.fixture
def api() -> Iterator[FakeApis]:
    with FakeApis() as server:
        yield server


def em(api: FakeApis, tmp_path: Path, **kw: object) -> ElectricityMapsClient:
    args: dict[str, object] = {
        "fallback": FALLBACK,
        "base_url": api.url,
        "cache_dir": tmp_path / "cache",
        "timeout_s": 2,
        "retries": 2,
        "backoff_s": 0.0,
        "clock": lambda: LATER,
    }
    args.update(kw)
    return ElectricityMapsClient("FR", str(args.pop("api_key", EM_KEY)), **args)  # type: ignore[arg-type]


def wt(api: FakeApis, tmp_path: Path, **kw: object) -> WattTimeClient:
    args: dict[str, object] = {
        "fallback": FALLBACK,
        "username": WT_USER,
        "password": WT_PASSWORD,
        "base_url": api.url,
        "cache_dir": tmp_path / "cache",
        "timeout_s": 2,
        "retries": 2,
        "backoff_s": 0.0,
        "clock": lambda: LATER,
    }
    args.update(kw)
    return WattTimeClient("CAISO_NORTH", **args)  # type: ignore[arg-type]


# ------------------------------------------------------------ Electricity Maps


def test_em_past_range(api: FakeApis, tmp_path: Path) -> None:
    client = em(api, tmp_path)
    series = client.series(START, END)
    hour0 = START - 900
    assert series == [
        (START, em_value(hour0)),
        (hour0 + 3600, em_value(hour0 + 3600)),
        (hour0 + 7200, em_value(hour0 + 7200)),
        (hour0 + 10800, em_value(hour0 + 10800)),
    ]
    ((path, headers),) = api.state.requests
    assert path.startswith("/v3/carbon-intensity/past-range?")
    assert "zone=FR" in path and "start=2024-07-01T00%3A00%3A00Z" in path
    assert headers["auth-token"] == EM_KEY
    assert client.failure is None and not client.warnings
    assert "Electricity Maps" in client.describe() and "FR" in client.describe()


def test_em_recent_range_uses_history(api: FakeApis, tmp_path: Path) -> None:
    now = END + 600
    api.state.now = now
    client = em(api, tmp_path, clock=lambda: now)
    series = client.series(START, END)
    assert api.state.paths() == ["/v3/carbon-intensity/history"]
    assert series[0] == (START, em_value(START))
    assert len(series) == 4


def test_em_cache_second_call_makes_no_request(api: FakeApis, tmp_path: Path) -> None:
    first = em(api, tmp_path).series(START, END)
    assert len(api.state.requests) == 1
    again = em(api, tmp_path)  # a new client: only the disk cache is shared
    assert again.series(START, END) == first
    assert again.series(START + 60, END - 60)[0] == (START + 60, first[0][1])
    assert len(api.state.requests) == 1
    cached = list((tmp_path / "cache").glob("electricitymaps-*FR.json"))
    assert len(cached) == 1


def test_em_cache_fetches_only_missing_hours(api: FakeApis, tmp_path: Path) -> None:
    em(api, tmp_path).series(START, END)
    em(api, tmp_path).series(START, END + 2 * 3600)
    assert len(api.state.requests) == 2
    assert "start=2024-07-01T04%3A00%3A00Z" in api.state.requests[1][0]


def test_em_http_500_retries_then_falls_back(
    api: FakeApis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api.state.mode = "500"
    client = em(api, tmp_path, retries=2)
    with caplog.at_level(logging.WARNING, logger="wattprint.carbon"):
        assert client.series(START, END) == [(START, 250.0)]
        assert client.series(START, END) == [(START, 250.0)]  # cooling down: no request
    assert len(api.state.requests) == 3  # 1 + 2 retries
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert "HTTP 500" in client.describe()
    assert "unavailable" in client.describe() and "250" in client.describe()
    assert client.warnings and "HTTP 500" in client.warnings[0]


def test_em_timeout_falls_back(api: FakeApis, tmp_path: Path) -> None:
    api.state.mode = "slow"
    api.state.slow_s = 1.0
    client = em(api, tmp_path, timeout_s=0.2, retries=0)
    assert client.series(START, END) == [(START, 250.0)]
    assert "timed out" in client.describe()


def test_em_bad_json_falls_back_without_retry(api: FakeApis, tmp_path: Path) -> None:
    api.state.mode = "badjson"
    client = em(api, tmp_path)
    assert client.series(START, END) == [(START, 250.0)]
    assert len(api.state.requests) == 1
    assert "not valid JSON" in client.describe()


def test_em_missing_fields_fall_back(api: FakeApis, tmp_path: Path) -> None:
    api.state.mode = "missing"
    client = em(api, tmp_path)
    assert client.series(START, END) == [(START, 250.0)]
    assert "carbonIntensity" in client.describe()


def test_em_wrong_token_401_falls_back(api: FakeApis, tmp_path: Path) -> None:
    client = em(api, tmp_path, api_key="wrong")
    assert client.series(START, END) == [(START, 250.0)]
    assert len(api.state.requests) == 1  # an auth error is not retried
    assert "HTTP 401" in client.describe()


def test_em_unreachable_server_falls_back(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ElectricityMapsClient(
        "FR",
        EM_KEY,
        fallback=FALLBACK,
        base_url=f"http://127.0.0.1:{port}",
        cache_dir=tmp_path,
        retries=1,
        backoff_s=0.0,
        timeout_s=1,
        clock=lambda: LATER,
    )
    assert client.series(START, END) == [(START, 250.0)]
    assert client.failure is not None


def test_em_series_in_emissions(api: FakeApis, tmp_path: Path) -> None:
    client = em(api, tmp_path)
    hour0 = START - 900
    interval = (hour0 + 1800, hour0 + 5400, 3.6e6, 3.6e6, 3.6e6)  # half in hour 0, half in 1
    e = operational_emissions([interval], client, FALLBACK, Pue(1.0, "t", "t"))
    expected_g = (em_value(hour0) + em_value(hour0 + 3600)) / 2
    assert math.isclose(e.intensity_g_per_kwh, expected_g)
    assert math.isclose(e.kg, expected_g / 1000)
    assert math.isclose(e.low_kg, expected_g * 200 / 250 / 1000)
    assert e.warnings == ()
    assert "Electricity Maps" in e.intensity_source


def test_em_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="emission_factor_type"):
        ElectricityMapsClient("FR", "k", fallback=FALLBACK, emission_factor_type="cradle")
    with pytest.raises(ConfigError, match="zone"):
        ElectricityMapsClient(" ", "k", fallback=FALLBACK)


# ------------------------------------------------------------ WattTime


def test_wt_login_then_historical_in_g_per_kwh(api: FakeApis, tmp_path: Path) -> None:
    client = wt(api, tmp_path)
    series = client.series(START, START + 900)
    assert api.state.paths() == ["/login", "/v3/historical"]
    assert api.state.requests[1][1]["authorization"] == "Bearer tok-1"
    assert series[0] == (START, wt_value_lbs(START) * LBS_PER_MWH_TO_G_PER_KWH)
    assert [t for t, _ in series] == [START, START + 300, START + 600]
    assert math.isclose(series[1][1], wt_value_lbs(START + 300) * 0.45359237)
    text = client.describe()
    assert "marginal" in text and "not an average" in text


def test_wt_cache_second_call_makes_no_request(api: FakeApis, tmp_path: Path) -> None:
    first = wt(api, tmp_path).series(START, END)
    count = len(api.state.requests)
    assert wt(api, tmp_path).series(START, END) == first
    assert len(api.state.requests) == count


def test_wt_expired_token_logs_in_again(api: FakeApis, tmp_path: Path) -> None:
    client = wt(api, tmp_path)
    client.series(START, START + 600)
    api.state.valid_tokens.clear()  # the 30-minute token expired
    client.series(START + 3 * 3600, START + 4 * 3600)
    assert api.state.logins == 2
    assert client.failure is None


def test_wt_wrong_token_401_falls_back(api: FakeApis, tmp_path: Path) -> None:
    client = wt(api, tmp_path, username=None, password=None, token="forged")
    assert client.series(START, END) == [(START, 250.0)]
    assert api.state.paths() == ["/v3/historical"]
    assert "HTTP 401" in client.describe()


def test_wt_bad_credentials_fall_back(api: FakeApis, tmp_path: Path) -> None:
    client = wt(api, tmp_path, password="guess")
    assert client.series(START, END) == [(START, 250.0)]
    assert "HTTP 403" in client.describe()


@pytest.mark.parametrize(
    ("mode", "says"), [("500", "HTTP 500"), ("badjson", "JSON"), ("missing", "'value'")]
)
def test_wt_failures_fall_back(api: FakeApis, tmp_path: Path, mode: str, says: str) -> None:
    client = wt(api, tmp_path, token="tok-x")
    api.state.valid_tokens.add("tok-x")
    api.state.mode = mode
    assert client.series(START, END) == [(START, 250.0)]
    assert says in client.describe()


def test_wt_timeout_falls_back(api: FakeApis, tmp_path: Path) -> None:
    api.state.mode = "slow"
    api.state.slow_s = 1.0
    client = wt(api, tmp_path, timeout_s=0.2, retries=0)
    assert client.series(START, END) == [(START, 250.0)]
    assert "timed out" in client.describe()


def test_wt_needs_credentials() -> None:
    with pytest.raises(ConfigError, match="token, or a username and a password"):
        WattTimeClient("CAISO_NORTH", fallback=FALLBACK)


def test_hours_in_the_future_use_the_fallback(api: FakeApis, tmp_path: Path) -> None:
    now = START + 1800  # the run's last hours have not happened yet
    api.state.now = now
    client = em(api, tmp_path, clock=lambda: now)
    series = client.series(START, END)
    assert series[0][1] == em_value(START)
    assert series[-1][1] == 250.0
    assert "no data for 3 of 4 hours" in client.warnings[0]
