"""Shared fixtures: an isolated data folder, a fake powercap sysfs tree, a one-node
SLURM cluster and a PostgreSQL server.

The sysfs tree is the lowest edge of the hardware: the real RAPL meter reads it. The
cluster is started by ``scripts/slurm-up.sh`` and stopped by ``scripts/slurm-down.sh``;
the PostgreSQL server by ``scripts/pg-up.sh`` and ``scripts/pg-down.sh``.
"""

from __future__ import annotations

import os
import subprocess
import uuid
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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """SQLAlchemy URL of the maintenance database of a running PostgreSQL server; skips
    when PostgreSQL is not installed here."""
    up = subprocess.run(
        [str(ROOT / "scripts" / "pg-up.sh")], capture_output=True, text=True, timeout=120
    )
    if up.returncode == 4:
        pytest.skip(up.stderr.strip()[-500:])  # not installed: tests never install it
    assert up.returncode == 0, up.stderr[-3000:]
    try:
        yield up.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(ROOT / "scripts" / "pg-down.sh")], timeout=60, check=False)


@pytest.fixture
def postgres_db(postgres_server: str) -> Iterator[str]:
    """SQLAlchemy URL of a new, empty PostgreSQL database, dropped after the test."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(postgres_server)
    name = f"t_{uuid.uuid4().hex}"
    dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
