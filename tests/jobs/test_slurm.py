"""The SLURM executor on a real one-node cluster: a benchmark job runs under SLURM and
its run lands in the store; cancel goes through scancel; a SLURM job that ended without
recording a result is failed by reap()."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.jobs.conftest import LONG_BENCH, QUICK_BENCH, bench_spec, wait_for
from wattprint.errors import WattprintError
from wattprint.jobs.manager import JobManager
from wattprint.jobs.slurm import slurm_state

pytest.importorskip("torch")
pytest.importorskip("submitit")

RESOURCES = {"cpus": 1, "mem_gb": 1, "time_min": 10}


@pytest.fixture
def on_slurm(
    slurm: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    tmp_path.chmod(0o755)  # the job's user reads the data folder
    for name, value in slurm.items():
        monkeypatch.setenv(name, value)
    return slurm


def _final(manager: JobManager, job_id: int) -> str | None:
    state = manager.get(job_id).state
    return state if state in ("succeeded", "failed", "cancelled") else None


def test_a_job_runs_under_slurm_and_records_its_run(
    on_slurm: dict[str, str], manager: JobManager
) -> None:
    job = manager.submit(bench_spec(QUICK_BENCH, executor="slurm", slurm=RESOURCES))
    assert job.slurm_job_id is not None and job.log_path is not None
    assert job.spec["slurm"] == {**RESOURCES, "gpus": 0}  # completed from the settings
    assert wait_for(lambda: _final(manager, job.id), "the SLURM job", 120) == "succeeded"
    done = manager.get(job.id)
    (run_id,) = done.run_ids
    manager.store.sync()
    run = manager.store.get_run(run_id)
    assert run.status == "finished" and run.labels["job"] == str(job.id)
    log = manager.log(job.id)
    assert "gpt2: inference" in log and f"job {job.id} succeeded" in log
    slurm_job = job.slurm_job_id
    wait_for(lambda: slurm_state(slurm_job, manager.settings) == "COMPLETED", "SLURM's end")


def test_cancel_a_slurm_job_and_reap_one_that_ended_silently(
    on_slurm: dict[str, str], manager: JobManager
) -> None:
    job = manager.submit(bench_spec(LONG_BENCH, executor="slurm", slurm=RESOURCES))
    wait_for(lambda: manager.get(job.id).state == "running", "the SLURM job to start", 60)
    assert manager.cancel(job.id).state == "cancelled"
    assert job.slurm_job_id is not None
    wait_for(
        lambda: slurm_state(job.slurm_job_id or "", manager.settings) == "CANCELLED",
        "SLURM to cancel the job",
    )
    assert manager.get(job.id).state == "cancelled"

    true_job = subprocess.run(
        ["sbatch", "--parsable", "--wrap", "true"], capture_output=True, text=True, check=True
    ).stdout.strip()
    spec = bench_spec(QUICK_BENCH, executor="slurm").model_dump(mode="json")
    silent = manager.jobs.add("bench", "bench", "slurm", spec)  # whose SLURM job records nothing
    manager.jobs.update(silent.id, slurm_job_id=true_job)
    wait_for(lambda: slurm_state(true_job, manager.settings) == "COMPLETED", "sbatch --wrap true")
    failed = manager.get(silent.id)
    assert failed.state == "failed"
    assert (failed.error or "").startswith(
        f"SLURM job {true_job} ended (COMPLETED) without recording a result"
    )


def test_a_job_sbatch_refuses_fails_at_once(on_slurm: dict[str, str], manager: JobManager) -> None:
    spec = bench_spec(QUICK_BENCH, executor="slurm", slurm={"partition": "nosuch"})
    with pytest.raises(WattprintError, match=r"sbatch refused the job: .*invalid partition"):
        manager.submit(spec)
    (job,) = manager.list()
    assert job.state == "failed" and job.slurm_job_id is None
    assert "invalid partition" in (job.error or "")
