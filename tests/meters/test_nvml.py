from __future__ import annotations

from pathlib import Path

import pytest

from tests.meters.nvml_shim import (
    NVML_ERROR_GPU_IS_LOST,
    NVML_ERROR_LIBRARY_NOT_FOUND,
    NVML_ERROR_UNKNOWN,
    FakeGpu,
    NvmlShim,
    two_gpus,
)
from wattprint.errors import MeterError
from wattprint.meters.nvml import COUNTER_BASIS, POWER_BASIS, NvmlMeter, visible_indices


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _h100(uuid: str = "GPU-aaaa1111-0000-0000-0000-000000000000", **kw: object) -> FakeGpu:
    return FakeGpu("NVIDIA H100 80GB HBM3", uuid, 5_000_000, 300_000, **kw)  # type: ignore[arg-type]


def test_counter_path() -> None:
    shim = NvmlShim([_h100()])
    meter = NvmlMeter(shim, visible=None)
    (comp,) = meter.components
    assert comp.name == "gpu:0" and comp.kind == "gpu" and comp.quality == "measured"
    assert comp.basis == COUNTER_BASIS
    assert comp.description == "NVIDIA H100 80GB HBM3 (GPU-aaaa1111-0000-0000-0000-000000000000)"
    assert not meter.needs_polling
    assert meter.read() == {"gpu:0": 0.0}
    shim.gpus[0].energy_mj += 12_345
    assert meter.read() == {"gpu:0": pytest.approx(12.345)}
    meter.close()
    meter.close()
    assert shim.shutdown_calls == 1


def test_no_counter_falls_back_to_power_integration() -> None:
    shim = NvmlShim(two_gpus())
    clock = Clock()
    shim.gpus[1].power_mw = 100_000  # 100 W at open
    meter = NvmlMeter(shim, visible=None, clock=clock)
    by_name = {c.name: c for c in meter.components}
    assert by_name["gpu:0"].basis == COUNTER_BASIS
    assert by_name["gpu:1"].basis == POWER_BASIS
    assert by_name["gpu:1"].details["method"] == "power"
    assert meter.needs_polling
    clock.t += 1.0
    shim.gpus[1].power_mw = 200_000
    meter.poll()  # trapezoid: (100 + 200) / 2 W x 1 s = 150 J
    clock.t += 0.5
    shim.gpus[0].energy_mj += 40_000
    energy = meter.read()  # read takes a fresh sample: + 200 W x 0.5 s
    assert energy == pytest.approx({"gpu:0": 40.0, "gpu:1": 250.0})
    meter.close()


def test_power_mode_forced_on_a_gpu_with_counter() -> None:
    shim = NvmlShim([_h100()])
    clock = Clock()
    meter = NvmlMeter(shim, mode="power", visible=None, clock=clock)
    assert meter.components[0].basis == POWER_BASIS and meter.needs_polling
    shim.gpus[0].energy_mj += 999_999  # ignored in power mode
    for _ in range(10):
        clock.t += 0.1
        meter.poll()
    assert meter.read()["gpu:0"] == pytest.approx(300.0)  # 300 W for 1 s
    meter.close()


def test_counter_mode_without_counter_is_an_error() -> None:
    shim = NvmlShim(two_gpus())
    with pytest.raises(MeterError, match=r"Tesla P100.*gpu:1.*no total-energy counter"):
        NvmlMeter(shim, mode="counter", visible=None)
    assert shim.shutdown_calls == shim.init_calls == 1  # released again


def test_neither_counter_nor_power_names_the_gpu() -> None:
    gpu = FakeGpu("Tesla K80", "GPU-k80", has_counter=False)
    shim = NvmlShim([gpu])
    original = shim.nvmlDeviceGetPowerUsage

    def broken(handle: object) -> int:
        raise shim.NVMLError(3)

    shim.nvmlDeviceGetPowerUsage = broken  # type: ignore[method-assign]
    with pytest.raises(MeterError, match=r"Tesla K80 \(gpu:0, GPU-k80\).*power reading failed"):
        NvmlMeter(shim, visible=None)
    shim.nvmlDeviceGetPowerUsage = original  # type: ignore[method-assign]


def test_other_counter_errors_are_not_hidden_as_power_fallback() -> None:
    shim = NvmlShim([_h100(fail_with=NVML_ERROR_UNKNOWN)])
    with pytest.raises(MeterError):
        NvmlMeter(shim, visible=None)


def test_visible_by_indices() -> None:
    gpus = [_h100(f"GPU-{i}aaa-0000") for i in range(4)]
    meter = NvmlMeter(NvmlShim(gpus), visible="0,2")
    assert [c.name for c in meter.components] == ["gpu:0", "gpu:2"]
    meter.close()


def test_visible_by_uuid_prefix() -> None:
    gpus = [_h100("GPU-8f3a1c2e-0000"), _h100("GPU-8f9b0000-1111"), _h100("GPU-12345678-2222")]
    meter = NvmlMeter(NvmlShim(gpus), visible="GPU-1234, GPU-8f3a")
    assert [c.name for c in meter.components] == ["gpu:2", "gpu:0"]
    meter.close()


def test_visible_empty_hides_every_gpu() -> None:
    shim = NvmlShim(two_gpus())
    with pytest.raises(MeterError, match=r"no GPU visible \(CUDA_VISIBLE_DEVICES=''"):
        NvmlMeter(shim, visible="")
    assert shim.shutdown_calls == 1


def test_visible_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    meter = NvmlMeter(NvmlShim(two_gpus()))
    assert [c.name for c in meter.components] == ["gpu:1"]
    meter.close()


def test_visible_parsing_follows_cuda() -> None:
    uuids = ["GPU-aa11", "GPU-aa22", "GPU-bb33"]
    assert visible_indices(None, uuids) == [0, 1, 2]
    assert visible_indices("", uuids) == []
    assert visible_indices("2,0", uuids) == [2, 0]
    assert visible_indices("0,-1,2", uuids) == [0]  # stops at the first invalid entry
    assert visible_indices("0,7,1", uuids) == [0]
    assert visible_indices("GPU-aa", uuids) == []  # ambiguous prefix
    assert visible_indices("GPU-bb,GPU-aa2", uuids) == [2, 1]
    assert visible_indices("bb33", uuids) == [2]
    assert visible_indices("1,1", uuids) == [1]


def test_in_use_by() -> None:
    gpus = two_gpus()
    gpus[0].compute_pids = [111, 222]
    gpus[1].graphics_pids = [333]
    shim = NvmlShim(gpus)
    meter = NvmlMeter(shim, visible=None)
    assert meter.in_use_by([222]) == {"gpu:0"}
    assert meter.in_use_by({333, 111}) == {"gpu:0", "gpu:1"}
    assert meter.in_use_by([999]) == set()
    assert meter.in_use_by([]) == set()
    gpus[0].process_query_fails = True
    assert meter.in_use_by([222, 333]) == {"gpu:1"}  # errors never raise
    gpus[1].fail_with = NVML_ERROR_GPU_IS_LOST
    assert meter.in_use_by([222, 333]) == set()
    meter.close()


def test_error_mid_run_is_a_meter_error() -> None:
    shim = NvmlShim(two_gpus())
    meter = NvmlMeter(shim, visible=None, clock=Clock())
    meter.read()
    shim.gpus[0].fail_with = NVML_ERROR_GPU_IS_LOST
    with pytest.raises(MeterError, match=r"NVIDIA H100.*gpu:0.*GPU is lost"):
        meter.read()
    shim.gpus[0].fail_with = None
    shim.gpus[1].fail_with = NVML_ERROR_GPU_IS_LOST
    with pytest.raises(MeterError, match=r"gpu:1"):
        meter.poll()
    meter.close()


def test_counter_going_backwards_is_a_meter_error() -> None:
    shim = NvmlShim([_h100()])
    meter = NvmlMeter(shim, visible=None)
    shim.gpus[0].energy_mj = 10
    with pytest.raises(MeterError, match="went backwards"):
        meter.read()
    meter.close()


def test_init_failure_is_no_driver() -> None:
    shim = NvmlShim([], init_error=NVML_ERROR_LIBRARY_NOT_FOUND)
    with pytest.raises(MeterError, match=r"NVML: no NVIDIA driver \(NVML Shared Library"):
        NvmlMeter(shim)


def test_no_gpu_at_all() -> None:
    with pytest.raises(MeterError, match="no GPU"):
        NvmlMeter(NvmlShim([]), visible=None)


def test_real_pynvml_import_path() -> None:
    """The default path imports pynvml (nvidia-ml-py). Without a driver, as on the CI
    machine, that is a clear MeterError; with one, real GPUs are listed."""
    has_driver = Path("/dev/nvidiactl").exists()
    try:
        meter = NvmlMeter(visible=None)
    except MeterError as exc:
        assert not has_driver, exc
        assert str(exc).startswith("NVML: no NVIDIA driver (")
        return
    try:
        assert meter.components and all(c.name.startswith("gpu:") for c in meter.components)
        assert all(v >= 0.0 for v in meter.read().values())
    finally:
        meter.close()
