"""Faults injected at the lowest edge: the measured program always finishes with its own
result, and the run records which source was lost and when."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import wattprint
from tests.fakes.sysfs import FakePowercap
from wattprint.meters.rapl import RaplMeter
from wattprint.store.repository import Store

REPO = Path(__file__).resolve().parents[2]


def test_journal_write_failure_midrun_loses_nothing(data_dir: Path, powercap: FakePowercap) -> None:
    """The file-size limit makes every journal write fail with EFBIG (a full or read-only
    disk looks the same to the tracker); when it lifts, every record reaches the store."""
    script = textwrap.dedent(
        f"""
        import json, resource, signal, sys, time
        sys.path.insert(0, {str(REPO)!r})
        import wattprint
        from wattprint.meters.rapl import RaplMeter
        from tests.fakes.sysfs import FakePowercap
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        cap = FakePowercap(__import__("pathlib").Path({str(powercap.root)!r}))
        t = wattprint.track(project="f", run="efbig", meters=[RaplMeter(cap.root)],
                            sample_interval_s=0.05, flush_interval_s=0.05).start()
        time.sleep(0.2)
        size = t._journal.path.stat().st_size
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))
        size = t._journal.path.stat().st_size  # a flush may have landed before the limit
        for epoch in range(5):
            with t.window("epoch"):
                cap.advance("intel-rapl:0", 10)
                time.sleep(0.06)
            t.log(step=epoch, loss=1.0 / (epoch + 1))
        stuck = t._journal.path.stat().st_size == size
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        result = t.stop()
        print(json.dumps({{"stuck": stuck, "total": result.total_energy_j,
                          "events": [e.source for e in result.events], "answer": 42}}))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=Path.cwd()
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["answer"] == 42 and out["stuck"] is True
    assert out["total"] == pytest.approx(50)
    assert out["events"] == ["journal"]
    assert proc.stderr.count("cannot write") == 1  # logged once, not per flush
    store = Store.from_settings(wattprint.Settings(dir=data_dir))
    store.sync()
    run = store.get_run("efbig")
    assert run.status == "finished" and run.energy_j == pytest.approx(50)
    assert len(store.windows(run.run_id)) == 5
    assert len(store.metrics(run.run_id)) == 5


class _Flaky:
    """A real RAPL meter whose poll starts failing, as a driver can mid-run."""

    def __init__(self, root: Path) -> None:
        self.inner = RaplMeter(root)
        self.name = "flaky-rapl"
        self.components = self.inner.components
        self.needs_polling = True
        self.fail = False

    def read(self) -> dict[str, float]:
        if self.fail:
            raise OSError("device went away")
        return self.inner.read()

    def poll(self) -> dict[str, float]:
        return self.read()

    def close(self) -> None:
        self.inner.close()


def test_meter_failing_in_the_sampler_is_dropped_once(
    data_dir: Path, powercap: FakePowercap
) -> None:
    flaky = _Flaky(powercap.root)
    with wattprint.track(meters=[flaky], sample_interval_s=0.02) as tracker:
        powercap.advance("intel-rapl:0", 7)
        time.sleep(0.1)
        flaky.fail = True
        powercap.advance("intel-rapl:0", 100)  # after the loss: not seen
        time.sleep(0.1)
        with tracker.window("after-loss"):
            pass
    assert tracker.result is not None
    assert tracker.result.total_energy_j == pytest.approx(7)
    assert [e.source for e in tracker.result.events] == ["flaky-rapl"]
