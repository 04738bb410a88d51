"""What the exporters share: reading journal records defensively, importing optional
libraries with a clear message, and logging a failure once."""

from __future__ import annotations

import importlib
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from wattprint.errors import WattprintError

log = logging.getLogger("wattprint")


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise one error saying which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise WattprintError(
            f"{module} is not installed ({exc}); install it with `pip install wattprint[{extra}]`"
        ) from None


@dataclass(frozen=True)
class ComponentInfo:
    """The provenance of one component, from the ``run`` record."""

    name: str
    quality: str
    source: str
    basis: str
    low_ratio: float = 1.0
    high_ratio: float = 1.0


@dataclass(frozen=True)
class RunInfo:
    """The parts of a ``run`` record the exporters use."""

    run_id: str
    name: str
    project: str
    host: str
    started_at: float
    components: Mapping[str, ComponentInfo] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)


def number(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` (bools and non-numbers are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def parse_run(record: Mapping[str, Any]) -> RunInfo | None:
    """A ``RunInfo`` from a ``run`` record, or ``None`` when it is malformed."""
    run_id, name = record.get("run_id"), record.get("name")
    started_at = number(record.get("started_at"))
    if not isinstance(run_id, str) or not isinstance(name, str) or started_at is None:
        return None
    components: dict[str, ComponentInfo] = {}
    raw = record.get("components")
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            continue
        low, high = number(item.get("low_ratio")), number(item.get("high_ratio"))
        components[item["name"]] = ComponentInfo(
            name=item["name"],
            quality=str(item.get("quality") or "unknown"),
            source=str(item.get("source") or ""),
            basis=str(item.get("basis") or ""),
            low_ratio=1.0 if low is None else low,
            high_ratio=1.0 if high is None else high,
        )
    settings = record.get("settings")
    return RunInfo(
        run_id=run_id,
        name=name,
        project=str(record.get("project") or ""),
        host=str(record.get("host") or ""),
        started_at=started_at,
        components=components,
        settings=dict(settings) if isinstance(settings, Mapping) else {},
    )


def sample_rows(record: Mapping[str, Any]) -> list[tuple[float, str, float, float | None]]:
    """The well-formed rows ``(t, component, energy_j, power_w)`` of a ``samples`` record."""
    rows = record.get("rows")
    out: list[tuple[float, str, float, float | None]] = []
    for row in rows if isinstance(rows, list) else ():
        if not isinstance(row, list | tuple) or len(row) != 4:
            continue
        t, comp, energy = number(row[0]), row[1], number(row[2])
        if t is None or not isinstance(comp, str) or energy is None or energy < 0:
            continue
        out.append((t, comp, energy, number(row[3])))
    return out


def energies(value: object) -> dict[str, float]:
    """The well-formed ``component → joules`` entries of a record's ``energy_j``."""
    if not isinstance(value, Mapping):
        return {}
    out: dict[str, float] = {}
    for comp, joules in value.items():
        j = number(joules)
        if isinstance(comp, str) and j is not None and j >= 0:
            out[comp] = j
    return out


class Warner:
    """Logs the first failure of each kind through ``logging``, then stays quiet."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._seen: set[str] = set()

    def warn(self, kind: str, exc: BaseException | str) -> None:
        if kind in self._seen:
            return
        self._seen.add(kind)
        detail = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        log.warning(
            "wattprint: %s: %s (%s); further such errors are not logged", self.owner, kind, detail
        )
