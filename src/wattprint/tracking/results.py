"""Plain frozen dataclasses for what a tracker returns: joules and seconds inside,
kWh as derived properties for the edges."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from wattprint.meters.base import Component, ComponentKind, Quality

J_PER_KWH = 3.6e6


@dataclass(frozen=True)
class ComponentEnergy:
    """Energy of one component over a window or a run, with its provenance and range."""

    component: str
    kind: ComponentKind
    source: str
    quality: Quality
    energy_j: float
    low_j: float
    high_j: float
    basis: str

    @classmethod
    def of(cls, component: Component, energy_j: float) -> ComponentEnergy:
        """Attach ``component``'s provenance and estimate range to an energy figure."""
        return cls(
            component=component.name,
            kind=component.kind,
            source=component.source,
            quality=component.quality,
            energy_j=energy_j,
            low_j=energy_j * component.low_ratio,
            high_j=energy_j * component.high_ratio,
            basis=component.basis,
        )

    @property
    def energy_kwh(self) -> float:
        return self.energy_j / J_PER_KWH


@dataclass(frozen=True)
class Measurement:
    """One closed window: its name, when it ran and the joules per component.

    Per-component provenance (``components``) is built on access, so closing a window
    in a training loop stays a few microseconds.
    """

    name: str
    start_time: float
    end_time: float
    energy_j: Mapping[str, float] = field(default_factory=dict)
    sources: Mapping[str, Component] = field(default_factory=dict, repr=False, compare=False)

    @property
    def components(self) -> dict[str, ComponentEnergy]:
        """Energy of each component with its quality, basis and range."""
        return {n: ComponentEnergy.of(self.sources[n], j) for n, j in self.energy_j.items()}

    @property
    def duration_s(self) -> float:
        return self.end_time - self.start_time

    @property
    def total_energy_j(self) -> float:
        return sum(self.energy_j.values())

    @property
    def total_low_j(self) -> float:
        return sum(j * self.sources[n].low_ratio for n, j in self.energy_j.items())

    @property
    def total_high_j(self) -> float:
        return sum(j * self.sources[n].high_ratio for n, j in self.energy_j.items())

    @property
    def total_energy_kwh(self) -> float:
        return self.total_energy_j / J_PER_KWH

    @property
    def quality(self) -> Quality:
        """``measured`` only when every component was measured."""
        if self.energy_j and all(self.sources[n].quality == "measured" for n in self.energy_j):
            return "measured"
        return "estimated"

    @property
    def average_power_w(self) -> float:
        return self.total_energy_j / self.duration_s if self.duration_s > 0 else 0.0


@dataclass(frozen=True)
class SourceEvent:
    """Something that happened to an energy source during a run (e.g. it was lost)."""

    time: float
    source: str
    message: str


@dataclass(frozen=True)
class RunResult:
    """The totals of a finished run: a ``Measurement`` over the whole run plus identity."""

    run_id: str
    project: str
    run: str
    status: str
    total: Measurement
    windows: tuple[Measurement, ...] = ()
    events: tuple[SourceEvent, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.total.duration_s

    @property
    def total_energy_j(self) -> float:
        return self.total.total_energy_j

    @property
    def total_energy_kwh(self) -> float:
        return self.total.total_energy_kwh

    def __str__(self) -> str:
        lines = [
            f"run {self.project}/{self.run} ({self.run_id[:8]}) {self.status}: "
            f"{self.duration_s:.1f} s, {self.total_energy_j:.1f} J "
            f"({self.total_energy_kwh:.6f} kWh, {self.total.quality})"
        ]
        for c in self.total.components.values():
            rng = "" if c.quality == "measured" else f" [{c.low_j:.1f}-{c.high_j:.1f} J]"
            lines.append(f"  {c.component:<10} {c.energy_j:12.1f} J  {c.quality}{rng}  ({c.basis})")
        lines.extend(f"  ! {e.source}: {e.message}" for e in self.events)
        return "\n".join(lines)
