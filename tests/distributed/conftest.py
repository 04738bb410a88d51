"""A one-node SLURM cluster for the session, started by ``scripts/slurm-up.sh`` and
stopped by ``scripts/slurm-down.sh``."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.distributed.helpers import ROOT


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
