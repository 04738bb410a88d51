"""Runs without an ``end`` record: running while their writer lives, interrupted after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.store.journals import POWER_W, append_samples, energy_at, start_run
from wattprint.store.journal import journal_path
from wattprint.store.repository import Store

HERE = Path(__file__).parent
T0 = 1_700_000_000.0


def test_killed_writer_is_interrupted_with_its_flushed_energy(
    store: Store, journal_dir: Path
) -> None:
    n = 7
    child = subprocess.Popen(
        [sys.executable, str(HERE / "journals.py"), "hold", str(journal_dir), "killed-run", str(n)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        assert store.sync() == 1 + n + 1
        alive = store.get_run("killed-run")
        assert alive.status == "running" and alive.ended_at is None
        assert alive.energy_j == pytest.approx(sum(energy_at(c, n - 1) for c in POWER_W))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)

    assert store.sync() == 0
    run = store.get_run("killed-run")
    assert run.status == "interrupted"
    last = {c: energy_at(c, n - 1) for c in POWER_W}  # the last flushed sample
    assert {c.name: c.energy_j for c in run.components} == last
    assert run.energy_j == sum(last.values())
    assert run.ended_at == T0 + n  # its last record (the event after the samples)
    assert run.duration_s == pytest.approx(n)
    assert [r.run_id for r in store.list_runs(status="interrupted")] == ["killed-run"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_zombie_writer_counts_as_gone(store: Store, journal_dir: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, str(HERE / "journals.py"), "hold", str(journal_dir), "zombie", "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        os.kill(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # killed but not reaped: a zombie
            with open(f"/proc/{child.pid}/stat") as fh:
                if fh.read().split(") ")[1].startswith("Z"):
                    break
            time.sleep(0.01)
        store.sync()
        assert store.get_run("zombie").status == "interrupted"
    finally:
        child.wait(timeout=10)


def test_reused_pid_is_not_the_writer(store: Store, journal_dir: Path) -> None:
    # Our own pid, but a create time that is not ours: the pid was reused.
    writer, run_id = start_run(journal_dir, pid=os.getpid(), pid_create_time=123.0)
    append_samples(writer, 0, 3)
    writer.flush()
    store.sync()
    assert store.get_run(run_id).status == "interrupted"


def test_live_writer_stays_running(store: Store, journal_dir: Path) -> None:
    import psutil

    me = psutil.Process()
    writer, run_id = start_run(journal_dir, pid=me.pid, pid_create_time=me.create_time())
    append_samples(writer, 0, 3)
    writer.flush()
    store.sync()
    store.sync(stale_after_s=0)  # staleness is for other hosts only
    assert store.get_run(run_id).status == "running"


def test_other_host_by_journal_age(store: Store, journal_dir: Path) -> None:
    stale, stale_id = start_run(journal_dir, host="node-17.cluster", pid=1, name="stale")
    append_samples(stale, 0, 4)
    stale.flush()
    fresh, fresh_id = start_run(journal_dir, host="node-18.cluster", pid=1, name="fresh")
    append_samples(fresh, 0, 2)
    fresh.flush()
    old = time.time() - 301
    os.utime(journal_path(journal_dir, stale_id), (old, old))

    store.sync()
    assert store.get_run(stale_id).status == "interrupted"
    assert store.get_run(stale_id).energy_j == sum(energy_at(c, 3) for c in POWER_W)
    assert store.get_run(fresh_id).status == "running"
    store.sync(stale_after_s=3600)
    assert store.get_run(fresh_id).status == "running"


def test_records_after_interruption_reopen_and_end_the_run(store: Store, journal_dir: Path) -> None:
    writer, run_id = start_run(journal_dir, host="node-1", pid=1)
    append_samples(writer, 0, 3)
    writer.flush()
    store.sync(stale_after_s=0)
    assert store.get_run(run_id).status == "interrupted"

    # A slow shared file system: the rest of the journal shows up later.
    append_samples(writer, 3, 5)
    writer.append(
        "end",
        ended_at=T0 + 5,
        status="failed",
        energy_j={"cpu:0": 1.0},
        error="RuntimeError: CUDA out of memory",
        exit_code=1,
    )
    writer.flush()
    store.sync(stale_after_s=0)
    run = store.get_run(run_id)
    assert (run.status, run.exit_code, run.error) == (
        "failed",
        1,
        "RuntimeError: CUDA out of memory",
    )
    assert run.energy_j == 1.0 and run.ended_at == T0 + 5
