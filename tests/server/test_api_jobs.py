"""The job endpoints: the queue, the spec's schema, launching and cancelling behind the
token, bad specs answered 400, and a job submitted from the API that runs under the
one-node SLURM cluster and records its run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.jobs.conftest import LONG_BENCH, QUICK_BENCH, wait_for
from tests.server.test_api import ok, refused
from wattprint.config import Settings
from wattprint.server.app import create_app
from wattprint.server.auth import AccessPolicy

TOKEN = "t0ken-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    app = create_app(Settings(dir=data_dir), AccessPolicy(TOKEN, token_for_read=False))
    with TestClient(app) as c:
        yield c


def bench(**values: Any) -> dict[str, Any]:
    return {"kind": "bench", "bench": QUICK_BENCH, **values}


def test_launch_needs_the_token(client: TestClient) -> None:
    refused(client.post("/api/jobs", json=bench()), 401, "access token")
    wrong = {"Authorization": "Bearer guess"}
    refused(client.post("/api/jobs", json=bench(), headers=wrong), 403, "wrong access token")
    assert ok(client, "/api/jobs")["jobs"] == []  # nothing was queued
    job = client.post("/api/jobs", json=bench(), headers=AUTH).json()["job"]
    refused(client.post(f"/api/jobs/{job['id']}/cancel"), 401, "access token")
    refused(client.post(f"/api/jobs/{job['id']}/cancel", headers=wrong), 403)
    assert ok(client, f"/api/jobs/{job['id']}")["job"]["state"] == "queued"


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"kind": "train"}, ["kind='train'", "'finetune' or 'bench'"]),
        (bench(gpu=1), ["unknown option 'gpu'", "executor", "slurm"]),
        ({"kind": "bench"}, ["a bench job needs a 'bench' section"]),
        (bench(bench={"suite": "speech"}), ["bench.suite='speech'"]),
        (bench(slurm={"gpus": -1}), ["slurm.gpus=-1"]),
        ({"kind": "finetune", "finetune": {"model": "m"}}, ["finetune.task is required"]),
    ],
)
def test_bad_specs_are_400_with_the_reason(
    client: TestClient, spec: dict[str, Any], words: list[str]
) -> None:
    refused(client.post("/api/jobs", json=spec, headers=AUTH), 400, "bad request", *words)


def test_queue_show_log_and_cancel(client: TestClient) -> None:
    schema = ok(client, "/api/jobs/schema")
    assert schema["kinds"] == ["finetune", "bench"] and "bench" in schema["schema"]["properties"]
    created = client.post("/api/jobs", json=bench(project="ui"), headers=AUTH)
    assert created.status_code == 201, created.text
    job = created.json()["job"]
    assert job["state"] == "queued" and job["project"] == "ui" and "log_path" not in job
    assert [j["id"] for j in ok(client, "/api/jobs", params={"state": "queued"})["jobs"]] == [
        job["id"]
    ]
    assert ok(client, "/api/jobs", params={"kind": "finetune"})["jobs"] == []
    shown = ok(client, f"/api/jobs/{job['id']}")
    assert shown["job"]["spec"]["bench"]["suite"] == "nlp" and isinstance(shown["log_tail"], str)
    cancelled = client.post(f"/api/jobs/{job['id']}/cancel", headers=AUTH)
    assert cancelled.status_code == 200 and cancelled.json()["job"]["state"] == "cancelled"
    assert "cancelled" in client.get(f"/api/jobs/{job['id']}/log").text
    again = client.post(f"/api/jobs/{job['id']}/cancel", headers=AUTH)
    refused(again, 409, "is cancelled", "only queued or running")
    refused(client.get("/api/jobs/999"), 404, "999")
    refused(client.get("/api/jobs/abc"), 400, "job_id='abc'")
    refused(client.get("/api/jobs", params={"state": "done"}), 400, "state='done'")


def test_slurm_without_slurm_is_a_clear_400(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    refused(client.post("/api/jobs", json=bench(executor="slurm"), headers=AUTH), 400, "sbatch")


def test_a_job_submitted_from_the_api_runs_under_slurm(
    slurm: dict[str, str], client: TestClient, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("submitit")
    data_dir.parent.chmod(0o755)  # the job's user reads the data folder
    for name, value in slurm.items():
        monkeypatch.setenv(name, value)
    resources = {"cpus": 1, "mem_gb": 1, "time_min": 10}
    created = client.post("/api/jobs", json=bench(executor="slurm", slurm=resources), headers=AUTH)
    assert created.status_code == 201, created.text
    job_id = created.json()["job"]["id"]
    assert created.json()["job"]["slurm_job_id"]

    def ended() -> dict[str, Any] | None:
        job: dict[str, Any] = ok(client, f"/api/jobs/{job_id}")["job"]
        return job if job["state"] in ("succeeded", "failed", "cancelled") else None

    job = wait_for(ended, "the SLURM job", 180)
    assert job["state"] == "succeeded", ok(client, f"/api/jobs/{job_id}")["log_tail"]
    (run_id,) = job["run_ids"]
    run = ok(client, f"/api/runs/{run_id}")["run"]
    assert run["status"] == "finished" and run["labels"]["job"] == str(job_id)
    assert run_id in [r["run_id"] for r in ok(client, "/api/runs")["runs"]]


def test_cancel_of_a_running_local_job_reaches_its_worker(
    client: TestClient, data_dir: Path
) -> None:
    from tests.jobs.conftest import start_worker

    created = client.post("/api/jobs", json=bench(bench=LONG_BENCH), headers=AUTH).json()["job"]
    worker = start_worker()
    try:
        wait_for(
            lambda: ok(client, f"/api/jobs/{created['id']}")["job"]["state"] == "running",
            "the job to start",
            60,
        )
        cancelled = client.post(f"/api/jobs/{created['id']}/cancel", headers=AUTH).json()
        assert cancelled["job"]["state"] == "cancelled"
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert ok(client, f"/api/jobs/{created['id']}")["job"]["state"] == "cancelled"
