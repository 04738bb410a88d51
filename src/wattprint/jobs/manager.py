"""The job system's public API: ``JobManager`` submits, lists, shows and cancels jobs in
the store that the settings name, and settles dead jobs (``reap``) before it answers, so
no job whose process is gone is ever shown running.

Local jobs wait, queued, for a worker (``wattprint worker``, ``JobManager.worker``); SLURM
jobs are submitted at once and start when SLURM allocates them.
"""

from __future__ import annotations

import builtins
import signal
from collections.abc import Callable, Iterable
from types import TracebackType

from wattprint.config import Settings
from wattprint.errors import ConfigError, JobStateError
from wattprint.jobs import local, slurm
from wattprint.jobs.spec import JOB_KINDS, JobSpec
from wattprint.store.jobs import JobStore
from wattprint.store.models import JOB_FINAL_STATES, JOB_STATES
from wattprint.store.records import JobRecord
from wattprint.store.repository import Store

__all__ = ["STALE_AFTER_S", "JobManager"]

STALE_AFTER_S = 120.0
"""A running local job of another host without a heartbeat for this long is dead."""
_ACTIVE = ("queued", "running")


class JobManager:
    """The jobs of the store that ``settings`` name. Use as a context manager or call
    ``close()``."""

    def __init__(self, settings: Settings, stale_after_s: float = STALE_AFTER_S) -> None:
        self.settings = settings
        self.stale_after_s = stale_after_s
        self.store = Store.from_settings(settings)
        self.jobs = JobStore(self.store, settings.jobs_dir)

    def close(self) -> None:
        """Release the store. Idempotent."""
        self.store.close()

    def __enter__(self) -> JobManager:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def submit(self, spec: JobSpec) -> JobRecord:
        """Queue ``spec``; a SLURM job is submitted at once, its unset resources taken from
        the settings (and stored so with the job)."""
        if spec.executor == "slurm":
            slurm.check_available()
            spec = spec.model_copy(update={"slurm": spec.slurm.resolved(self.settings)})
        job = self.jobs.add(
            spec.kind,
            spec.run_project,
            spec.executor,
            spec.model_dump(mode="json", exclude_none=True),
        )
        if spec.executor == "slurm":
            job = slurm.submit(self.jobs, job, spec.slurm, self.settings)
        return job

    def get(self, job_id: int) -> JobRecord:
        """The job ``job_id`` (settled first if it died); ``NotFoundError`` if none."""
        self.reap([job_id])
        return self.jobs.get(job_id)

    def list(
        self, state: str | None = None, kind: str | None = None, limit: int = 100
    ) -> list[JobRecord]:
        """Jobs, newest first, optionally of one state and/or kind (dead ones settled)."""
        if state is not None and state not in JOB_STATES:
            raise ConfigError(f"state={state!r}: accepted: {', '.join(JOB_STATES)}")
        if kind is not None and kind not in JOB_KINDS:
            raise ConfigError(f"kind={kind!r}: accepted: {', '.join(JOB_KINDS)}")
        self.reap()
        return self.jobs.list(state=state, kind=kind, limit=limit)

    def log(self, job_id: int, tail_lines: int | None = None) -> str:
        """The job's log, or its last ``tail_lines`` lines."""
        return self.jobs.read_log(job_id, tail_lines)

    def cancel(self, job_id: int) -> JobRecord:
        """Cancel a queued or running job: it becomes ``cancelled`` and its process gets
        SIGTERM (a local job on this host at once, through its worker otherwise; a SLURM
        job through ``scancel``). ``JobStateError`` if it had already ended."""
        job = self.get(job_id)
        if job.state in JOB_FINAL_STATES or not self.jobs.mark(job_id, "cancelled"):
            raise JobStateError(
                f"job {job_id} is {self.jobs.get(job_id).state}: only queued or running "
                "jobs can be cancelled"
            )
        self.jobs.append_log(job_id, "cancelled")
        if job.executor == "slurm":
            slurm.cancel(job, self.settings)
        else:
            local.signal_job(job, signal.SIGTERM)
        return self.jobs.get(job_id)

    def reap(self, job_ids: Iterable[int] | None = None) -> builtins.list[JobRecord]:
        """Fail the queued or running jobs (all, or those of ``job_ids``) whose process is
        gone: a local job whose child or worker died on this host, or whose heartbeat is
        older than ``stale_after_s`` on another; a SLURM job that SLURM says has ended.
        Returns the jobs failed."""
        if job_ids is None:
            candidates = self.jobs.list(state=_ACTIVE, limit=100_000)
        else:
            candidates = [self.jobs.get(i) for i in job_ids]
        failed: builtins.list[JobRecord] = []
        for job in candidates:
            reason = self._why_dead(job)
            if reason is not None and self.jobs.fail(job.id, reason):
                failed.append(self.jobs.get(job.id))
        return failed

    def worker(
        self,
        *,
        poll_s: float = 2.0,
        device: str | None = None,
        report: Callable[[str], None] = lambda line: None,
    ) -> local.Worker:
        """A worker running this store's queued local jobs (see ``local.Worker``)."""
        return local.Worker(
            self.settings, self.jobs, self.reap, poll_s=poll_s, device=device, report=report
        )

    def _why_dead(self, job: JobRecord) -> str | None:
        if job.state not in _ACTIVE:
            return None
        if job.executor == "slurm":
            return slurm.reap_slurm(job, self.settings)
        return local.reap_local(job, self.stale_after_s)
