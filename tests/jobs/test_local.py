"""The local executor: a worker runs real benchmark jobs in child processes; failures,
cancels, and dead processes end as failed or cancelled jobs, never as running ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.jobs.conftest import LONG_BENCH, QUICK_BENCH, bench_spec, start_worker, wait_for
from wattprint.errors import ConfigError, JobStateError
from wattprint.jobs.local import HOST
from wattprint.jobs.manager import JobManager
from wattprint.jobs.spec import JobSpec
from wattprint.store.records import JobRecord

pytest.importorskip("torch")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _running_with_pid(manager: JobManager, job_id: int) -> JobRecord | None:
    job = manager.get(job_id)
    return job if job.state == "running" and job.pid is not None else None


def test_a_runner_rejection_fails_the_job_with_its_log(manager: JobManager) -> None:
    job = manager.submit(bench_spec({**QUICK_BENCH, "models": ["nosuch"]}))
    (ran,) = manager.worker(poll_s=0.1).run(once=True)
    assert ran.id == job.id and ran.state == "failed"
    assert "ConfigError: model(s) 'nosuch' not in suite 'nlp'; accepted:" in (ran.error or "")
    log = manager.log(job.id)
    assert f"starts job {job.id}" in log
    assert "Traceback" in log and "'nosuch'" in log
    assert manager.worker(poll_s=0.1).run(once=True) == []  # the queue is empty
    with pytest.raises(JobStateError, match=f"job {job.id} is failed"):
        manager.cancel(job.id)


def test_cancel_a_running_job(manager: JobManager) -> None:
    job = manager.submit(bench_spec(LONG_BENCH))
    worker = start_worker()
    wait_for(lambda: "gpt2: epoch" in manager.log(job.id), "the benchmark to train")
    running = manager.get(job.id)
    assert running.state == "running" and running.host == HOST
    cancelled = manager.cancel(job.id)
    assert cancelled.state == "cancelled" and cancelled.ended_at is not None
    worker.communicate(timeout=30)
    assert worker.returncode == 0
    assert _gone(running.pid or 0)
    ended = manager.get(job.id)
    assert ended.state == "cancelled"
    (run_id,) = ended.run_ids  # the benchmark's run, ended as a failed run
    manager.store.sync()
    run = manager.store.get_run(run_id)
    assert run.status == "failed" and "terminated by SIGTERM" in (run.error or "")
    assert "cancelled" in manager.log(job.id)


def test_a_killed_job_process_fails_the_job(manager: JobManager) -> None:
    job = manager.submit(bench_spec(LONG_BENCH))
    worker = start_worker()
    running = wait_for(lambda: _running_with_pid(manager, job.id), "the job's process")
    os.kill(running.pid or 0, signal.SIGKILL)
    _, stderr = worker.communicate(timeout=30)
    failed = manager.get(job.id)
    assert failed.state == "failed", stderr
    assert (failed.error or "").startswith("its process was killed by SIGKILL without a result")
    assert f"worker {worker.pid} on {HOST} starts job {job.id}" in (failed.error or "")


def test_a_dead_worker_is_reaped_and_its_job_stopped(manager: JobManager) -> None:
    job = manager.submit(bench_spec(LONG_BENCH))
    worker = start_worker()
    running = wait_for(lambda: _running_with_pid(manager, job.id), "the job's process")
    worker.kill()
    worker.wait(timeout=10)
    failed = manager.get(job.id)  # a reader reaps
    assert failed.state == "failed"
    assert f"its worker (pid {worker.pid}) is gone" in (failed.error or "")
    wait_for(lambda: _gone(running.pid or 0), "the orphaned job process to stop", 30)
    assert [j.id for j in manager.list(state="running")] == []


def test_reap_by_pid_here_and_by_heartbeat_elsewhere(manager: JobManager) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(finished.stdout)
    jobs = manager.jobs
    here, remote, fresh, queued = (manager.submit(bench_spec(QUICK_BENCH)).id for _ in range(4))
    jobs.mark(here, "running", host=HOST, worker_pid=os.getpid(), pid=dead_pid)
    jobs.append_log(here, "last words")
    jobs.mark(remote, "running", host="elsewhere", worker_pid=1, pid=1)
    jobs.update(remote, heartbeat_at=time.time() - 1000)
    jobs.mark(fresh, "running", host="elsewhere", worker_pid=1, pid=1)
    reaped = {j.id: j.error or "" for j in manager.reap()}
    assert set(reaped) == {here, remote}
    assert reaped[here].startswith(f"its process (pid {dead_pid}) is gone")
    assert "last words" in reaped[here]
    assert reaped[remote].startswith("no heartbeat from elsewhere for 1000 s")
    assert manager.get(fresh).state == "running"
    assert manager.get(queued).state == "queued"
    with pytest.raises(ConfigError, match="state='done': accepted: queued, running"):
        manager.list(state="done")
    with pytest.raises(ConfigError, match="device='gpu1': accepted: cpu, cuda:N"):
        manager.worker(device="gpu1")


def test_worker_device_sets_the_visible_gpus(manager: JobManager, data_dir: Path) -> None:
    env = manager.worker(device="cuda:1")._environment()
    assert (env["CUDA_VISIBLE_DEVICES"], env["WATTPRINT_DIR"]) == ("1", str(data_dir))
    assert manager.worker(device="cpu")._environment()["CUDA_VISIBLE_DEVICES"] == ""
    assert "CUDA_VISIBLE_DEVICES" not in manager.worker()._environment()


def test_a_finetune_job_records_its_run(
    manager: JobManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("peft")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the job's process inherits it
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    from tests.finetune.fixtures import save_model_dir, write_dataset

    finetune = {
        "task": "text-classification",
        "model": str(save_model_dir("text-classification", tmp_path)),
        "dataset": str(write_dataset("text-classification", tmp_path / "data", fmt="csv", n=40)),
        "epochs": 1,
    }
    job = manager.submit(JobSpec.build(kind="finetune", finetune=finetune, project="ft-jobs"))
    (ran,) = manager.worker(poll_s=0.1).run(once=True)
    assert (ran.id, ran.state, ran.project) == (job.id, "succeeded", "ft-jobs")
    (run_id,) = ran.run_ids
    manager.store.sync()
    run = manager.store.get_run(run_id)
    assert (run.project, run.status, run.labels["task"]) == (
        "ft-jobs", "finished", "text-classification",
    )  # fmt: skip
    assert f"run {run_id}: " in manager.log(job.id)
