"""Run one job: ``python -m wattprint.jobs.run JOB_ID`` (the child a local worker starts)
and ``run_slurm_job`` (the function submitit runs on a SLURM node) both end in ``execute``.

``execute`` runs the job's fine-tuning or benchmark through their public functions, beats
a heartbeat into the store every ``HEARTBEAT_S`` seconds, records the runs the job
produced, and marks it succeeded or failed. SIGTERM (a cancel, ``scancel``, a stopping
worker) ends the job's runs as failed runs and the job as failed, unless it was cancelled.
Output goes to stdout/stderr, which the executors send to the job's log.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Sequence
from types import FrameType

from wattprint.config import Settings, load_settings
from wattprint.errors import WattprintError
from wattprint.jobs.spec import JobSpec
from wattprint.store.jobs import JobStore
from wattprint.store.repository import Store

__all__ = ["HEARTBEAT_S", "JOB_LABEL", "execute", "main", "run_slurm_job"]

log = logging.getLogger("wattprint")

HEARTBEAT_S = 5.0
JOB_LABEL = "job"
"""Label carrying the job id on every run of a benchmark job."""
_MAX_RUNS = 10_000


class JobTerminated(BaseException):
    """SIGTERM reached the job (a BaseException, so a suite does not treat it as one
    model's failure and go on)."""


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m wattprint.jobs.run JOB_ID``: run a job a local worker has claimed."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m wattprint.jobs.run JOB_ID", file=sys.stderr)
        return 2
    return execute(load_settings(), int(args[0]))


def run_slurm_job(job_id: int, data_dir: str, db: str | None) -> int:
    """What submitit runs on the SLURM node: claim the queued job, then run it."""
    settings = load_settings(dir=data_dir, db=db)
    with Store.from_settings(settings) as store:
        jobs = JobStore(store, settings.jobs_dir)
        if not jobs.mark(job_id, "running", host=socket.gethostname(), pid=os.getpid()):
            print(f"job {job_id} is {jobs.get(job_id).state}: not run", file=sys.stderr)
            return 1
    return execute(settings, job_id)


def execute(settings: Settings, job_id: int) -> int:
    """Run the running job ``job_id`` to its end; returns 0 if it succeeded, else 1."""
    with Store.from_settings(settings) as store:
        jobs = JobStore(store, settings.jobs_dir)
        job = jobs.get(job_id)
        if job.state != "running":
            print(f"job {job_id} is {job.state}: not run", file=sys.stderr)
            return 1
        spec = JobSpec.model_validate(job.spec)
        print(f"job {job_id}: {spec.kind} on {socket.gethostname()} (pid {os.getpid()})")
        sys.stdout.flush()
        error: str | None = None
        previous = signal.signal(signal.SIGTERM, _terminate)
        heartbeat = _Heartbeat(jobs, job_id)
        heartbeat.start()
        try:
            error = _perform(spec, job_id, settings, jobs)
        except BaseException as exc:  # the job's end is recorded whatever ended it
            if not isinstance(exc, JobTerminated):
                traceback.print_exc()
            error = f"{type(exc).__name__}: {exc}"
        finally:
            heartbeat.stop()
            signal.signal(signal.SIGTERM, previous)
        if spec.bench is not None:  # its runs, also those of a failed or cancelled suite
            store.sync()
            jobs.attach_runs(job_id, _job_runs(store, job_id))
        if error is None:
            jobs.mark(job_id, "succeeded")
            print(f"job {job_id} succeeded: runs {', '.join(jobs.get(job_id).run_ids)}")
            return 0
        jobs.mark(job_id, "failed", error=error)  # unless it was cancelled meanwhile
        print(f"job {job_id} {jobs.get(job_id).state}: {error}", file=sys.stderr)
        return 1


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise JobTerminated("terminated by SIGTERM (cancelled, or its worker or SLURM stopped it)")


class _Heartbeat:
    """A thread recording that the job lives; if the job is no longer running in the
    store (cancelled or reaped elsewhere), it sends SIGTERM to this process."""

    def __init__(self, jobs: JobStore, job_id: int) -> None:
        self._jobs = jobs
        self._job_id = job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="wattprint-job-heartbeat")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                alive = self._jobs.heartbeat(self._job_id)
            except Exception as exc:  # the store unreachable for a while must not end the job
                log.warning("wattprint: job heartbeat not recorded (%s)", exc)
                continue
            if not alive:
                os.kill(os.getpid(), signal.SIGTERM)
                return


def _perform(spec: JobSpec, job_id: int, settings: Settings, jobs: JobStore) -> str | None:
    """Run the job's payload; returns why it failed, or ``None``. A fine-tuning's run is
    attached here; a benchmark's runs carry the job's label and are attached after."""
    if spec.finetune is not None:
        from wattprint.finetune.runner import finetune

        result = finetune(
            spec.finetune.model_copy(update={"project": spec.run_project}), settings=settings
        )
        jobs.attach_runs(job_id, [result.run_id])
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items())
        print(f"run {result.run_id}: {metrics or 'no eval split'}; model in {result.output_dir}")
        return None
    if spec.bench is None:  # pragma: no cover - JobSpec guarantees a payload
        raise WattprintError(f"job {job_id} has no payload")
    from wattprint.jobs.benchmark import run_bench

    run_settings = settings.model_copy(update={"project": spec.run_project})
    outcome = run_bench(spec.bench, run_settings, {JOB_LABEL: str(job_id)})
    if not outcome.failures:
        return None
    failed = "; ".join(f"{model}: {message}" for model, message in outcome.failures)
    return f"{len(outcome.failures)} model(s) failed: {failed}"


def _job_runs(store: Store, job_id: int) -> list[str]:
    """The runs labelled with the job's id, oldest first."""
    runs = store.list_runs(labels={JOB_LABEL: str(job_id)}, limit=_MAX_RUNS)
    return [r.run_id for r in reversed(runs)]


if __name__ == "__main__":
    sys.exit(main())
