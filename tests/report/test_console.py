"""The terminal view of a run's metrics: a grid while it fits, one row per name beyond."""

from __future__ import annotations

from rich.console import Console

from wattprint.report.console import _metrics_table
from wattprint.store.records import MetricRecord


def _text(table: object) -> str:
    console = Console(width=80, record=True)
    console.print(table)
    return console.export_text()


def _metric(step: int | None, name: str, value: float) -> MetricRecord:
    return MetricRecord(seq=0, t=0.0, step=step, name=name, value=value)


def test_few_metrics_are_a_step_by_name_grid() -> None:
    text = _text(_metrics_table([_metric(1, "loss", 0.5), _metric(2, "loss", 0.25)]))
    assert "step" in text and "loss" in text and "0.25" in text


def test_many_metrics_get_one_row_per_name_with_the_last_value() -> None:
    metrics = [_metric(s, f"metric_{i}", s * 10 + i) for s in (1, 2) for i in range(8)]
    metrics.append(_metric(None, "final_accuracy", 0.875))
    text = _text(_metrics_table(metrics))
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "final_accuracy" in text and "0.875" in text
    row = next(line for line in text.splitlines() if "metric_3" in line)
    assert "23" in row and "2" in row  # last value 2*10+3, at step 2, 2 values
