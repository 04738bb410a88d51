"""CPU energy model, used when no RAPL package counter can be read.

energy = W per busy logical CPU x CPU-seconds, Green Algorithms' model (Lannelongue et
al. 2021: power = n_cores x usage x TDP per core). CPU-seconds are those of the
tracked process tree (attribution "process") or the machine's busy CPU-seconds
(attribution "machine"). On a VM this charges a few vCPUs of a big chip per
vCPU-second at the chip's TDP per thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from wattprint.meters.base import Component

if TYPE_CHECKING:
    from wattprint.hardware.cpu import CpuPowerSpec
    from wattprint.meters.process_tree import ProcessTree


class CpuModelMeter:
    """Estimated CPU energy from CPU time and a per-thread power (``CpuPowerSpec``)."""

    def __init__(
        self,
        spec: CpuPowerSpec,
        tree: ProcessTree,
        attribution: Literal["process", "machine"] = "process",
    ) -> None:
        if attribution not in ("process", "machine"):
            raise ValueError(f"attribution={attribution!r}: expected 'process' or 'machine'")
        self.spec = spec
        self.tree = tree
        self.attribution = attribution
        if attribution == "process":
            self._cpu_seconds: Callable[[], float] = tree.cpu_seconds
            what = "CPU-seconds of the tracked process tree"
        else:
            from wattprint.meters.process_tree import machine_busy_cpu_seconds

            self._cpu_seconds = machine_busy_cpu_seconds
            what = "busy CPU-seconds of the whole machine"
        self._lock = threading.Lock()
        self._start_s = self._cpu_seconds()
        self._last_s = self._start_s
        self._component = Component(
            name="cpu",
            kind="cpu",
            source=self.name,
            quality="estimated",
            description=f"{spec.model_name} (estimated, {attribution} attribution)",
            basis=f"{spec.per_thread_w:.3g} W per busy logical CPU x {what}; {spec.basis}",
            low_ratio=spec.low_ratio,
            high_ratio=spec.high_ratio,
            details={"method": spec.method, "attribution": attribution},
        )

    @property
    def name(self) -> str:
        return "cpu-model"

    @property
    def components(self) -> tuple[Component, ...]:
        return (self._component,)

    @property
    def needs_polling(self) -> bool:
        return True

    def _advance(self) -> float:
        with self._lock:
            now = self._cpu_seconds()
            self._last_s = max(self._last_s, now)
            return self._last_s - self._start_s

    def cpu_seconds(self) -> float:
        """CPU-seconds charged since the meter was opened."""
        return self._advance()

    def read(self) -> dict[str, float]:
        return {"cpu": self._advance() * self.spec.per_thread_w}

    def poll(self) -> dict[str, float]:
        return self.read()

    def close(self) -> None:
        return None
