from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.sysfs import FakePowercap
from tests.meters.nvml_shim import NVML_ERROR_LIBRARY_NOT_FOUND, NvmlShim, two_gpus
from wattprint.config import Settings
from wattprint.hardware.cpu import CpuInfo
from wattprint.meters.discovery import (
    NOT_NEEDED_CPU,
    NOT_NEEDED_RAM,
    hardware_inventory,
    open_meters,
    probe_sources,
)
from wattprint.meters.process_tree import ProcessTree

EPYC_VM = CpuInfo(
    model_name="AMD EPYC",
    vendor="AMD",
    vendor_id="AuthenticAMD",
    logical_cpus=2,
    host_logical_cpus=2,
    hypervisor=True,
    family=25,
    model=17,
    sockets=1,
)


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(dir=tmp_path / "data", **kw)  # type: ignore[arg-type]


def _no_driver() -> NvmlShim:
    return NvmlShim([], init_error=NVML_ERROR_LIBRARY_NOT_FOUND)


def test_measured_sources_chosen_models_skipped(tmp_path: Path, powercap: FakePowercap) -> None:
    shim = NvmlShim(two_gpus())
    meters, statuses = open_meters(
        _settings(tmp_path), ProcessTree(), rapl_root=powercap.root, nvml=shim, cpu=EPYC_VM
    )
    try:
        assert [m.name for m in meters] == ["rapl", "nvml"]
        by = {s.source: s for s in statuses}
        assert [s.source for s in statuses] == ["rapl", "nvml", "cpu-model", "ram-model"]
        assert by["rapl"].available and by["rapl"].quality == "measured"
        assert "2 package(s)" in by["rapl"].reason and "dram:0" in by["rapl"].reason
        assert by["nvml"].available and "gpu:1 Tesla P100-PCIE-16GB (power)" in by["nvml"].reason
        assert {c.name for c in by["nvml"].components} == {"gpu:0", "gpu:1"}
        assert by["cpu-model"] == by["cpu-model"].__class__(
            "cpu-model", False, None, NOT_NEEDED_CPU
        )
        assert not by["ram-model"].available and by["ram-model"].reason == NOT_NEEDED_RAM
        names = [c.name for m in meters for c in m.components]
        assert sorted(names) == ["cpu:0", "cpu:1", "dram:0", "gpu:0", "gpu:1"]
    finally:
        for m in meters:
            m.close()


def test_nothing_measurable_falls_back_to_models(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    meters, statuses = open_meters(
        settings,
        ProcessTree(),
        rapl_root=tmp_path / "sys/class/powercap",
        nvml=_no_driver(),
        cpu=EPYC_VM,
    )
    by = {s.source: s for s in statuses}
    assert [m.name for m in meters] == ["cpu-model", "ram-model"]
    assert not by["rapl"].available and by["rapl"].reason.endswith("powercap absent")
    assert by["nvml"].reason == "NVML: no NVIDIA driver (NVML Shared Library Not Found)"
    cpu = by["cpu-model"]
    assert cpu.available and cpu.quality == "estimated"
    assert cpu.reason.startswith("CPU model: AMD EPYC → family range ")
    assert by["ram-model"].available and "0.3725 W/GB" in by["ram-model"].reason
    assert all(c.quality == "estimated" for m in meters for c in m.components)
    assert meters[0].read()["cpu"] >= 0.0


def test_default_rapl_root_reason(tmp_path: Path) -> None:
    _, statuses = open_meters(
        _settings(tmp_path, sources=("rapl",)), ProcessTree(), nvml=_no_driver()
    )
    (status,) = statuses
    if not Path("/sys/class/powercap").exists():
        assert status.reason == "RAPL: /sys/class/powercap absent"


def test_rapl_without_dram_keeps_the_ram_model(tmp_path: Path) -> None:
    fake = FakePowercap(tmp_path / "pc")
    fake.add_zone("intel-rapl:0", "package-0")
    meters, statuses = open_meters(
        _settings(tmp_path), ProcessTree(), rapl_root=fake.root, nvml=_no_driver(), cpu=EPYC_VM
    )
    assert [m.name for m in meters] == ["rapl", "ram-model"]
    assert {s.source: s.reason for s in statuses}["cpu-model"] == NOT_NEEDED_CPU
    for m in meters:
        m.close()


def test_rapl_permission_denied_falls_back_with_the_fix(
    tmp_path: Path, powercap: FakePowercap, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def guarded_open(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        if os.fspath(path).endswith("energy_uj"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", guarded_open)
    meters, statuses = open_meters(
        _settings(tmp_path), ProcessTree(), rapl_root=powercap.root, nvml=_no_driver(), cpu=EPYC_VM
    )
    by = {s.source: s for s in statuses}
    assert "sudo chmod a+r" in by["rapl"].reason
    assert "falling back to the CPU model" in by["rapl"].reason
    assert [m.name for m in meters] == ["cpu-model", "ram-model"]


def test_sources_subset_and_tdp_override(tmp_path: Path) -> None:
    settings = _settings(tmp_path, sources=("cpu-model",), cpu_tdp_w=100.0)
    meters, statuses = open_meters(settings, ProcessTree(), cpu=EPYC_VM)
    assert [s.source for s in statuses] == ["cpu-model"]
    assert "50.00 W/thread from cpu_tdp_w=100" in statuses[0].reason
    assert meters[0].components[0].low_ratio == 1.0


def test_machine_attribution_reaches_the_models(tmp_path: Path) -> None:
    settings = _settings(tmp_path, attribution="machine", sources=("cpu-model", "ram-model"))
    meters, _ = open_meters(settings, ProcessTree(), cpu=EPYC_VM)
    assert all("whole machine" in m.components[0].basis for m in meters)


def test_probe_sources_closes_everything(tmp_path: Path, powercap: FakePowercap) -> None:
    shim = NvmlShim(two_gpus())
    statuses = probe_sources(_settings(tmp_path), rapl_root=powercap.root, nvml=shim, cpu=EPYC_VM)
    assert len(statuses) == 4
    assert shim.init_calls == shim.shutdown_calls == 1


def test_hardware_inventory_is_json(tmp_path: Path, powercap: FakePowercap) -> None:
    statuses = probe_sources(
        _settings(tmp_path), rapl_root=powercap.root, nvml=NvmlShim(two_gpus()), cpu=EPYC_VM
    )
    inventory = hardware_inventory(statuses, EPYC_VM)
    again = json.loads(json.dumps(inventory))
    assert again["cpu"]["model"] == "AMD EPYC" and again["cpu"]["hypervisor"] is True
    assert again["cpu"]["logical_cpus"] == 2
    assert again["ram_gb"] > 0
    assert [g["uuid"] for g in again["gpus"]] == [g.uuid for g in two_gpus()]
    assert again["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"
    assert {s["source"]: s["quality"] for s in again["sources"]} == {
        "rapl": "measured",
        "nvml": "measured",
        "cpu-model": None,
        "ram-model": None,
    }


def test_importing_meters_is_cheap() -> None:
    code = (
        "import sys, wattprint\n"
        "before = set(sys.modules)\n"
        "import wattprint.meters\n"
        "new = set(sys.modules) - before\n"
        "bad = sorted(m for m in new if m.split('.')[0] in {'psutil', 'pynvml'})\n"
        "assert not bad, bad\n"
        "from wattprint.meters import RaplMeter, open_meters\n"
        "assert RaplMeter.__name__ == 'RaplMeter' and callable(open_meters)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
