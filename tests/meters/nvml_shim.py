"""A small stand-in for ``pynvml``: NVML's function names over per-GPU state that tests
set and advance. Only the lowest edge is fake; the meter code above it is real."""

from __future__ import annotations

from dataclasses import dataclass, field

NVML_SUCCESS = 0
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_NOT_FOUND = 6
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_UNKNOWN = 999

_STRINGS = {
    NVML_ERROR_UNINITIALIZED: "Uninitialized",
    NVML_ERROR_INVALID_ARGUMENT: "Invalid Argument",
    NVML_ERROR_NOT_SUPPORTED: "Not Supported",
    NVML_ERROR_NO_PERMISSION: "Insufficient Permissions",
    NVML_ERROR_NOT_FOUND: "Not Found",
    NVML_ERROR_DRIVER_NOT_LOADED: "Driver Not Loaded",
    NVML_ERROR_LIBRARY_NOT_FOUND: "NVML Shared Library Not Found",
    NVML_ERROR_GPU_IS_LOST: "GPU is lost",
    NVML_ERROR_UNKNOWN: "Unknown Error",
}


class NVMLError(Exception):
    """Like ``pynvml.NVMLError``: carries the NVML return code in ``value``."""

    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return _STRINGS.get(self.value, f"NVML error {self.value}")


@dataclass
class ProcessInfo:
    pid: int
    usedGpuMemory: int = 0  # NVML's field name


@dataclass
class FakeGpu:
    name: str
    uuid: str
    energy_mj: int = 0
    power_mw: int = 0
    has_counter: bool = True
    compute_pids: list[int] = field(default_factory=list)
    graphics_pids: list[int] = field(default_factory=list)
    fail_with: int | None = None  # every call on this GPU raises NVMLError(fail_with)
    process_query_fails: bool = False


@dataclass(frozen=True)
class _Handle:
    index: int


class NvmlShim:
    """An object with pynvml's function names, backed by ``gpus``."""

    NVMLError = NVMLError
    NVML_ERROR_NOT_SUPPORTED = NVML_ERROR_NOT_SUPPORTED
    NVML_ERROR_LIBRARY_NOT_FOUND = NVML_ERROR_LIBRARY_NOT_FOUND
    NVML_ERROR_DRIVER_NOT_LOADED = NVML_ERROR_DRIVER_NOT_LOADED
    NVML_ERROR_GPU_IS_LOST = NVML_ERROR_GPU_IS_LOST

    def __init__(self, gpus: list[FakeGpu], init_error: int | None = None) -> None:
        self.gpus = gpus
        self.init_error = init_error
        self.init_calls = 0
        self.shutdown_calls = 0

    # -- library ------------------------------------------------------------------
    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise NVMLError(self.init_error)
        self.init_calls += 1

    def nvmlShutdown(self) -> None:
        if self.init_calls <= self.shutdown_calls:
            raise NVMLError(NVML_ERROR_UNINITIALIZED)
        self.shutdown_calls += 1

    def _check_init(self) -> None:
        if self.init_calls <= self.shutdown_calls:
            raise NVMLError(NVML_ERROR_UNINITIALIZED)

    def _gpu(self, handle: _Handle) -> FakeGpu:
        self._check_init()
        gpu = self.gpus[handle.index]
        if gpu.fail_with is not None:
            raise NVMLError(gpu.fail_with)
        return gpu

    # -- devices ------------------------------------------------------------------
    def nvmlDeviceGetCount(self) -> int:
        self._check_init()
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> _Handle:
        self._check_init()
        if not 0 <= index < len(self.gpus):
            raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
        return _Handle(index)

    def nvmlDeviceGetHandleByUUID(self, uuid: str) -> _Handle:
        self._check_init()
        for i, gpu in enumerate(self.gpus):
            if gpu.uuid == uuid:
                return _Handle(i)
        raise NVMLError(NVML_ERROR_NOT_FOUND)

    def nvmlDeviceGetName(self, handle: _Handle) -> str:
        return self._gpu(handle).name

    def nvmlDeviceGetUUID(self, handle: _Handle) -> str:
        return self._gpu(handle).uuid

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: _Handle) -> int:
        gpu = self._gpu(handle)
        if not gpu.has_counter:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return gpu.energy_mj

    def nvmlDeviceGetPowerUsage(self, handle: _Handle) -> int:
        return self._gpu(handle).power_mw

    def nvmlDeviceGetComputeRunningProcesses(self, handle: _Handle) -> list[ProcessInfo]:
        gpu = self._gpu(handle)
        if gpu.process_query_fails:
            raise NVMLError(NVML_ERROR_NO_PERMISSION)
        return [ProcessInfo(pid) for pid in gpu.compute_pids]

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: _Handle) -> list[ProcessInfo]:
        gpu = self._gpu(handle)
        if gpu.process_query_fails:
            raise NVMLError(NVML_ERROR_NO_PERMISSION)
        return [ProcessInfo(pid) for pid in gpu.graphics_pids]


def two_gpus() -> list[FakeGpu]:
    """An H100 with the energy counter and a P100 without it (Pascal)."""
    return [
        FakeGpu("NVIDIA H100 80GB HBM3", "GPU-8f3a1c2e-0000-1111-2222-333344445555", 1_000_000),
        FakeGpu(
            "Tesla P100-PCIE-16GB", "GPU-1b2c3d4e-6666-7777-8888-999900001111", has_counter=False
        ),
    ]
