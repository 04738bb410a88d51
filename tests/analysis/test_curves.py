"""Epoch points and the timeline over a stored run written as a tracker writes it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.store.journals import COMPONENTS, start_run
from wattprint.analysis.curves import epoch_points, metric_names, timeline
from wattprint.store.repository import Store

T0 = 1_700_000_000.0
CPU, GPU, RAM = COMPONENTS  # ram: estimated, range 0.5x..1.5x


def build_run(
    tmp_path: Path,
    epochs: Sequence[float],
    metrics: Sequence[dict[str, float]] = (),
    *,
    name: str = "run",
    components: list[dict[str, Any]] | None = None,
    component: str = "cpu:0",
    epoch_s: float = 10.0,
    samples: bool = True,
) -> tuple[Store, str]:
    """A finished run with one ``epoch`` window per entry of ``epochs`` (joules of
    ``component``), the metrics of each epoch logged at its end, and samples at each
    epoch end."""
    journals = tmp_path / "journal"
    writer, run_id = start_run(journals, name=name, started_at=T0, components=components)
    total = 0.0
    for i, joules in enumerate(epochs):
        start, end = T0 + i * epoch_s, T0 + (i + 1) * epoch_s
        writer.append(
            "window", name="epoch", parent="train", started_at=start, ended_at=end,
            energy_j={component: joules},
        )  # fmt: skip
        if i < len(metrics):
            writer.append("metric", t=end - 0.01, step=i + 1, values=metrics[i])
        total += joules
        if samples:
            writer.append("samples", rows=[[end, component, total, joules / epoch_s]])
    end_t = T0 + len(epochs) * epoch_s
    writer.append("end", ended_at=end_t, status="finished", energy_j={component: total},
                  error=None, exit_code=0)  # fmt: skip
    writer.flush()
    store = Store(f"sqlite:///{tmp_path / 'wp.db'}", journals)
    store.sync()
    return store, run_id


def test_epoch_points_energy_ranges_and_metrics(tmp_path: Path) -> None:
    journals = tmp_path / "journal"
    writer, run_id = start_run(journals, started_at=T0)
    for i in range(2):
        s = T0 + 10 * i
        writer.append("metric", t=s + 5, step=i, values={"loss": 9.0 - i})
        writer.append("metric", t=s + 9, step=i, values={"loss": 2.0 - i, "epoch": i + 1.0})
        writer.append("window", name="eval", parent="epoch", started_at=s + 8, ended_at=s + 9,
                      energy_j={"cpu:0": 1.0})  # fmt: skip
        writer.append("window", name="epoch", parent="train", started_at=s, ended_at=s + 10,
                      energy_j={"cpu:0": 100.0, "ram": 10.0})  # fmt: skip
    writer.append("metric", t=T0 + 10.5, step=2, values={"predicted_energy_j": 7.0})
    writer.flush()
    store = Store(f"sqlite:///{tmp_path / 'wp.db'}", journals)
    store.sync()
    points = epoch_points(store, run_id)
    assert [p.index for p in points] == [1, 2]
    # ram is estimated with range 0.5x..1.5x; cpu measured
    assert points[0].energy_j == 110 and points[0].low_j == 105 and points[0].high_j == 115
    assert points[1].cumulative_j == 220 and points[1].cumulative_high_j == 230
    assert points[0].metrics == {"loss": 2.0, "epoch": 1.0}  # last value; the eval window ignored
    # the windows touch: a value logged at 10.5 s belongs to epoch 2
    assert points[1].metrics == {"loss": 1.0, "epoch": 2.0, "predicted_energy_j": 7.0}
    assert metric_names(points) == ["loss", "predicted_energy_j"]


def test_timeline_fills_forward(tmp_path: Path) -> None:
    store, run_id = build_run(tmp_path, [10.0, 30.0])
    tl = timeline(store, run_id)
    assert tl.times == pytest.approx([10.0, 20.0])
    assert tl.cumulative_j["cpu:0"] == pytest.approx([10.0, 40.0])
    assert tl.power_w["cpu:0"] == pytest.approx([1.0, 3.0])
    assert tl.quality == {"cpu:0": "measured"}
