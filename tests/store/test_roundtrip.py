"""A complete journal goes in; queries and exports give back the same numbers."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest

from tests.store.journals import COMPONENTS, POWER_W, append_samples, energy_at, start_run
from wattprint.store.export import export_csv, export_json
from wattprint.store.repository import Store

T0 = 1_700_000_000.0


def write_finished_run(journal_dir: Path, **kwargs: object) -> str:
    writer, run_id = start_run(journal_dir, **kwargs)  # type: ignore[arg-type]
    writer.append("attribution", t=T0, charged=["cpu:0"], reason="start")  # not stored
    append_samples(writer, 0, 11)
    writer.append(
        "window",
        name="epoch-0",
        parent="train",
        started_at=T0 + 1,
        ended_at=T0 + 4,
        energy_j={c: POWER_W[c] * 3 for c in POWER_W},
    )
    writer.append(
        "window",
        name="train",
        parent=None,
        started_at=T0,
        ended_at=T0 + 10,
        energy_j={c: energy_at(c, 10) for c in POWER_W},
    )
    writer.append("metric", t=T0 + 4, step=100, values={"loss": 0.5, "accuracy": 0.75})
    writer.append("metric", t=T0 + 9, step=None, values={"loss": 0.25})
    writer.append("event", t=T0 + 5, source="nvml", message="GPU 1 lost: NVML_ERROR_GPU_IS_LOST")
    writer.append(
        "end",
        ended_at=T0 + 10,
        status="finished",
        energy_j={c: energy_at(c, 10) for c in POWER_W},
        error=None,
        exit_code=0,
    )
    writer.flush()
    writer.close()
    return run_id


def test_round_trip(store: Store, journal_dir: Path) -> None:
    run_id = write_finished_run(journal_dir)
    assert store.sync() == 1 + 11 + 2 + 2 + 1 + 1  # run, samples, windows, metrics, event, end

    [summary] = store.list_runs()
    assert summary.run_id == run_id
    assert (summary.project, summary.name, summary.status) == ("proj", "run", "finished")
    assert summary.started_at == T0 and summary.ended_at == T0 + 10
    assert summary.duration_s == pytest.approx(10.0)
    expected = {c: energy_at(c, 10) for c in POWER_W}
    assert summary.energy_j == pytest.approx(sum(expected.values()))
    assert summary.energy_low_j == pytest.approx(500 + 3000 + 100 * 0.5)
    assert summary.energy_high_j == pytest.approx(500 + 3000 + 100 * 1.5)
    assert summary.quality == "estimated"  # ram is estimated
    assert {c.name: c.energy_j for c in summary.components} == pytest.approx(expected)

    detail = store.get_run(run_id)
    assert detail.command == "python train.py --epochs 2"
    assert detail.git_commit == "0123456789abcdef"
    assert detail.hardware["gpus"] == ["NVIDIA H200"]
    assert detail.settings == {"sample_interval_s": 1.0}
    assert detail.exit_code == 0 and detail.error is None and detail.version == "0.1.0"
    ram = next(c for c in detail.components if c.name == "ram")
    assert (ram.kind, ram.quality, ram.basis) == ("ram", "estimated", "0.375 W/GB (2023)")
    assert (ram.low_j, ram.high_j) == pytest.approx((50.0, 150.0))

    windows = store.windows(run_id)
    assert [(w.name, w.parent) for w in windows] == [("epoch-0", "train"), ("train", None)]
    assert windows[0].duration_s == pytest.approx(3.0)
    assert windows[0].total_energy_j == pytest.approx(360 * 3)

    metrics = store.metrics(run_id)
    assert sorted((m.step, m.name, m.value) for m in metrics if m.step is not None) == [
        (100, "accuracy", 0.75),
        (100, "loss", 0.5),
    ]
    assert [m.value for m in store.metrics(run_id, name="loss")] == [0.5, 0.25]

    samples = store.samples(run_id)
    assert len(samples) == 11 * 3
    gpu = store.samples(run_id, component="gpu:0")
    assert [s.energy_j for s in gpu] == [300.0 * i for i in range(11)]
    assert gpu[0].power_w is None and gpu[1].power_w == 300.0

    [event] = store.events(run_id)
    assert (event.source, event.t) == ("nvml", T0 + 5)

    [project] = store.projects()
    assert (project.name, project.run_count, project.last_started_at) == ("proj", 1, T0)


def test_all_measured_run_is_measured(store: Store, journal_dir: Path) -> None:
    measured = [dict(c, quality="measured", low_ratio=1.0, high_ratio=1.0) for c in COMPONENTS]
    run_id = write_finished_run(journal_dir, components=measured)
    store.sync()
    run = store.get_run(run_id)
    assert run.quality == "measured"
    assert run.energy_low_j == run.energy_high_j == run.energy_j == pytest.approx(3600.0)


def test_undescribed_component_is_shown_as_estimated(store: Store, journal_dir: Path) -> None:
    run_id = write_finished_run(journal_dir, components=COMPONENTS[:2])  # no "ram"
    store.sync()
    run = store.get_run(run_id)
    ram = next(c for c in run.components if c.name == "ram")
    assert (ram.kind, ram.quality, ram.energy_j) == ("unknown", "estimated", 100.0)
    assert run.quality == "estimated" and run.energy_j == pytest.approx(3600.0)


def test_export_json(store: Store, journal_dir: Path) -> None:
    run_id = write_finished_run(journal_dir)
    store.sync()
    out = io.StringIO()
    export_json(store, run_id[:8], out)
    doc = json.loads(out.getvalue())
    assert doc["format"] == "wattprint-run"
    assert doc["run"]["run_id"] == run_id
    assert doc["run"]["energy_j"] == pytest.approx(3600.0)
    assert doc["run"]["duration_s"] == pytest.approx(10.0)
    assert {c["name"]: c["energy_j"] for c in doc["components"]}["gpu:0"] == 3000.0
    assert [w["name"] for w in doc["windows"]] == ["epoch-0", "train"]
    assert doc["windows"][1]["energy_j"] == pytest.approx(3600.0)
    assert doc["windows"][1]["duration_s"] == pytest.approx(10.0)
    assert len(doc["samples"]) == 33 and doc["samples"][-1]["energy_j"] > 0
    assert "power_w" in doc["samples"][0]
    assert len(doc["metrics"]) == 3 and len(doc["events"]) == 1


def test_export_csv(store: Store, journal_dir: Path) -> None:
    run_id = write_finished_run(journal_dir)
    store.sync()

    def table(name: str) -> list[dict[str, str]]:
        out = io.StringIO()
        export_csv(store, run_id, name, out)  # type: ignore[arg-type]
        return list(csv.DictReader(io.StringIO(out.getvalue())))

    samples = table("samples")
    assert len(samples) == 33
    last_ram = [r for r in samples if r["component"] == "ram"][-1]
    assert (last_ram["kind"], last_ram["quality"]) == ("ram", "estimated")
    assert float(last_ram["energy_j"]) == 100.0 and float(last_ram["power_w"]) == 10.0
    assert samples[0]["power_w"] == ""

    windows = table("windows")
    assert list(windows[0]) == [
        "name",
        "parent",
        "started_at",
        "ended_at",
        "duration_s",
        "energy_j",
        "cpu:0_energy_j",
        "gpu:0_energy_j",
        "ram_energy_j",
    ]
    train = windows[1]
    assert (train["name"], train["parent"]) == ("train", "")
    assert float(train["duration_s"]) == 10.0 and float(train["energy_j"]) == 3600.0
    assert float(train["gpu:0_energy_j"]) == 3000.0
    assert math.isclose(float(windows[0]["started_at"]), T0 + 1)

    metrics = table("metrics")
    assert [(r["step"], r["name"], float(r["value"])) for r in metrics] == [
        ("100", "accuracy", 0.75),
        ("100", "loss", 0.5),
        ("", "loss", 0.25),
    ]

    with pytest.raises(ValueError, match="accepted: samples, windows, metrics"):
        export_csv(store, run_id, "power", io.StringIO())  # type: ignore[arg-type]


def test_long_strings_and_nul_characters_are_stored_alike_everywhere(
    store: Store, journal_dir: Path
) -> None:
    # SQLite would store them as they are; PostgreSQL refuses strings longer than their
    # column and NUL characters: every database gets the same cut, clean strings.
    writer, run_id = start_run(journal_dir, name="n" * 300, project="p\x00q")
    writer.append("metric", t=T0, step=1, values={"m" * 300: 1.0})
    writer.append("event", t=T0, source="s" * 200, message="a\x00b")
    writer.append("end", ended_at=T0 + 1, status="failed", energy_j={}, error="e\x00", exit_code=1)
    writer.flush()
    writer.close()
    assert store.sync() == 4
    run = store.get_run(run_id)
    assert (run.name, run.project, run.error) == ("n" * 255, "pq", "e")
    assert [m.name for m in store.metrics(run_id)] == ["m" * 255]
    assert [(e.source, e.message) for e in store.events(run_id)] == [("s" * 128, "ab")]
