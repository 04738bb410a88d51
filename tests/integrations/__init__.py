"""Tests of the training integrations: real frameworks training tiny models on CPU,
real trackers over a fake powercap tree, the real store read back.

Shared helpers live here (the tests of each framework import them)."""

from __future__ import annotations

from pathlib import Path

import wattprint
from tests.fakes.sysfs import FakePowercap
from wattprint.meters.rapl import RaplMeter
from wattprint.store.records import MetricRecord, WindowRecord
from wattprint.store.repository import Store

PACKAGE = "intel-rapl:0"  # the zone the tests advance: component ``cpu:0``


def options(powercap: FakePowercap, run: str) -> dict[str, object]:
    """Tracker options for a callback: the real RAPL meter over the fake tree, with the
    background sampler out of the way so every figure comes from the windows alone."""
    return {
        "project": "integrations",
        "run": run,
        "meters": [RaplMeter(powercap.root)],
        "sample_interval_s": 3600.0,
    }


def stored(data_dir: Path, run: str) -> tuple[str, list[WindowRecord], list[MetricRecord]]:
    """The run's status, windows and metrics as the real store ingested them."""
    store = Store.from_settings(wattprint.Settings(dir=data_dir))
    store.sync()
    detail = store.get_run(run)
    return detail.status, store.windows(detail.run_id), store.metrics(detail.run_id)


def shape(windows: list[WindowRecord]) -> list[tuple[str, str | None]]:
    """(name, parent) of each window, in the order they closed."""
    return [(w.name, w.parent) for w in windows]


def series(metrics: list[MetricRecord], name: str) -> list[tuple[int | None, float | None]]:
    """(step, value) of one metric, in the order logged."""
    return [(m.step, m.value) for m in metrics if m.name == name]
