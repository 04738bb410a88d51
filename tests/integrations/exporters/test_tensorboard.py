"""TensorBoardExporter: scalars written through a real SummaryWriter, read back from
the event file with TensorBoard's EventAccumulator."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.fakes.sysfs import FakePowercap
from tests.integrations.exporters.conftest import (
    MALFORMED,
    T0,
    advance,
    run_record,
    samples,
    tracker,
    window,
)
from wattprint.errors import WattprintError

pytest.importorskip("torch.utils.tensorboard")
from tensorboard.backend.event_processing.event_accumulator import (
    EventAccumulator,
)
from torch.utils.tensorboard import SummaryWriter

from wattprint.integrations.exporters import TensorBoardExporter


def _scalars(log_dir: Path) -> dict[str, list[tuple[int, float, float]]]:
    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {
        tag: [(e.step, e.value, e.wall_time) for e in acc.Scalars(tag)]
        for tag in acc.Tags()["scalars"]
    }


def test_samples_windows_and_metrics_through_a_tracker(
    tmp_path: Path, data_dir: Path, powercap: FakePowercap
) -> None:
    log_dir = tmp_path / "tb"
    exporter = TensorBoardExporter(log_dir)
    with tracker(powercap, [exporter]) as t:
        for step, joules in enumerate((30.0, 10.0)):
            with t.window("epoch"):
                advance(powercap, "intel-rapl:0", joules)
            t.log(step=step * 100, loss=1.0 / (step + 1))
        t.log(accuracy=0.5)
        t.log(accuracy=0.75)
        deadline = time.monotonic() + 5  # two sampler ticks (every 0.05 s): a power
        while exporter._sample_index.get("cpu:0", 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert t.result is not None
    scalars = _scalars(log_dir)
    epoch = scalars["wattprint/window/epoch/energy_j"]
    assert [(s, v) for s, v, _ in epoch] == [(0, pytest.approx(30.0)), (1, pytest.approx(10.0))]
    assert [(s, v) for s, v, _ in scalars["wattprint/metric/loss"]] == [(0, 1.0), (100, 0.5)]
    assert [(s, v) for s, v, _ in scalars["wattprint/metric/accuracy"]] == [(0, 0.5), (1, 0.75)]
    energy = scalars["wattprint/energy_j/cpu:0"]
    assert [s for s, _, _ in energy] == list(range(len(energy)))  # step = sample index
    assert energy[-1][1] == pytest.approx(t.result.total.energy_j["cpu:0"])
    assert energy[-1][2] == pytest.approx(t.result.total.end_time, abs=1e-3)  # wall time
    assert "wattprint/power_w/cpu:0" in scalars
    assert "wattprint/energy_j/cpu:1" in scalars


def test_record_level_steps_and_wall_times(tmp_path: Path) -> None:
    exporter = TensorBoardExporter(tmp_path)
    exporter.record(run_record())
    exporter.record(samples(1, ("cpu:0", 10.0, None), ("ram", 1.0, None)))
    exporter.record(samples(2, ("cpu:0", 30.0, 20.0)))
    exporter.record(window("eval", 0, 2, cpu_0=5.0, ram=1.5))
    for bad in MALFORMED:
        exporter.record(bad)
    exporter.close()
    exporter.record(samples(3, ("cpu:0", 40.0, 10.0)))  # after close: ignored
    scalars = _scalars(tmp_path)
    assert scalars["wattprint/energy_j/cpu:0"] == [(0, 10.0, T0 + 1), (1, 30.0, T0 + 2)]
    assert scalars["wattprint/power_w/cpu:0"] == [(1, 20.0, T0 + 2)]  # no power at first
    assert scalars["wattprint/window/eval/energy_j"] == [(0, 6.5, T0 + 2)]
    assert scalars["wattprint/energy_j/ram"] == [(0, 1.0, T0 + 1)]


def test_concurrent_samples_keep_one_index_per_component(tmp_path: Path) -> None:
    exporter = TensorBoardExporter(tmp_path)

    def feed(comp: str) -> None:
        for i in range(200):
            exporter.record(samples(i, (comp, float(i), 1.0)))

    threads = [threading.Thread(target=feed, args=(f"gpu:{n}",)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    exporter.close()
    scalars = _scalars(tmp_path)
    for n in range(4):
        steps = sorted(s for s, _, _ in scalars[f"wattprint/energy_j/gpu:{n}"])
        assert steps == list(range(200))


def test_a_shared_writer_stays_open(tmp_path: Path) -> None:
    writer = SummaryWriter(str(tmp_path))
    exporter = TensorBoardExporter(writer=writer)
    exporter.record(window("step", 0, 1, cpu_0=2.0))
    exporter.close()
    writer.add_scalar("user/loss", 0.25, 7)  # the user's writer still works
    writer.close()
    scalars = _scalars(tmp_path)
    assert scalars["user/loss"][0][:2] == (7, 0.25)
    assert scalars["wattprint/window/step/energy_j"][0][:2] == (0, 2.0)


def test_bad_arguments_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(WattprintError, match="exactly one of log_dir"):
        TensorBoardExporter()
    with pytest.raises(WattprintError, match="exactly one of log_dir"):
        TensorBoardExporter(tmp_path, writer=object())
    with pytest.raises(WattprintError, match="is not accepted; pass a torch"):
        TensorBoardExporter(writer=object())
