"""The SLURM executor, through submitit: a job is submitted with ``sbatch`` as a function
that runs the job's entry point on the node (``run.run_slurm_job``), with the resources of
its spec; SLURM's output of the job (stdout and stderr together) is the job's log.

The job's process records its own state in the store (running, then succeeded or failed)
as a local job's does. SLURM's state settles the jobs that ended without recording one
(a time limit, out of memory, a node failure, ``scancel`` outside wattprint): ``scontrol``
is asked first (it knows recent jobs without accounting), then submitit's watcher
(``sacct``, on clusters that keep accounting).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from wattprint.config import Settings
from wattprint.errors import ConfigError, WattprintError
from wattprint.jobs.run import run_slurm_job
from wattprint.jobs.spec import SlurmResources
from wattprint.store.jobs import JobStore
from wattprint.store.records import JobRecord

__all__ = ["ALIVE_STATES", "cancel", "check_available", "reap_slurm", "slurm_state", "submit"]

ALIVE_STATES = frozenset(
    {
        "PENDING",
        "CONFIGURING",
        "RUNNING",
        "COMPLETING",
        "SUSPENDED",
        "REQUEUED",
        "REQUEUE_HOLD",
        "REQUEUE_FED",
        "RESIZING",
        "SIGNALING",
        "STAGE_OUT",
        "STOPPED",
        "RESV_DEL_HOLD",
    }
)
"""SLURM job states of a job that has not ended."""
_SCONTROL_TIMEOUT_S = 30


def check_available() -> None:
    """``ConfigError`` unless jobs can be submitted to SLURM from here."""
    if shutil.which("sbatch") is None:
        raise ConfigError(
            "executor='slurm': sbatch is not on PATH here (submit from a SLURM login node); "
            "accepted executors here: local"
        )
    try:
        import submitit  # noqa: F401
    except ModuleNotFoundError:
        raise ConfigError(
            "executor='slurm' needs submitit: pip install 'wattprint[jobs]'"
        ) from None


def submit(
    jobs: JobStore, job: JobRecord, resources: SlurmResources, settings: Settings
) -> JobRecord:
    """Submit the queued job ``job`` to SLURM; it stays queued until it starts on a node.
    A submission SLURM refuses fails the job and raises ``WattprintError``."""
    import submitit

    executor = submitit.AutoExecutor(folder=_folder(settings), cluster="slurm")
    executor.update_parameters(
        name=f"wattprint-job-{job.id}",
        slurm_stderr_to_stdout=True,
        **resources.submitit_parameters(),
    )
    try:
        submitted = executor.submit(run_slurm_job, job.id, str(settings.dir), settings.db)
    except Exception as exc:  # sbatch refused it: unknown partition, too much memory, …
        reason = f"sbatch refused the job: {exc}"
        jobs.fail(job.id, reason)
        raise WattprintError(f"job {job.id}: {reason}") from None
    jobs.update(job.id, slurm_job_id=str(submitted.job_id), log_path=str(submitted.paths.stdout))
    return jobs.get(job.id)


def slurm_state(slurm_job_id: str, settings: Settings) -> str | None:
    """SLURM's state of a job (``RUNNING``, ``COMPLETED``, ``TIMEOUT``…), ``UNKNOWN`` once
    SLURM has forgotten it, ``None`` when SLURM cannot be asked now."""
    try:
        found = subprocess.run(
            ["scontrol", "show", "job", "-o", slurm_job_id],
            capture_output=True,
            text=True,
            timeout=_SCONTROL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    state = re.search(r"\bJobState=(\S+)", found.stdout)
    if found.returncode == 0 and state is not None:
        return state.group(1)
    if "Invalid job id" not in found.stderr:
        return None  # the controller did not answer: ask again later
    job: Any = _submitit_job(slurm_job_id, settings)
    words = str(job.state).split()  # "CANCELLED by 0" → CANCELLED
    return words[0] if words else "UNKNOWN"


def reap_slurm(job: JobRecord, settings: Settings) -> str | None:
    """Why the queued or running SLURM job ``job`` is dead, or ``None`` while SLURM runs
    it (or cannot say)."""
    if job.state not in ("queued", "running") or job.slurm_job_id is None:
        return None
    state = slurm_state(job.slurm_job_id, settings)
    if state is None or state in ALIVE_STATES:
        return None
    if state == "UNKNOWN":
        return f"SLURM job {job.slurm_job_id} is no longer known to SLURM"
    return f"SLURM job {job.slurm_job_id} ended ({state}) without recording a result"


def cancel(job: JobRecord, settings: Settings) -> None:
    """Cancel the job's SLURM job (``scancel``); SLURM sends SIGTERM to its processes."""
    if job.slurm_job_id is not None:
        _submitit_job(job.slurm_job_id, settings).cancel(check=False)


def _folder(settings: Settings) -> Path:
    return settings.jobs_dir / "slurm" / "%j"


def _submitit_job(slurm_job_id: str, settings: Settings) -> Any:
    from submitit.slurm.slurm import SlurmJob

    return SlurmJob(folder=_folder(settings), job_id=slurm_job_id)
