"""Shared helpers of the exporter tests: a tracker over the fake powercap tree and
hand-written journal records for record-level tests."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import wattprint
from tests.fakes.sysfs import FakePowercap
from wattprint.meters.rapl import RaplMeter
from wattprint.tracking.sinks import Sink
from wattprint.tracking.tracker import Tracker

T0 = 1_700_000_000.0


def advance(powercap: FakePowercap, zone: str, joules: float) -> None:
    """``powercap.advance`` without its truncate-then-write window, in which the sampler
    thread (every 0.05 s here) may read an empty ``energy_uj`` and drop the meter: the
    new value is written in place with one ``pwrite`` (counters only grow here)."""
    path = powercap.zone_path(zone) / "energy_uj"
    old = path.read_bytes()
    new = f"{int(old) + round(joules * 1e6)}\n".encode()
    if len(new) < len(old) or int(new) > powercap.max_range_uj:
        powercap.advance(zone, joules)  # a wrap-around: not used by these tests
        return
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, new, 0)
    finally:
        os.close(fd)


def tracker(powercap: FakePowercap, sinks: Sequence[Sink], **options: Any) -> Tracker:
    return wattprint.track(
        project="p",
        meters=[RaplMeter(powercap.root)],
        sample_interval_s=0.05,
        sinks=sinks,
        **options,
    )


def run_record(**settings: Any) -> dict[str, Any]:
    component = {
        "name": "cpu:0",
        "kind": "cpu",
        "source": "rapl",
        "quality": "measured",
        "description": "package 0",
        "basis": "RAPL energy counter",
        "low_ratio": 1.0,
        "high_ratio": 1.0,
    }
    estimated = {
        **component,
        "name": "ram",
        "kind": "ram",
        "source": "ram-model",
        "quality": "estimated",
        "basis": "0.375 W/GB",
        "low_ratio": 0.5,
        "high_ratio": 2.0,
    }
    return {
        "kind": "run",
        "seq": 0,
        "run_id": "abc123",
        "project": "p",
        "name": "r1",
        "host": "node1",
        "started_at": T0,
        "settings": settings,
        "components": [component, estimated],
    }


def samples(t: float, *rows: tuple[str, float, float | None]) -> dict[str, Any]:
    return {"kind": "samples", "seq": 1, "rows": [[T0 + t, c, e, p] for c, e, p in rows]}


def window(name: str, t0: float, t1: float, **energy: float) -> dict[str, Any]:
    return {
        "kind": "window",
        "seq": 2,
        "name": name,
        "parent": None,
        "started_at": T0 + t0,
        "ended_at": T0 + t1,
        "energy_j": {k.replace("_", ":"): v for k, v in energy.items()},
    }


def end(t: float, **energy: float) -> dict[str, Any]:
    return {
        "kind": "end",
        "seq": 9,
        "ended_at": T0 + t,
        "status": "finished",
        "energy_j": {k.replace("_", ":"): v for k, v in energy.items()},
        "error": None,
        "exit_code": None,
    }


MALFORMED: list[Any] = [
    "not a mapping",
    {"kind": "samples", "rows": "nope"},
    {"kind": "samples", "rows": [["x"], [1.0, 5, 2.0, None], [1.0, "cpu:0", "many", None]]},
    {"kind": "samples", "rows": [[T0 + 1, "cpu:0", -5.0, None], None]},
    {"kind": "window", "name": 3, "energy_j": {"cpu:0": 1.0}},
    {"kind": "window", "name": "w", "started_at": "?", "ended_at": None},
    {"kind": "metric", "values": [1, 2]},
    {"kind": "end", "energy_j": ["cpu:0", 3]},
    {"kind": "mystery"},
    {},
]
