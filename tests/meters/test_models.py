"""CPU and RAM models over a real ProcessTree of the test process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from wattprint.hardware.cpu import cpu_power_spec
from wattprint.meters.cpu_model import CpuModelMeter
from wattprint.meters.process_tree import (
    ProcessTree,
    machine_busy_cpu_seconds,
    machine_used_memory_bytes,
)
from wattprint.meters.ram import RamModelMeter, ram_power_spec


def burn(cpu_s: float) -> float:
    """Spin until this thread has used ``cpu_s`` CPU-seconds; returns the amount used."""
    start = time.thread_time()
    x = 0
    while time.thread_time() - start < cpu_s:
        x += sum(range(1000))
    return time.thread_time() - start


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_process_tree_cpu_rss_pids() -> None:
    tree = ProcessTree()
    assert tree.root_pid == os.getpid()
    before = tree.cpu_seconds()
    used = burn(0.2)
    after = tree.cpu_seconds()
    assert after - before == pytest.approx(used, abs=0.06)
    assert tree.rss_bytes() >= psutil.Process().memory_info().rss * 0.9
    assert os.getpid() in tree.pids()


BURN_CHILD = "import time\nt=time.process_time()\nwhile time.process_time()-t<{s}: pass\n"


def test_process_tree_keeps_cpu_time_of_exited_children() -> None:
    tree = ProcessTree(rescan_min_s=0, rescan_max_s=0)
    start = tree.cpu_seconds()
    child = subprocess.Popen([sys.executable, "-c", BURN_CHILD.format(s=0.3)])
    seen_child = False
    while child.poll() is None:
        seen_child = seen_child or child.pid in tree.pids()
        tree.cpu_seconds()
        time.sleep(0.01)
    assert seen_child
    total = tree.cpu_seconds()
    assert 0.3 <= total - start < 0.3 + 0.5  # the child's 0.3 s, once (plus our polling)
    assert tree.cpu_seconds() >= total  # monotonic
    assert child.pid not in tree.pids()


def test_descendants_found_late_are_counted_from_their_start(tmp_path: Path) -> None:
    """Membership is rescanned after 1, 2, 4, ... 30 s while unchanged; CPU times are
    cumulative, so a child found at the next rescan brings all the CPU time it used.
    The tree is rooted at a dedicated parent, so no other process can change it."""
    go = tmp_path / "go"
    burner = BURN_CHILD.format(s=0.3) + "time.sleep(30)"
    parent_code = (
        "import pathlib, subprocess, sys, time\n"
        f"go = pathlib.Path({str(go)!r})\n"
        "while not go.exists(): time.sleep(0.01)\n"
        f"subprocess.Popen([sys.executable, '-c', {burner!r}])\n"
        "time.sleep(30)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    try:
        clock = Clock()
        tree = ProcessTree(parent.pid, rescan_min_s=1.0, rescan_max_s=30.0, clock=clock)
        tree.pids()
        for _ in range(6):  # unchanged: rescanned after 2, 4, ... then every 30 s
            clock.t += 30.0
            assert tree.pids() == {parent.pid}
        start = tree.cpu_seconds()
        go.write_text("")
        deadline = time.time() + 30
        while True:
            kids = psutil.Process(parent.pid).children()
            if kids and sum(kids[0].cpu_times()[:2]) >= 0.28:  # 10 ms ticks
                break
            assert time.time() < deadline
            time.sleep(0.02)
        clock.t += 29.0
        assert tree.pids() == {parent.pid}  # not rescanned yet
        clock.t += 1.0
        assert tree.pids() == {parent.pid, kids[0].pid}
        assert tree.cpu_seconds() - start >= 0.28
    finally:
        for proc in psutil.Process(parent.pid).children():
            proc.kill()
        parent.kill()
        parent.wait()


def test_process_tree_counts_children_that_lived_between_two_calls() -> None:
    tree = ProcessTree()
    start = tree.cpu_seconds()
    subprocess.run([sys.executable, "-c", BURN_CHILD.format(s=0.25)], check=True)
    assert tree.cpu_seconds() - start >= 0.25


def test_process_tree_rooted_at_a_command_that_exits() -> None:
    """Rooted at a child that spawns and reaps a grandchild, then exits: the last seen
    CPU time of the root (its grandchild's included) is kept."""
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.run([sys.executable, '-c', {BURN_CHILD.format(s=0.2)!r}])\n"
        "time.sleep(0.3)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code])
    tree = ProcessTree(child.pid)
    last = 0.0
    while child.poll() is None:
        last = tree.cpu_seconds()
        time.sleep(0.02)
    assert last >= 0.2
    assert tree.cpu_seconds() == last
    assert tree.pids() == set()


def test_process_tree_rejects_missing_pid() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    with pytest.raises(ValueError, match=f"root_pid={child.pid}"):
        ProcessTree(child.pid)


def test_cpu_model_process_mode_is_proportional_to_cpu_time() -> None:
    spec = cpu_power_spec("AMD EPYC 7763 64-Core Processor")
    tree = ProcessTree()
    meter = CpuModelMeter(spec, tree, "process")
    (comp,) = meter.components
    assert comp.name == "cpu" and comp.kind == "cpu" and comp.quality == "estimated"
    assert comp.source == "cpu-model" and meter.needs_polling
    assert "EPYC 7763" in comp.basis and "Lannelongue et al. 2021" in comp.basis
    start = meter.read()["cpu"]
    used = burn(0.1)
    meter.poll()
    used += burn(0.1)
    energy = meter.read()["cpu"] - start
    assert energy == pytest.approx(used * spec.per_thread_w, rel=0.25, abs=0.05)
    joules = meter.read()["cpu"]
    assert joules <= meter.cpu_seconds() * spec.per_thread_w  # W/thread x CPU-s, monotonic
    meter.close()


def test_cpu_model_family_range_ratios() -> None:
    spec = cpu_power_spec("AMD EPYC")
    meter = CpuModelMeter(spec, ProcessTree())
    (comp,) = meter.components
    assert comp.low_ratio < 1.0 < comp.high_ratio
    assert comp.low_ratio == pytest.approx(spec.per_thread_low_w / spec.per_thread_w)


def test_cpu_model_machine_mode_uses_machine_busy_time() -> None:
    spec = cpu_power_spec("Foo 9000")
    meter = CpuModelMeter(spec, ProcessTree(), "machine")
    machine_before = machine_busy_cpu_seconds()
    used = burn(0.2)
    energy = meter.read()["cpu"]
    machine_delta = machine_busy_cpu_seconds() - machine_before
    assert "whole machine" in meter.components[0].basis
    assert energy >= 0.8 * used * spec.per_thread_w
    assert energy <= (machine_delta + 0.05) * spec.per_thread_w


def test_cpu_model_rejects_bad_attribution() -> None:
    with pytest.raises(ValueError, match="attribution='node'"):
        CpuModelMeter(cpu_power_spec("Foo"), ProcessTree(), "node")  # type: ignore[arg-type]


def test_ram_spec_from_the_data_file() -> None:
    spec = ram_power_spec()
    assert spec.w_per_gb == pytest.approx(0.3725)
    assert spec.high_w_per_gb == pytest.approx(0.392)
    assert spec.low_ratio == 1.0
    assert spec.high_ratio == pytest.approx(0.392 / 0.3725)
    assert "Green Algorithms" in spec.basis and "Cloud Carbon Footprint" in spec.basis


def test_ram_model_process_mode_integrates_rss() -> None:
    clock = Clock()
    tree = ProcessTree()
    meter = RamModelMeter(tree, "process", clock=clock)
    (comp,) = meter.components
    assert comp.name == "ram" and comp.kind == "ram" and comp.quality == "estimated"
    assert comp.high_ratio == pytest.approx(0.392 / 0.3725)
    assert "0.392" in comp.basis
    for _ in range(4):
        clock.t += 2.5
        meter.poll()
    energy = meter.read()["ram"]
    expected = tree.rss_bytes() / 1e9 * 0.3725 * 10.0
    assert energy == pytest.approx(expected, rel=0.1)
    clock.t += 0.0
    assert meter.read()["ram"] == pytest.approx(energy)  # no time, no energy


def test_ram_model_machine_mode() -> None:
    clock = Clock()
    meter = RamModelMeter(ProcessTree(), "machine", clock=clock)
    clock.t = 100.0
    energy = meter.read()["ram"]
    expected = machine_used_memory_bytes() / 1e9 * 0.3725 * 100.0
    assert energy == pytest.approx(expected, rel=0.2)
    assert "whole machine" in meter.components[0].basis
