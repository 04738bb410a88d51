"""NVIDIA GPUs through NVML (``pynvml``, from the nvidia-ml-py package).

Volta and newer GPUs have a total-energy counter (mJ since the driver loaded):
``read()`` is the counter minus its value at open. Older GPUs, or ``mode="power"``,
fall back to polling the board power (mW) and integrating it with the trapezoid rule;
the sampler polls about once a second and ``read()`` takes a fresh sample, so the
accuracy of that path depends on how fast power changes relative to the interval.

Only the GPUs visible to the process are reported, following ``CUDA_VISIBLE_DEVICES``
(indices or UUIDs, UUID prefixes accepted as CUDA does). Components are
``gpu:<nvml index>``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from types import EllipsisType
from typing import Any, Literal

from wattprint.errors import MeterError
from wattprint.meters.base import Component

NVML_ERROR_NOT_SUPPORTED = 3  # pynvml.NVML_ERROR_NOT_SUPPORTED, used when the module lacks it
COUNTER_BASIS = "NVML total-energy counter"
POWER_BASIS = "NVML power polled every ~1 s and integrated"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def visible_indices(visible: str | None, uuids: Sequence[str]) -> list[int]:
    """NVML indices selected by a ``CUDA_VISIBLE_DEVICES`` value, as CUDA reads it.

    ``None`` selects every GPU; ``""`` none. Entries are indices or UUIDs (``GPU-…``; a
    unique prefix is enough). Like CUDA, parsing stops at the first invalid entry
    (unknown index, unknown or ambiguous UUID, ``-1``); duplicates are ignored.
    """
    if visible is None:
        return list(range(len(uuids)))
    chosen: list[int] = []
    for raw in visible.split(","):
        entry = raw.strip()
        if not entry:
            break
        index: int | None = None
        if entry.lstrip("-").isdigit():
            number = int(entry)
            index = number if 0 <= number < len(uuids) else None
        else:
            prefix = entry if entry.upper().startswith(("GPU-", "MIG-")) else "GPU-" + entry
            matches = [i for i, u in enumerate(uuids) if u.lower().startswith(prefix.lower())]
            index = matches[0] if len(matches) == 1 else None
        if index is None:
            break
        if index not in chosen:
            chosen.append(index)
    return chosen


@dataclass
class _Gpu:
    index: int
    component: str
    name: str
    uuid: str
    handle: Any
    method: Literal["counter", "power"]
    start_mj: int = 0
    last_mj: int = 0
    last_t: float = 0.0
    last_w: float = 0.0
    energy_j: float = 0.0


class NvmlMeter:
    """Measured energy of the visible NVIDIA GPUs."""

    def __init__(
        self,
        nvml: Any = None,
        mode: Literal["auto", "counter", "power"] = "auto",
        visible: str | EllipsisType | None = ...,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in ("auto", "counter", "power"):
            raise ValueError(f"mode={mode!r}: expected 'auto', 'counter' or 'power'")
        if nvml is None:
            try:
                import pynvml
            except ImportError as exc:  # pragma: no cover - nvidia-ml-py is a dependency
                raise MeterError(f"NVML: nvidia-ml-py is not installed ({exc})") from exc
            nvml = pynvml
        if visible is ...:
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        self._nvml = nvml
        self._error: type[BaseException] = nvml.NVMLError
        self._clock = clock
        self.mode = mode
        self.visible = visible
        self._lock = threading.Lock()
        self._closed = True
        try:
            nvml.nvmlInit()
        except self._error as exc:
            raise MeterError(f"NVML: no NVIDIA driver ({exc})") from exc
        self._closed = False
        try:
            self._gpus = self._open_gpus(visible)
        except BaseException:
            self.close()
            raise
        self._components = tuple(
            Component(
                name=gpu.component,
                kind="gpu",
                source=self.name,
                quality="measured",
                description=f"{gpu.name} ({gpu.uuid})",
                basis=COUNTER_BASIS if gpu.method == "counter" else POWER_BASIS,
                details={"uuid": gpu.uuid, "nvml_index": str(gpu.index), "method": gpu.method},
            )
            for gpu in self._gpus
        )

    def _open_gpus(self, visible: str | None) -> list[_Gpu]:
        nvml = self._nvml
        try:
            count = int(nvml.nvmlDeviceGetCount())
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            uuids = [_text(nvml.nvmlDeviceGetUUID(h)) for h in handles]
            names = [_text(nvml.nvmlDeviceGetName(h)) for h in handles]
        except self._error as exc:
            raise MeterError(f"NVML: cannot list GPUs ({exc})") from exc
        if count == 0:
            raise MeterError("NVML: the driver reports no GPU")
        chosen = visible_indices(visible, uuids)
        if not chosen:
            raise MeterError(
                f"NVML: no GPU visible (CUDA_VISIBLE_DEVICES={visible!r}; {count} GPU(s) present)"
            )
        return [self._open_gpu(i, names[i], uuids[i], handles[i]) for i in chosen]

    def _open_gpu(self, index: int, name: str, uuid: str, handle: Any) -> _Gpu:
        gpu = _Gpu(index, f"gpu:{index}", name, uuid, handle, "counter")
        not_supported = getattr(self._nvml, "NVML_ERROR_NOT_SUPPORTED", NVML_ERROR_NOT_SUPPORTED)
        counter_error: BaseException | None = None
        if self.mode != "power":
            try:
                gpu.start_mj = gpu.last_mj = int(
                    self._nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
                )
                return gpu
            except self._error as exc:
                counter_error = exc
                if self.mode == "counter":
                    raise MeterError(
                        f"NVML: {name} (gpu:{index}, {uuid}) has no total-energy counter ({exc}); "
                        f"use gpu_energy='auto' or 'power'"
                    ) from exc
                if getattr(exc, "value", None) != not_supported:
                    raise MeterError(
                        f"NVML: reading the energy counter of {name} (gpu:{index}) failed ({exc})"
                    ) from exc
        gpu.method = "power"
        try:
            gpu.last_w = self._power_w(gpu)
        except self._error as exc:
            why = f"no energy counter ({counter_error}) and " if counter_error else ""
            raise MeterError(
                f"NVML: {name} (gpu:{index}, {uuid}): {why}power reading failed ({exc})"
            ) from exc
        gpu.last_t = self._clock()
        return gpu

    def _power_w(self, gpu: _Gpu) -> float:
        return float(self._nvml.nvmlDeviceGetPowerUsage(gpu.handle)) / 1000.0

    @property
    def name(self) -> str:
        return "nvml"

    @property
    def components(self) -> tuple[Component, ...]:
        return self._components

    @property
    def needs_polling(self) -> bool:
        return any(gpu.method == "power" for gpu in self._gpus)

    def gpus(self) -> list[dict[str, str]]:
        """Component name, NVML index, name, UUID and method of each visible GPU."""
        return [
            {
                "component": g.component,
                "index": str(g.index),
                "name": g.name,
                "uuid": g.uuid,
                "method": g.method,
            }
            for g in self._gpus
        ]

    def _advance(self) -> dict[str, float]:
        with self._lock:
            if self._closed:
                raise MeterError("NVML: meter is closed")
            result: dict[str, float] = {}
            for gpu in self._gpus:
                try:
                    if gpu.method == "counter":
                        mj = int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(gpu.handle))
                        if mj < gpu.last_mj:
                            raise MeterError(
                                f"NVML: energy counter of {gpu.name} ({gpu.component}) went "
                                f"backwards ({gpu.last_mj} -> {mj} mJ; driver reloaded?)"
                            )
                        gpu.last_mj = mj
                        result[gpu.component] = (mj - gpu.start_mj) / 1000.0
                    else:
                        power_w = self._power_w(gpu)
                        now = self._clock()
                        dt = max(0.0, now - gpu.last_t)
                        gpu.energy_j += (gpu.last_w + power_w) / 2.0 * dt
                        gpu.last_t, gpu.last_w = now, power_w
                        result[gpu.component] = gpu.energy_j
                except self._error as exc:
                    raise MeterError(
                        f"NVML: reading {gpu.name} ({gpu.component}, {gpu.uuid}) failed ({exc})"
                    ) from exc
            return result

    def read(self) -> dict[str, float]:
        return self._advance()

    def poll(self) -> dict[str, float]:
        return self.read()

    def in_use_by(self, pids: Collection[int]) -> set[str]:
        """Components of the GPUs on which any of ``pids`` runs a compute or graphics
        context. NVML errors are ignored (never raises). In a container NVML may report
        host PIDs, which then match nothing."""
        wanted = set(pids)
        used: set[str] = set()
        if not wanted:
            return used
        for gpu in self._gpus:
            for getter in (
                "nvmlDeviceGetComputeRunningProcesses",
                "nvmlDeviceGetGraphicsRunningProcesses",
            ):
                try:
                    procs = getattr(self._nvml, getter)(gpu.handle)
                    if any(getattr(p, "pid", None) in wanted for p in procs or ()):
                        used.add(gpu.component)
                        break
                except Exception:
                    continue
        return used

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(Exception):
                self._nvml.nvmlShutdown()
