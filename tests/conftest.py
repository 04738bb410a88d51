"""Shared fixtures: an isolated data folder, a fake powercap sysfs tree, and a one-node
SLURM cluster.

The sysfs tree is the lowest edge of the hardware: the real RAPL meter reads it. The
cluster is started by ``scripts/slurm-up.sh`` and stopped by ``scripts/slurm-down.sh``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.sysfs import FakePowercap

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def powercap(tmp_path: Path) -> FakePowercap:
    """Two packages with a DRAM sub-zone each, counters at arbitrary start values."""
    fake = FakePowercap(tmp_path / "powercap")
    fake.add_zone("intel-rapl:0", "package-0", 1_000_000)
    fake.add_zone("intel-rapl:0:0", "core", 500_000)
    fake.add_zone("intel-rapl:0:1", "dram", 200_000)
    fake.add_zone("intel-rapl:1", "package-1", 7_000_000)
    return fake


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private wattprint data folder, also exported as WATTPRINT_DIR for subprocesses."""
    folder = tmp_path / "wattprint-data"
    monkeypatch.setenv("WATTPRINT_DIR", str(folder))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.chdir(tmp_path)
    yield folder


@pytest.fixture(scope="session")
def slurm() -> Iterator[dict[str, str]]:
    """``{"SLURM_CONF": …}`` of a running cluster; skips when it cannot be set up here."""
    if os.geteuid() != 0:
        pytest.skip("SLURM tests need root (slurmd runs the jobs)")
    up = subprocess.run(
        [str(ROOT / "scripts" / "slurm-up.sh")], capture_output=True, text=True, timeout=300
    )
    if up.returncode == 4:
        pytest.skip(up.stderr.strip()[-500:])  # not installed: tests never install it
    assert up.returncode == 0, up.stderr[-3000:]
    conf = up.stdout.strip().splitlines()[-1]
    try:
        yield {"SLURM_CONF": conf}
    finally:
        subprocess.run([str(ROOT / "scripts" / "slurm-down.sh")], timeout=60, check=False)
