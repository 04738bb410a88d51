"""Power usage effectiveness: facility energy / IT energy, always ≥ 1.

A value given by the user wins. Otherwise a cloud region gets its provider's figure
from ``cloud_regions.csv`` (a per-site figure where Google published one, else the
provider fleet default marked ``use_as_provider_default`` in ``pue.csv``). Anything
else gets 1.0: the energy at the plug of the machine only, and the reason says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wattprint.carbon import data
from wattprint.carbon.location import Location, provider_name
from wattprint.errors import ConfigError

DEFAULT_REASON = "no data-centre PUE given: 1.0 (energy at the plug of the machine only)"
_ACCEPTED = (
    "accepted: a number ≥ 1 (facility energy / IT energy; data centres report about "
    "1.1 to 1.6), or none for the default"
)


@dataclass(frozen=True)
class Pue:
    """A PUE and why it was chosen."""

    value: float
    source: str
    reason: str  # "given by the user", "AWS fleet PUE 2025 (…)", DEFAULT_REASON


def _check(value: object) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"PUE {value!r} is not a number; {_ACCEPTED}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"PUE {value!r} is not a number; {_ACCEPTED}") from None
    if not math.isfinite(number):
        raise ConfigError(f"PUE {value!r} is not a finite number; {_ACCEPTED}")
    if number < 1.0:
        raise ConfigError(
            f"PUE {value!r} is below 1: a facility cannot use less energy than its IT "
            f"equipment; {_ACCEPTED}"
        )
    return number


def _source_name(text: str) -> str:
    """``pue_source`` without its trailing URL."""
    words = [w for w in text.split() if not w.startswith(("http://", "https://"))]
    return " ".join(words).rstrip(" ,;")


def _scope_word(scope: str) -> str:
    if scope.startswith("provider fleet"):
        return "fleet"
    if scope.startswith("site"):
        return "site"
    return scope


def resolve_pue(value: float | None, location: Location) -> Pue:
    """The PUE to apply: ``value`` when given (checked), else the cloud provider's
    figure for a cloud location, else 1.0."""
    if value is not None:
        return Pue(value=_check(value), source="user", reason="given by the user")
    if location.kind == "cloud" and location.provider:
        name = provider_name(location.provider)
        for row in data.cloud_rows():
            if not row.preferred or f"{row.provider}:{row.region_id}" != location.code:
                continue
            if row.pue is not None:
                year = f" {row.pue_year}" if row.pue_year is not None else ""
                origin = _source_name(row.pue_source)
                if not origin or origin.startswith("("):
                    _, _, detail = row.pue_scope.partition("(")
                    origin = detail.rstrip(")") or row.pue_scope
                reason = f"{name} {_scope_word(row.pue_scope)} PUE{year} ({origin})"
                return Pue(value=_check(row.pue), source=row.pue_source, reason=reason)
            break
        return Pue(
            value=1.0,
            source="wattprint default",
            reason=f"no published PUE for {name} ({location.code}): 1.0 "
            "(energy at the plug of the machine only)",
        )
    return Pue(value=1.0, source="wattprint default", reason=DEFAULT_REASON)


def industry_average_pue() -> Pue:
    """The industry-average PUE marked as the default for unknown facilities in
    ``pue.csv`` (Uptime Institute survey), for estimates that want one."""
    for row in data.pue_rows():
        if row.provider_default and row.scope == "industry_average":
            year = f" {row.year}" if row.year is not None else ""
            return Pue(
                value=row.pue,
                source=f"{row.source_name} {row.source_url}",
                reason=f"industry-average PUE{year} ({row.source_name})",
            )
    raise LookupError(f"no industry_average default row in {data.PUE_FILE}")
