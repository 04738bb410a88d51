"""RAM energy model: W per GB (power_coefficients.csv) x resident GB, integrated over time.

Green Algorithms (Lannelongue et al. 2021) gives 0.3725 W/GB (id ``ga_memory_power``);
Cloud Carbon Footprint's 0.000392 kWh per GB-hour (= 0.392 W/GB, id
``ccf_aws_memory_energy``) is the other published figure and sets the upper bound.
GB here are 10^9 bytes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from wattprint.meters.base import Component

if TYPE_CHECKING:
    from wattprint.meters.process_tree import ProcessTree

POINT_ID = "ga_memory_power"
HIGH_ID = "ccf_aws_memory_energy"
BYTES_PER_GB = 1e9
_KWH_PER_GBH_TO_W_PER_GB = 1000.0  # 1 kWh per GB-hour = 1000 W per GB (unit conversion)


@dataclass(frozen=True)
class RamPowerSpec:
    """Watts per resident GB, with the range's bounds and where they come from."""

    w_per_gb: float
    low_w_per_gb: float
    high_w_per_gb: float
    basis: str

    @property
    def low_ratio(self) -> float:
        return self.low_w_per_gb / self.w_per_gb

    @property
    def high_ratio(self) -> float:
        return self.high_w_per_gb / self.w_per_gb


def _w_per_gb(value: float, unit: str) -> float:
    if unit == "W/GB":
        return value
    if unit == "kWh per GB-hour":
        return value * _KWH_PER_GBH_TO_W_PER_GB
    raise ValueError(f"unsupported memory power unit {unit!r} in power_coefficients.csv")


def ram_power_spec() -> RamPowerSpec:
    """The RAM model's coefficients, from ``power_coefficients.csv``."""
    from wattprint.hardware.tables import coefficient

    point = coefficient(POINT_ID)
    other = coefficient(HIGH_ID)
    point_w = _w_per_gb(point.value, point.unit)
    other_w = _w_per_gb(other.value, other.unit)
    basis = (
        f"{point_w:g} W/GB from {point.source} ({point.license}); range up to "
        f"{other_w:g} W/GB from {other.source} ({other.value:g} {other.unit}, {other.license})"
    )
    return RamPowerSpec(point_w, min(point_w, other_w), max(point_w, other_w), basis)


class RamModelMeter:
    """Estimated RAM energy: W/GB x resident GB (tree RSS or machine used memory),
    integrated by the trapezoid rule between samples (``poll``/``read``)."""

    def __init__(
        self,
        tree: ProcessTree,
        attribution: Literal["process", "machine"] = "process",
        coefficients: RamPowerSpec | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if attribution not in ("process", "machine"):
            raise ValueError(f"attribution={attribution!r}: expected 'process' or 'machine'")
        self.spec = coefficients if coefficients is not None else ram_power_spec()
        self.tree = tree
        self.attribution = attribution
        self._clock = clock
        if attribution == "process":
            self._resident_bytes: Callable[[], int] = tree.rss_bytes
            what = "resident memory (RSS) of the tracked process tree"
        else:
            from wattprint.meters.process_tree import machine_used_memory_bytes

            self._resident_bytes = machine_used_memory_bytes
            what = "memory in use on the whole machine"
        self._lock = threading.Lock()
        self._energy_j = 0.0
        self._last_t = clock()
        self._last_w = self._power_w()
        self._component = Component(
            name="ram",
            kind="ram",
            source=self.name,
            quality="estimated",
            description=f"RAM (estimated, {attribution} attribution)",
            basis=f"W/GB x {what}, sampled and integrated; {self.spec.basis}",
            low_ratio=self.spec.low_ratio,
            high_ratio=self.spec.high_ratio,
            details={"attribution": attribution},
        )

    @property
    def name(self) -> str:
        return "ram-model"

    @property
    def components(self) -> tuple[Component, ...]:
        return (self._component,)

    @property
    def needs_polling(self) -> bool:
        return True

    def _power_w(self) -> float:
        return self._resident_bytes() / BYTES_PER_GB * self.spec.w_per_gb

    def _advance(self) -> float:
        with self._lock:
            power_w = self._power_w()
            now = self._clock()
            dt = max(0.0, now - self._last_t)
            self._energy_j += (self._last_w + power_w) / 2.0 * dt
            self._last_t, self._last_w = now, power_w
            return self._energy_j

    def read(self) -> dict[str, float]:
        return {"ram": self._advance()}

    def poll(self) -> dict[str, float]:
        return self.read()

    def close(self) -> None:
        return None
