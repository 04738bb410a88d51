"""Settings precedence and error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattprint.config import load_settings
from wattprint.errors import ConfigError


def test_defaults_use_a_per_user_sqlite_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={})
    assert s.sample_interval_s == 1.0
    assert s.attribution == "process"
    assert s.db_url.startswith("sqlite:///") and s.db_url.endswith("wattprint.db")
    assert s.journal_dir == s.dir / "journal"


def test_precedence_argument_over_environment_over_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wattprint.toml").write_text(
        '[wattprint]\nproject = "from-file"\nsample_interval_s = 2.0\nflush_interval_s = 9\n'
    )
    env = {"WATTPRINT_SAMPLE_INTERVAL_S": "0.5", "WATTPRINT_PROJECT": "from-env"}
    s = load_settings(environ=env, project="from-arg")
    assert s.project == "from-arg"
    assert s.sample_interval_s == 0.5
    assert s.flush_interval_s == 9


def test_config_file_named_by_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text('attribution = "machine"\nsources = ["cpu-model"]\n')
    s = load_settings(environ={"WATTPRINT_CONFIG": str(cfg)})
    assert s.attribution == "machine"
    assert s.sources == ("cpu-model",)


def test_bad_environment_value_names_variable_and_accepted_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"WATTPRINT_ATTRIBUTION": "gpu"})
    message = str(info.value)
    assert "WATTPRINT_ATTRIBUTION='gpu'" in message
    assert "process" in message and "machine" in message


def test_negative_interval_is_rejected_with_its_value() -> None:
    with pytest.raises(ConfigError, match=r"sample_interval_s=-1.0 .*greater than 0"):
        load_settings(environ={}, sample_interval_s=-1.0)


def test_unknown_setting_in_file_lists_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wattprint.toml").write_text("sample_rate = 3\n")
    with pytest.raises(ConfigError, match=r"unknown setting 'sample_rate'.*sample_interval_s"):
        load_settings(environ={})


def test_malformed_toml_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wattprint.toml").write_text("project = \n")
    with pytest.raises(ConfigError, match=r"wattprint\.toml: not valid TOML"):
        load_settings(environ={})


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(environ={"WATTPRINT_CONFIG": str(tmp_path / "nope.toml")})


def test_server_and_token_from_the_environment_and_the_token_kept_secret() -> None:
    env = {"WATTPRINT_SERVER": "https://wattprint.example.org:8443/team/", "WATTPRINT_TOKEN": "s3"}
    s = load_settings(environ=env)
    assert s.server == "https://wattprint.example.org:8443/team"
    assert s.token is not None and s.token.get_secret_value() == "s3"
    assert "s3" not in repr(s)
    assert "token" not in s.model_dump(mode="json")  # what a run record keeps
    with pytest.raises(ConfigError, match="token=<hidden>"):
        load_settings(environ={}, token=["s3"])


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("ftp://host", "an http:// or https:// URL"),
        ("host:8000", "an http:// or https:// URL"),
        ("https://alice:pw@host", r"https://\*\*\*@host.*must not hold credentials"),
        ("https://host/?x=1", "only an optional path prefix"),
        ("http://host:99999", "invalid port"),
    ],
)
def test_a_bad_server_url_says_what_is_accepted(url: str, accepted: str) -> None:
    with pytest.raises(ConfigError, match=f"invalid WATTPRINT_SERVER=.*{accepted}"):
        load_settings(environ={"WATTPRINT_SERVER": url})
