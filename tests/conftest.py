"""Shared fixtures: an isolated data folder and a fake powercap sysfs tree.

The sysfs tree is the lowest edge of the hardware: the real RAPL meter reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.sysfs import FakePowercap


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
