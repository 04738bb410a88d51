"""Settings: one pydantic model, filled from arguments, ``WATTPRINT_*`` variables and
``wattprint.toml``, in that order of precedence.

Every invalid value raises one ``ConfigError`` naming the setting, where it came
from, the value given and what is accepted.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from wattprint.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

ENV_PREFIX = "WATTPRINT_"
CONFIG_FILE = "wattprint.toml"


def default_data_dir() -> Path:
    """Per-user folder holding the SQLite store and the run journals."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("wattprint", appauthor=False))


class Settings(BaseModel):
    """Everything a tracker can be told. Field descriptions double as documentation."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    project: str = Field("default", min_length=1, description="Project the run belongs to.")
    run: str | None = Field(None, description="Run name; generated from the time if unset.")
    dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder of the default SQLite store and of the run journals.",
    )
    db: str | None = Field(
        None, description="SQLAlchemy URL of the store; default sqlite:///<dir>/wattprint.db."
    )
    sample_interval_s: float = Field(
        1.0, gt=0, le=3600, description="Seconds between background samples."
    )
    flush_interval_s: float = Field(
        5.0, gt=0, le=3600, description="Seconds between writes of buffered samples to disk."
    )
    attribution: Literal["process", "machine"] = Field(
        "process",
        description="Charge the tracked process tree's share (process) or the whole machine.",
    )
    gpu_energy: Literal["auto", "counter", "power"] = Field(
        "auto",
        description="NVIDIA: total-energy counter when present (auto), only it, or power polling.",
    )
    cpu_tdp_w: float | None = Field(
        None, gt=0, le=2000, description="TDP of the whole CPU package when the model is unknown."
    )
    region: str | None = Field(
        None,
        description="Where the electricity comes from: a country (FR), a region (US-CA) or "
        "a cloud region (aws:eu-west-3); `wattprint regions` lists them.",
    )
    pue: float | None = Field(
        None, ge=1.0, le=5.0, description="Power usage effectiveness of the data centre (>= 1)."
    )
    intensity_file: Path | None = Field(
        None, description="CSV time series of grid carbon intensity (timestamp, gCO2e/kWh)."
    )
    sources: tuple[Literal["rapl", "nvml", "cpu-model", "ram-model"], ...] = Field(
        ("rapl", "nvml", "cpu-model", "ram-model"),
        description="Energy sources to try, in order.",
    )
    slurm_partition: str | None = Field(
        None, min_length=1, description="SLURM partition of jobs (default: the cluster's)."
    )
    slurm_account: str | None = Field(
        None, min_length=1, description="SLURM account charged for submitted jobs."
    )
    slurm_gpus: int = Field(0, ge=0, le=64, description="GPUs per node of a SLURM job.")
    slurm_cpus: int = Field(1, ge=1, le=1024, description="CPU cores of a SLURM job.")
    slurm_mem_gb: float | None = Field(
        None, gt=0, le=8192, description="Memory of a SLURM job, GB (default: the partition's)."
    )
    slurm_time_min: int = Field(
        60, ge=1, le=525_600, description="Time limit of a SLURM job, minutes."
    )
    server: str | None = Field(
        None,
        description="URL of a wattprint server (`wattprint ui`) that receives the run's "
        "records as they are measured; the local journal keeps them while it is unreachable.",
    )
    # A secret: left out of model_dump() (so out of the run record) and masked in repr.
    token: SecretStr | None = Field(
        None, exclude=True, description="Access token of `server`; never stored with a run."
    )
    server_flush_timeout_s: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="Seconds stop() waits for the records not yet on `server`; the rest "
        "stays in the journal for `wattprint push`.",
    )

    @field_validator("project")
    @classmethod
    def _no_slash(cls, value: str) -> str:
        if "/" in value or value.strip() != value:
            raise ValueError("must not contain '/' or surrounding spaces")
        return value

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from wattprint.carbon.location import resolve_location  # only when a region is set

        return resolve_location(value).code

    @field_validator("server")
    @classmethod
    def _server_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = value.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL such as https://host:8000")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not hold credentials: give the token with `token`")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment, only an optional path prefix")
        try:
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            raise ValueError("has an invalid port") from None
        return url.rstrip("/")

    @property
    def db_url(self) -> str:
        """The store's SQLAlchemy URL."""
        return self.db or f"sqlite:///{self.dir / 'wattprint.db'}"

    @property
    def journal_dir(self) -> Path:
        """Folder where trackers append their run journals."""
        return self.dir / "journal"

    @property
    def jobs_dir(self) -> Path:
        """Folder of the jobs' logs (and of submitit's files for SLURM jobs)."""
        return self.dir / "jobs"


_ENV_NAMES = {name: ENV_PREFIX + name.upper() for name in Settings.model_fields}
_SECRETS = frozenset({"token"})


def _from_env(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field, var in _ENV_NAMES.items():
        raw = environ.get(var)
        if raw is None or raw == "":
            continue
        values[field] = tuple(s.strip() for s in raw.split(",")) if field == "sources" else raw
    return values


def _from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    section = data.get("wattprint", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [wattprint] must be a table of settings")
    return dict(section)


def _config_path(environ: dict[str, str] | os._Environ[str]) -> Path | None:
    explicit = environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"WATTPRINT_CONFIG={explicit!r}: no such file")
        return path
    candidate = Path.cwd() / CONFIG_FILE
    return candidate if candidate.is_file() else None


def load_settings(
    environ: dict[str, str] | os._Environ[str] | None = None, **overrides: Any
) -> Settings:
    """Build ``Settings`` from ``overrides`` > environment > ``wattprint.toml`` > defaults.

    ``None`` overrides are ignored so CLI options can be passed through unchanged.
    """
    env = os.environ if environ is None else environ
    layers: list[tuple[str, dict[str, Any]]] = []
    path = _config_path(env)
    if path is not None:
        layers.append((str(path), _from_file(path)))
    layers.append(("environment", _from_env(env)))
    layers.append(("argument", {k: v for k, v in overrides.items() if v is not None}))
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for where, values in layers:
        for key, value in values.items():
            merged[key] = value
            origin[key] = where
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, merged, origin)) from None


def _explain(exc: ValidationError, merged: dict[str, Any], origin: dict[str, str]) -> str:
    lines = []
    for err in exc.errors():
        key = str(err["loc"][0]) if err["loc"] else "?"
        where = origin.get(key, "default")
        name = _ENV_NAMES.get(key, key) if where == "environment" else key
        if err["type"] == "extra_forbidden":
            accepted = ", ".join(sorted(Settings.model_fields))
            lines.append(f"unknown setting {key!r} (from {where}); accepted: {accepted}")
            continue
        field = Settings.model_fields.get(key)
        hint = f" ({field.description})" if field and field.description else ""
        lines.append(
            f"invalid {name}={_shown(key, merged.get(key))} (from {where}): {err['msg']}{hint}"
        )
    return "; ".join(lines)


def _shown(key: str, value: Any) -> str:
    """``value`` for an error message: a secret hidden, a URL's credentials masked."""
    if key in _SECRETS:
        return "<hidden>"
    if isinstance(value, str):
        value = re.sub(r"//[^/@]*@", "//***@", value)
    return repr(value)
