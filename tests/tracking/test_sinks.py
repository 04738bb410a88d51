"""Sinks receive the journal's records as they are written; a failing one is dropped."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import wattprint
from tests.fakes.sysfs import FakePowercap
from wattprint.meters.rapl import RaplMeter


class Recorder:
    def __init__(self) -> None:
        self.records: list[Mapping[str, Any]] = []
        self.closed = 0

    def record(self, record: Mapping[str, Any]) -> None:
        self.records.append(record)

    def close(self) -> None:
        self.closed += 1


class Broken(Recorder):
    def record(self, record: Mapping[str, Any]) -> None:
        if record["kind"] == "window":
            raise RuntimeError("exporter down")


def test_sink_sees_every_record_in_order(data_dir: Path, powercap: FakePowercap) -> None:
    sink = Recorder()
    with wattprint.track(
        meters=[RaplMeter(powercap.root)], sinks=[sink], sample_interval_s=0.02
    ) as tracker:
        with tracker.window("epoch"):
            powercap.advance("intel-rapl:0", 5)
            time.sleep(0.1)
        tracker.log(step=1, loss=0.5)
    kinds = [r["kind"] for r in sink.records]
    assert kinds[0] == "run" and kinds[-1] == "end"
    assert {"samples", "window", "metric"} <= set(kinds)
    assert [r["seq"] for r in sink.records] == sorted(r["seq"] for r in sink.records)
    window = next(r for r in sink.records if r["kind"] == "window")
    assert window["energy_j"]["cpu:0"] == pytest.approx(5)
    assert sink.closed == 1


def test_failing_sink_is_dropped_once(data_dir: Path, powercap: FakePowercap) -> None:
    broken, good = Broken(), Recorder()
    with wattprint.track(meters=[RaplMeter(powercap.root)], sinks=[broken, good]) as tracker:
        for _ in range(3):
            with tracker.window("epoch"):
                powercap.advance("intel-rapl:0", 1)
    assert tracker.result is not None
    assert tracker.result.total_energy_j == pytest.approx(3)
    assert [e.source for e in tracker.result.events] == ["Broken"]
    assert sum(r["kind"] == "window" for r in good.records) == 3
    assert broken.closed == 1
