"""The meter protocol: cumulative joules per component since the meter was opened.

A meter is the lowest layer above the hardware. It knows nothing about runs,
windows or stores. A window is the difference of two ``read()`` results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

Quality = Literal["measured", "estimated"]
ComponentKind = Literal["cpu", "gpu", "ram"]


@dataclass(frozen=True)
class Component:
    """One energy-consuming part a meter reports on, e.g. ``cpu:0`` (RAPL package 0).

    ``low_ratio``/``high_ratio`` bound an estimate: the true energy is believed to
    lie in ``[energy * low_ratio, energy * high_ratio]``. Measured components use 1.0.
    ``basis`` says where the figure's constants come from (source, year) or which
    counter it reads.
    """

    name: str
    kind: ComponentKind
    source: str
    quality: Quality
    description: str
    basis: str
    low_ratio: float = 1.0
    high_ratio: float = 1.0
    details: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@runtime_checkable
class Meter(Protocol):
    """An open energy source. ``read`` is cheap for counter meters (a few file reads)."""

    @property
    def name(self) -> str:
        """Short name of the source, e.g. ``rapl``, ``nvml``, ``cpu-model``."""
        ...

    @property
    def components(self) -> tuple[Component, ...]:
        """The components whose energy ``read`` returns, fixed when the meter opens."""
        ...

    @property
    def needs_polling(self) -> bool:
        """True when the sampler must call ``poll`` periodically for correct totals
        (power integration, utilisation models, counter wrap-around)."""
        ...

    def read(self) -> dict[str, float]:
        """Cumulative joules per component name since the meter was opened.

        Thread-safe. Raises ``MeterError`` (or any exception) when the source fails;
        the tracker then drops the meter and keeps its last good reading.
        """
        ...

    def poll(self) -> dict[str, float]:
        """The sampler's read: like ``read`` (and returning the same), plus whatever
        periodic work the meter needs (integration, wrap-around, health checks)."""
        ...

    def close(self) -> None:
        """Release handles. Idempotent."""
        ...


@dataclass(frozen=True)
class SourceStatus:
    """What ``wattprint hardware`` prints for one energy source: usable or not, and why."""

    source: str
    available: bool
    quality: Quality | None
    reason: str
    components: tuple[Component, ...] = ()
