"""A plain PyTorch loop with ``EpochTracker`` / ``tracked_epochs``, and the device
synchronisation at window edges (``torch.cuda`` patched: the lowest edge here)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import wattprint
from tests.fakes.sysfs import FakePowercap
from tests.integrations import PACKAGE, options, series, shape, stored
from wattprint.errors import WattprintError
from wattprint.integrations import _common
from wattprint.integrations.torch_loop import EpochTracker, tracked_epochs
from wattprint.meters.rapl import RaplMeter
from wattprint.store.records import RunDetail
from wattprint.store.repository import Store


def _train(loop: EpochTracker, powercap: FakePowercap, epochs: int, steps: int) -> list[float]:
    """A real linear regression; 1 J per step and 0.5 J per eval on the fake counter."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(32, 4), torch.randn(32, 1)
    val_losses = []
    for _ in range(epochs):
        with loop.epoch():
            for _ in range(steps):
                with loop.step():
                    opt.zero_grad()
                    loss = torch.nn.functional.mse_loss(model(x), y)
                    loss.backward()
                    opt.step()
                    powercap.advance(PACKAGE, 1.0)
                loop.log(loss=loss)
            with loop.eval(), torch.no_grad():
                val = torch.nn.functional.mse_loss(model(x), y).item()
                powercap.advance(PACKAGE, 0.5)
            val_losses.append(val)
            loop.log(val_loss=val)
    return val_losses


def test_windows_and_metrics_line_up_with_the_loop(data_dir: Path, powercap: FakePowercap) -> None:
    with EpochTracker(**options(powercap, "loop")) as loop:
        val_losses = _train(loop, powercap, epochs=2, steps=3)
    status, windows, metrics = stored(data_dir, "loop")
    assert status == "finished"
    per_epoch = [("step", "epoch")] * 3 + [("eval", "epoch"), ("epoch", "train")]
    assert shape(windows) == per_epoch * 2 + [("train", None)]
    epochs = [w for w in windows if w.name == "epoch"]
    assert [w.energy_j["cpu:0"] for w in epochs] == pytest.approx([3.5, 3.5])
    assert [w.energy_j["cpu:0"] for w in windows if w.name == "eval"] == pytest.approx([0.5, 0.5])
    assert epochs[0].ended_at <= epochs[1].started_at
    assert series(metrics, "epoch") == [(3, 1.0), (6, 2.0)]
    assert [s for s, _ in series(metrics, "loss")] == [1, 2, 3, 4, 5, 6]
    assert series(metrics, "val_loss") == [
        (3, pytest.approx(val_losses[0])),
        (6, pytest.approx(val_losses[1])),
    ]
    assert loop.tracker is not None and loop.tracker.result is not None
    assert loop.tracker.result.total_energy_j == pytest.approx(7.0)


def test_exception_in_the_loop_fails_the_run_and_propagates(
    data_dir: Path, powercap: FakePowercap
) -> None:
    with pytest.raises(FloatingPointError), EpochTracker(**options(powercap, "nan")) as loop:
        with loop.epoch():
            powercap.advance(PACKAGE, 2.0)
        with loop.epoch():
            raise FloatingPointError("loss is nan")
    status, windows, _ = stored(data_dir, "nan")
    assert status == "failed"
    assert shape(windows) == [("epoch", "train"), ("epoch", "train"), ("train", None)]
    assert loop.tracker is not None and loop.tracker.result is not None
    assert loop.tracker.result.status == "failed"


def test_tracked_epochs_records_into_a_running_tracker(
    data_dir: Path, powercap: FakePowercap
) -> None:
    with wattprint.track(
        project="p", run="te", meters=[RaplMeter(powercap.root)], sample_interval_s=3600.0
    ) as tracker:
        seen = []
        for epoch in tracked_epochs(tracker, 3):
            powercap.advance(PACKAGE, epoch + 1)
            seen.append(epoch)
    assert seen == [0, 1, 2]
    _, windows, metrics = stored(data_dir, "te")
    assert shape(windows) == [("epoch", None)] * 3
    assert [w.energy_j["cpu:0"] for w in windows] == pytest.approx([1, 2, 3])
    assert [v for _, v in series(metrics, "epoch")] == [1, 2, 3]


def test_tracked_epochs_rejects_bad_input(powercap: FakePowercap, data_dir: Path) -> None:
    tracker = wattprint.track(meters=[RaplMeter(powercap.root)], sample_interval_s=3600.0)
    with pytest.raises(WattprintError, match=r"epochs=-1 is not a count"):
        tracked_epochs(tracker, -1)
    with pytest.raises(WattprintError, match="needs a running tracker"):
        tracked_epochs(tracker, 2)


def test_tracker_and_options_together_is_one_clear_error(powercap: FakePowercap) -> None:
    tracker = wattprint.track(meters=[RaplMeter(powercap.root)], sample_interval_s=3600.0)
    with pytest.raises(WattprintError, match=r"either tracker= or tracker options \(project\)"):
        EpochTracker(tracker, project="x")


def test_a_given_tracker_is_started_and_stopped_only_if_not_running(
    data_dir: Path, powercap: FakePowercap
) -> None:
    mine = wattprint.track(
        run="mine", meters=[RaplMeter(powercap.root)], sample_interval_s=3600.0
    ).start()
    with EpochTracker(mine) as loop, loop.epoch():
        powercap.advance(PACKAGE, 1.0)
    assert mine.result is None  # still the caller's to stop
    mine.log(step=0, after=1.0)
    mine.stop()
    fresh = wattprint.track(
        run="fresh", meters=[RaplMeter(powercap.root)], sample_interval_s=3600.0
    )
    with EpochTracker(fresh) as loop, loop.epoch():
        powercap.advance(PACKAGE, 1.0)
    assert fresh.result is not None and fresh.result.status == "finished"
    assert stored(data_dir, "mine")[0] == "finished"


def test_wattprint_failures_never_reach_the_loop(
    data_dir: Path, powercap: FakePowercap, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = wattprint.track(
        run="clash", meters=[RaplMeter(powercap.root)], sample_interval_s=3600.0
    ).start()
    tracker.begin_window("epoch")  # the user's own: every epoch() of the loop now clashes
    ran = 0
    with caplog.at_level(logging.DEBUG, logger="wattprint"), EpochTracker(tracker) as loop:
        for _ in range(3):
            with loop.epoch():
                ran += 1
    tracker.stop()
    assert ran == 3
    failures = [r for r in caplog.records if "callback failed in epoch" in r.getMessage()]
    assert [r.levelno for r in failures] == [logging.WARNING] + [logging.DEBUG] * 2
    assert "'epoch' is already open" in failures[0].getMessage()
    stopped = wattprint.track(meters=[RaplMeter(powercap.root)], sample_interval_s=3600.0)
    stopped.start().stop()
    with (
        caplog.at_level(logging.WARNING, logger="wattprint"),
        EpochTracker(stopped) as loop,
        loop.epoch(),
    ):
        ran += 1
    assert ran == 4
    assert "already stopped" in caplog.records[-1].getMessage()


class _FakeCuda:
    """``torch.cuda``'s three answers, counted: the device edge, faked."""

    def __init__(self, available: bool, initialized: bool) -> None:
        self.available, self.initialized, self.syncs = available, initialized, 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: self.available)
        monkeypatch.setattr(torch.cuda, "is_initialized", lambda: self.initialized)
        monkeypatch.setattr(torch.cuda, "synchronize", self._synchronize)

    def _synchronize(self, device: object = None) -> None:
        self.syncs += 1


def test_every_window_edge_synchronises_cuda_when_in_use(
    data_dir: Path, powercap: FakePowercap, monkeypatch: pytest.MonkeyPatch
) -> None:
    cuda = _FakeCuda(available=True, initialized=True)
    cuda.install(monkeypatch)
    with EpochTracker(**options(powercap, "gpu")) as loop:
        _train(loop, powercap, epochs=2, steps=3)
    # train: 2 edges; per epoch: epoch 2 + steps 3x2 + eval 2 = 10
    assert cuda.syncs == 2 + 2 * 10


@pytest.mark.parametrize(("available", "initialized"), [(False, False), (True, False)])
def test_no_synchronise_without_cuda_in_use(
    data_dir: Path,
    powercap: FakePowercap,
    monkeypatch: pytest.MonkeyPatch,
    available: bool,
    initialized: bool,
) -> None:
    cuda = _FakeCuda(available, initialized)
    cuda.install(monkeypatch)
    with EpochTracker(**options(powercap, "cpu")) as loop:
        _train(loop, powercap, epochs=1, steps=2)
    assert cuda.syncs == 0
    assert len(stored(data_dir, "cpu")[1]) == 5


def test_synchronize_does_not_import_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "torch")
    _common.synchronize_device()  # must not raise nor import torch
    assert "torch" not in sys.modules


_ABANDONED = """
import sys
from wattprint.integrations.torch_loop import EpochTracker
from wattprint.meters.rapl import RaplMeter

loop = EpochTracker(project="p", run="abandoned", meters=[RaplMeter(sys.argv[1])])
loop.__enter__()  # no ``with``: nothing but the interpreter's exit sees the failure
with loop.epoch():
    raise MemoryError("out of memory (pretend)")
"""


def test_a_run_abandoned_by_an_uncaught_exception_is_failed_at_exit(
    data_dir: Path, powercap: FakePowercap
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _ABANDONED, str(powercap.root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "MemoryError" in done.stderr
    status, windows, _ = stored(data_dir, "abandoned")
    assert status == "failed"
    assert shape(windows) == [("epoch", "train"), ("train", None)]
    store_detail = _detail(data_dir, "abandoned")
    assert "MemoryError: out of memory" in (store_detail.error or "")


def _detail(data_dir: Path, run: str) -> RunDetail:
    store = Store.from_settings(wattprint.Settings(dir=data_dir))
    store.sync()
    return store.get_run(run)


def test_importing_the_integrations_is_cheap() -> None:
    code = (
        "import sys, wattprint.integrations, wattprint.integrations.torch_loop;"
        "heavy = {'torch', 'lightning', 'transformers', 'keras', 'sqlalchemy'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_energy_aware_stopper_stops_a_real_loop(data_dir: Path, powercap: FakePowercap) -> None:
    from wattprint.analysis.stopping import EnergyAwareStopper

    # 3.5 J per epoch (3 steps + eval); a 12 J budget: 3 epochs + 3.5 > 12 after epoch 3
    stopper = EnergyAwareStopper(monitor="val_loss", energy_budget_j=12.0, total_epochs=10)
    epochs = 0
    with EpochTracker(stopper=stopper, **options(powercap, "stopped")) as loop:
        for _ in range(10):
            _train(loop, powercap, epochs=1, steps=3)
            epochs += 1
            if loop.should_stop:
                break
    assert epochs == 3 and loop.decision is not None and "energy budget" in loop.decision.reason
    _, _, metrics = stored(data_dir, "stopped")
    assert series(metrics, "wattprint_stop") == [(9, 1.0)]
    assert [v for _, v in series(metrics, "predicted_energy_j")] == pytest.approx([35.0] * 3)
    store = Store.from_settings(wattprint.Settings(dir=data_dir))
    events = store.events(store.get_run("stopped").run_id)
    assert any(e.source == "early-stopping" and "after epoch 3" in e.message for e in events)
