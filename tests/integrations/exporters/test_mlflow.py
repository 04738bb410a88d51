"""MlflowExporter against a real MLflow file store, read back through MlflowClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.sysfs import FakePowercap
from tests.integrations.exporters.conftest import (
    MALFORMED,
    advance,
    end,
    run_record,
    samples,
    tracker,
    window,
)
from wattprint.carbon import resolve_location, yearly_intensity
from wattprint.errors import WattprintError

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

from wattprint.integrations.exporters import MlflowExporter  # noqa: E402


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowClient]:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    try:
        yield MlflowClient()
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(previous)


def _history(client: MlflowClient, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def test_windows_totals_tags_and_emissions_in_the_active_run(
    client: MlflowClient, data_dir: Path, powercap: FakePowercap
) -> None:
    with mlflow.start_run() as active:
        exporter = MlflowExporter(sample_every_s=0)
        with tracker(powercap, [exporter], region="FR") as t:
            for joules in (30.0, 10.0, 4.0):
                with t.window("epoch"):
                    advance(powercap, "intel-rapl:0", joules)
            advance(powercap, "intel-rapl:1", 6.0)
    assert t.result is not None
    run_id = active.info.run_id
    assert _history(client, run_id, "wattprint.epoch.energy_j") == [
        (0, pytest.approx(30.0)),
        (1, pytest.approx(10.0)),
        (2, pytest.approx(4.0)),
    ]
    total = t.result.total_energy_j
    assert total == pytest.approx(50.0)
    assert _history(client, run_id, "wattprint.energy_j")[-1][1] == pytest.approx(total)
    # The cumulative series of a component ends at its total.
    cpu0 = _history(client, run_id, "wattprint.energy_j.cpu_0")
    assert cpu0[-1][1] == pytest.approx(44.0)
    assert [v for _, v in cpu0] == sorted(v for _, v in cpu0)
    kg = total / 3.6e6 * yearly_intensity(resolve_location("FR")).g_per_kwh / 1000
    assert _history(client, run_id, "wattprint.emissions_kg")[-1][1] == pytest.approx(kg)
    tags = client.get_run(run_id).data.tags
    assert tags["wattprint.run_id"] == t.run_id
    assert tags["wattprint.cpu_0.quality"] == "measured"
    assert tags["wattprint.cpu_0.source"] == "rapl"
    assert tags["wattprint.cpu_0.basis"]
    assert tags["wattprint.region"] == "FR"
    assert tags["wattprint.pue"] == "1"
    assert float(tags["wattprint.intensity_g_per_kwh"]) > 0
    assert tags["wattprint.status"] == "finished"
    # The user's run is still theirs: the exporter neither ended nor replaced it.
    assert client.get_run(run_id).info.status == "FINISHED"


def test_without_a_region_no_emissions_are_logged(
    client: MlflowClient, data_dir: Path, powercap: FakePowercap
) -> None:
    with mlflow.start_run() as active, tracker(powercap, [MlflowExporter()]):
        advance(powercap, "intel-rapl:0", 5.0)
    data = client.get_run(active.info.run_id).data
    assert data.metrics["wattprint.energy_j"] == pytest.approx(5.0)
    assert not any("emissions" in key for key in data.metrics)
    assert not any(k in data.tags for k in ("wattprint.region", "wattprint.intensity_source"))


def test_starts_and_ends_its_own_run_when_none_is_active(
    client: MlflowClient, data_dir: Path, powercap: FakePowercap
) -> None:
    exporter = MlflowExporter(prefix="energy")
    with pytest.raises(RuntimeError), tracker(powercap, [exporter], run="my-run"):
        advance(powercap, "intel-rapl:0", 2.0)
        raise RuntimeError("training diverged")
    assert exporter.run_id is not None
    assert mlflow.active_run() is None
    run = client.get_run(exporter.run_id)
    assert run.info.run_name == "my-run"
    assert run.info.status == "FAILED"
    assert run.data.metrics["energy.energy_j"] == pytest.approx(2.0)
    assert run.data.tags["energy.status"] == "failed"


def test_samples_are_throttled_per_component(client: MlflowClient) -> None:
    run_id = client.create_run("0").info.run_id
    exporter = MlflowExporter(run_id, sample_every_s=10)
    exporter.record(run_record())
    for t in range(0, 31, 2):  # a sample every 2 s for 30 s
        exporter.record(samples(t, ("cpu:0", 3.0 * t, 3.0 if t else None), ("ram", t, 1.0)))
    exporter.record(end(31, cpu_0=93.0, ram=31.0))
    exporter.close()
    cpu0 = _history(client, run_id, "wattprint.energy_j.cpu_0")
    assert [step for step, _ in cpu0] == [0, 10, 20, 30, 31]  # throttled, then the total
    assert cpu0[-1][1] == pytest.approx(93.0)
    assert [step for step, _ in _history(client, run_id, "wattprint.power_w.cpu_0")] == [10, 20, 30]
    assert len(_history(client, run_id, "wattprint.energy_j.ram")) == 5
    tags = client.get_run(run_id).data.tags
    assert tags["wattprint.ram.quality"] == "estimated"


def test_emissions_use_the_run_region_pue_and_estimate_range(client: MlflowClient) -> None:
    run_id = client.create_run("0").info.run_id
    exporter = MlflowExporter(run_id)
    exporter.record(run_record(region="DE", pue=1.5))
    exporter.record(end(3600, cpu_0=3.6e6, ram=3.6e6))  # 2 kWh, half of it estimated
    exporter.close()
    data = client.get_run(run_id).data
    g = yearly_intensity(resolve_location("DE")).g_per_kwh
    assert data.metrics["wattprint.emissions_kg"] == pytest.approx(2 * 1.5 * g / 1000)
    assert data.metrics["wattprint.emissions_low_kg"] < data.metrics["wattprint.emissions_kg"]
    assert data.metrics["wattprint.emissions_high_kg"] > data.metrics["wattprint.emissions_kg"]
    assert data.metrics["wattprint.duration_s"] == pytest.approx(3600)
    assert data.tags["wattprint.pue"] == "1.5"
    assert data.tags["wattprint.pue_reason"] == "given by the user"


def test_malformed_records_are_skipped(client: MlflowClient) -> None:
    run_id = client.create_run("0").info.run_id
    exporter = MlflowExporter(run_id)
    exporter.record(run_record())
    for bad in MALFORMED:
        exporter.record(bad)
    exporter.record(window("eval/0", 0, 2, cpu_0=7.0))
    exporter.close()
    exporter.record(window("late", 0, 2, cpu_0=1.0))  # after close: ignored
    metrics = client.get_run(run_id).data.metrics
    assert metrics["wattprint.eval_0.energy_j"] == pytest.approx(7.0)
    assert metrics["wattprint.eval_0.duration_s"] == pytest.approx(2.0)
    assert not any("late" in key for key in metrics)


def test_bad_arguments_get_clear_errors(client: MlflowClient) -> None:
    with pytest.raises(WattprintError, match="prefix 'a/b' is not accepted"):
        MlflowExporter(prefix="a/b")
    with pytest.raises(WattprintError, match="sample_every_s=-1 is not accepted"):
        MlflowExporter(sample_every_s=-1)
    with pytest.raises(WattprintError, match="MLflow run 'nope' not found"):
        MlflowExporter("nope")


def test_a_failing_backend_never_reaches_the_caller(
    client: MlflowClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_id = client.create_run("0").info.run_id
    exporter = MlflowExporter(run_id)
    client.delete_run(run_id)  # logging to a deleted run is refused by MLflow
    exporter.record(run_record())
    for t in range(3):
        exporter.record(samples(t * 20, ("cpu:0", 10.0 * t, None)))
    exporter.record(end(60, cpu_0=30.0))
    exporter.close()
    failures = [r for r in caplog.records if "MLflow logging failed" in r.getMessage()]
    assert len(failures) == 1
