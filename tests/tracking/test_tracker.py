"""The tracker over real meters reading a fake sysfs tree, writing a real journal that a
real SQLite store ingests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import wattprint
from tests.fakes.sysfs import FakePowercap
from wattprint.errors import ConfigError, WattprintError
from wattprint.meters.rapl import RaplMeter
from wattprint.store.repository import Store
from wattprint.tracking.tracker import Tracker


def _tracker(powercap: FakePowercap, **options: object) -> Tracker:
    return wattprint.track(
        project="p", meters=[RaplMeter(powercap.root)], sample_interval_s=0.05, **options
    )


def _store(data_dir: Path) -> Store:
    store = Store.from_settings(wattprint.Settings(dir=data_dir))
    store.sync()
    return store


def test_window_energy_is_the_counter_difference(data_dir: Path, powercap: FakePowercap) -> None:
    with _tracker(powercap, run="r1") as tracker:
        tracker.begin_window("epoch")
        powercap.advance("intel-rapl:0", 30.0)
        powercap.advance("intel-rapl:1", 12.5)
        powercap.advance("intel-rapl:0:1", 4.0)
        powercap.advance("intel-rapl:0:0", 25.0)  # core: inside package-0, not added
        m = tracker.end_window("epoch")
    assert m.energy_j == pytest.approx({"cpu:0": 30.0, "cpu:1": 12.5, "dram:0": 4.0})
    assert m.total_energy_j == pytest.approx(46.5)
    assert m.quality == "measured"
    assert m.duration_s >= 0
    assert tracker.result is not None
    assert tracker.result.total_energy_j == pytest.approx(46.5)
    assert tracker.result.status == "finished"


def test_nested_and_overlapping_windows(data_dir: Path, powercap: FakePowercap) -> None:
    with _tracker(powercap) as tracker:
        tracker.begin_window("epoch")
        powercap.advance("intel-rapl:0", 10)
        with tracker.window("step"):
            powercap.advance("intel-rapl:0", 3)
        tracker.begin_window("eval")
        powercap.advance("intel-rapl:0", 5)
        epoch = tracker.end_window("epoch")
        powercap.advance("intel-rapl:0", 2)
        evaluation = tracker.end_window("eval")
    step = next(w for w in tracker.result.windows if w.name == "step") if tracker.result else None
    assert step is not None and step.energy_j["cpu:0"] == pytest.approx(3)
    assert epoch.energy_j["cpu:0"] == pytest.approx(18)
    assert evaluation.energy_j["cpu:0"] == pytest.approx(7)
    stored = _store(data_dir)
    windows = stored.windows(tracker.run_id)
    assert [(w.name, w.parent) for w in windows] == [
        ("step", "epoch"),
        ("epoch", None),
        ("eval", "epoch"),
    ]


def test_window_misuse_gets_clear_errors(data_dir: Path, powercap: FakePowercap) -> None:
    with _tracker(powercap) as tracker:
        tracker.begin_window("epoch")
        with pytest.raises(WattprintError, match="'epoch' is already open"):
            tracker.begin_window("epoch")
        with pytest.raises(WattprintError, match=r"no open window named 'eval' \(open: 'epoch'\)"):
            tracker.end_window("eval")
        with pytest.raises(WattprintError, match=r"loss=.*not a number"):
            tracker.log(step=1, loss="high")  # type: ignore[arg-type]
    with pytest.raises(WattprintError, match="not running"):
        tracker.begin_window("late")


def test_run_metrics_and_totals_reach_the_store(data_dir: Path, powercap: FakePowercap) -> None:
    with _tracker(powercap, run="stored") as tracker:
        for epoch in range(3):
            with tracker.window("epoch"):
                powercap.advance("intel-rapl:0", 100 + epoch)
            tracker.log(step=epoch, loss=1.0 / (epoch + 1), accuracy=0.5 + epoch / 10)
    store = _store(data_dir)
    detail = store.get_run("stored")
    assert detail.status == "finished"
    assert detail.energy_j == pytest.approx(303)
    assert detail.quality == "measured"
    metrics = store.metrics(tracker.run_id)
    assert sorted((m.step, m.name, round(m.value, 3)) for m in metrics)[:2] == [
        (0, "accuracy", 0.5),
        (0, "loss", 1.0),
    ]
    assert len(store.windows(tracker.run_id)) == 3


def test_exception_marks_run_failed_and_propagates(data_dir: Path, powercap: FakePowercap) -> None:
    tracker = _tracker(powercap, run="boom")
    with pytest.raises(ZeroDivisionError), tracker:
        powercap.advance("intel-rapl:0", 8)
        _ = 1 / 0
    assert tracker.result is not None and tracker.result.status == "failed"
    detail = _store(data_dir).get_run("boom")
    assert detail.status == "failed"
    assert "ZeroDivisionError" in (detail.error or "")
    assert detail.energy_j == pytest.approx(8)


def test_decorator_runs_each_call_under_a_new_run(data_dir: Path, powercap: FakePowercap) -> None:
    @_tracker(powercap)
    def work(joules: float) -> float:
        powercap.advance("intel-rapl:1", joules)
        return joules * 2

    assert work(5) == 10
    assert work(7) == 14
    runs = _store(data_dir).list_runs(project="p")
    assert sorted(r.energy_j for r in runs) == pytest.approx([5, 7])


def test_stop_is_idempotent_and_start_twice_is_harmless(
    data_dir: Path, powercap: FakePowercap
) -> None:
    tracker = _tracker(powercap)
    assert tracker.start() is tracker.start()
    first = tracker.stop()
    assert tracker.stop() is first


def test_vanishing_sysfs_file_drops_the_meter_and_keeps_energy(
    data_dir: Path, powercap: FakePowercap, caplog: pytest.LogCaptureFixture
) -> None:
    with _tracker(powercap, run="lost") as tracker:
        powercap.advance("intel-rapl:0", 20)
        with tracker.window("before"):
            powercap.advance("intel-rapl:0", 5)
        shutil.rmtree(powercap.zone_path("intel-rapl:1"))
        with tracker.window("after"):
            pass  # the program goes on
        result_value = 42
    assert result_value == 42
    assert tracker.result is not None
    assert tracker.result.total_energy_j == pytest.approx(25)
    assert [e.source for e in tracker.result.events] == ["rapl"]
    assert sum("rapl" in r.message and "lost" in r.message for r in caplog.records) == 1
    store = _store(data_dir)
    assert [e.source for e in store.events(tracker.run_id)] == ["rapl"]
    assert store.get_run("lost").energy_j == pytest.approx(25)


def test_labels_are_stored_and_select_runs(data_dir: Path, powercap: FakePowercap) -> None:
    for model in ("resnet50", "vgg16"):
        with _tracker(powercap, run=model, labels={"benchmark": "b1", "model": model}):
            powercap.advance("intel-rapl:0", 10)
    with _tracker(powercap, run="other", labels={"benchmark": "b2", "model": "vgg16"}):
        pass
    store = _store(data_dir)
    assert store.get_run("resnet50").labels == {"benchmark": "b1", "model": "resnet50"}
    chosen = store.list_runs(labels={"benchmark": "b1"})
    assert sorted(r.name for r in chosen) == ["resnet50", "vgg16"]
    assert [r.name for r in store.list_runs(labels={"model": "vgg16"}, limit=1)] == ["other"]
    assert store.list_runs(labels={"benchmark": "b3"}) == []


@pytest.mark.parametrize("labels", [{"": "x"}, {"epochs": 3}, {1: "x"}])
def test_bad_labels_are_one_clear_error(labels: dict[object, object]) -> None:
    with pytest.raises(ConfigError, match="labels are non-empty strings"):
        wattprint.track(labels=labels)  # type: ignore[arg-type]


def test_invalid_option_is_one_clear_error(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="attribution='gpu'"):
        wattprint.track(attribution="gpu")


def test_unwritable_data_folder_falls_back_without_breaking(
    tmp_path: Path, powercap: FakePowercap, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    tracker = wattprint.track(dir=blocker / "sub", meters=[RaplMeter(powercap.root)])
    with tracker:
        powercap.advance("intel-rapl:0", 3)
    assert tracker.result is not None and tracker.result.total_energy_j == pytest.approx(3)
    journals = list((tmp_path / "tmp" / "wattprint-journal").glob("*.jsonl"))
    assert [j.stem for j in journals] == [tracker.run_id]
    assert [e.source for e in tracker.result.events] == ["journal"]
    assert str(journals[0]) in tracker.result.events[0].message
