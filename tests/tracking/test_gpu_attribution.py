"""GPU energy through the real NVML meter over the NVML shim: which GPUs a run is
charged for, the power-integration path, and NVML failing mid-run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import wattprint
from tests.meters.nvml_shim import NVML_ERROR_GPU_IS_LOST, FakeGpu, NvmlShim
from wattprint.meters.nvml import NvmlMeter
from wattprint.store.repository import Store


def _gpus(n: int) -> list[FakeGpu]:
    return [
        FakeGpu(
            "NVIDIA H100 80GB HBM3",
            f"GPU-{i:08d}-0000-1111-2222-333344445555",
            energy_mj=1_000_000 * (i + 1),
        )
        for i in range(n)
    ]


def _stored(data_dir: Path, run_id: str) -> Store:
    store = Store.from_settings(wattprint.Settings(dir=data_dir))
    store.sync()
    return store


def test_only_gpus_the_process_uses_are_charged(data_dir: Path) -> None:
    gpus = _gpus(4)
    meter = NvmlMeter(nvml=NvmlShim(gpus), visible=None)
    with wattprint.track(run="one-gpu", meters=[meter], sample_interval_s=0.05) as tracker:
        with tracker.window("warmup"):
            for g in gpus:
                g.energy_mj += 50_000  # every GPU draws power, ours is not used yet
        gpus[2].compute_pids.append(os.getpid())
        with tracker.window("epoch"):
            for g in gpus:
                g.energy_mj += 100_000
    warmup, epoch = tracker.result.windows if tracker.result else ()
    assert warmup.energy_j == {}
    assert epoch.energy_j == pytest.approx({"gpu:2": 100.0})
    assert tracker.result is not None
    assert tracker.result.total.energy_j == pytest.approx({"gpu:2": 150.0})
    store = _stored(data_dir, tracker.run_id)
    detail = store.get_run("one-gpu")
    assert [(c.name, c.energy_j) for c in detail.components] == [("gpu:2", pytest.approx(150.0))]
    messages = [e.message for e in store.events(tracker.run_id) if e.source == "attribution"]
    assert any("gpu:0, gpu:1, gpu:2, gpu:3" in m for m in messages)
    assert any("seen on gpu:2" in m for m in messages)


def test_machine_attribution_charges_every_gpu(data_dir: Path) -> None:
    gpus = _gpus(2)
    meter = NvmlMeter(nvml=NvmlShim(gpus), visible=None)
    with wattprint.track(meters=[meter], attribution="machine") as tracker:
        for g in gpus:
            g.energy_mj += 10_000
    assert tracker.result is not None
    assert tracker.result.total.energy_j == pytest.approx({"gpu:0": 10.0, "gpu:1": 10.0})


def test_cuda_visible_devices_is_an_allocation(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gpus = _gpus(4)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", gpus[3].uuid[:12])
    meter = NvmlMeter(nvml=NvmlShim(gpus))
    with wattprint.track(meters=[meter]) as tracker:
        for g in gpus:
            g.energy_mj += 20_000
    assert tracker.result is not None
    assert tracker.result.total.energy_j == pytest.approx({"gpu:3": 20.0})


def test_power_polling_path_integrates_through_the_tracker(data_dir: Path) -> None:
    now = [1000.0]
    gpu = FakeGpu("Tesla P100-PCIE-16GB", "GPU-1b2c", has_counter=False, power_mw=200_000)
    gpu.compute_pids.append(os.getpid())
    meter = NvmlMeter(nvml=NvmlShim([gpu]), visible=None, clock=lambda: now[0])
    with wattprint.track(meters=[meter], sample_interval_s=3600) as tracker:
        tracker.begin_window("epoch")
        now[0] += 2.0  # 2 s at 200 W
        m = tracker.end_window("epoch")
    assert m.energy_j["gpu:0"] == pytest.approx(400.0)
    assert m.quality == "measured"
    assert tracker.result is not None and tracker.result.total_energy_j == pytest.approx(400.0)


def test_gpu_lost_midrun_keeps_energy_and_says_when(data_dir: Path) -> None:
    gpus = _gpus(1)
    gpus[0].compute_pids.append(os.getpid())
    meter = NvmlMeter(nvml=NvmlShim(gpus), visible=None)
    with wattprint.track(run="lost-gpu", meters=[meter], sample_interval_s=0.05) as tracker:
        with tracker.window("epoch"):
            gpus[0].energy_mj += 30_000
        gpus[0].fail_with = NVML_ERROR_GPU_IS_LOST
        with tracker.window("epoch2"):
            pass
        answer = 6 * 7
    assert answer == 42
    assert tracker.result is not None
    assert tracker.result.total_energy_j == pytest.approx(30.0)
    assert [e.source for e in tracker.result.events] == ["nvml"]
    assert "GPU is lost" in tracker.result.events[0].message
    store = _stored(data_dir, tracker.run_id)
    assert store.get_run("lost-gpu").energy_j == pytest.approx(30.0)
