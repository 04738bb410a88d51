"""The job queue's table: jobs added, read, listed, and moved between states atomically,
with a log file each.

A state change is one ``UPDATE … WHERE id = :id AND state IN (…)`` from the states that
lead to the new one; its row count says whether it happened. So a queued job is claimed
by exactly one worker, and a final state is never left::

    queued ──► running ──► succeeded
      │           ├──────► failed
      │           └──────► cancelled
      ├──────────────────► cancelled     (before it started)
      └──────────────────► failed        (never started: submission failed, SLURM lost it)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Row, insert, select, update

from wattprint.errors import NotFoundError, StoreError
from wattprint.store.ingest import write_transaction
from wattprint.store.models import JOB_STATES, JobRow
from wattprint.store.records import JobRecord
from wattprint.store.repository import Store

__all__ = ["TRANSITIONS", "JobStore"]

TRANSITIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "running": ("queued",),
    "succeeded": ("running",),
    "failed": ("queued", "running"),
    "cancelled": ("queued", "running"),
}
"""Each state a job can move to, and the states it can move there from."""

_FIELDS: Final = frozenset(
    {"heartbeat_at", "host", "worker_pid", "pid", "slurm_job_id", "log_path", "error"}
)
_TAIL_BYTES = 256 * 1024


class JobStore:
    """The jobs of a run store; job logs are files in ``log_dir`` (``<id>.log``) unless
    an executor names another file (SLURM's output)."""

    def __init__(self, store: Store, log_dir: Path) -> None:
        self.store = store
        self.log_dir = log_dir

    def add(self, kind: str, project: str, executor: str, spec: Mapping[str, Any]) -> JobRecord:
        """Queue a new job; its log file is ``<log_dir>/<id>.log``."""
        with write_transaction(self.store.engine) as conn:
            key = conn.execute(
                insert(JobRow).values(
                    kind=kind,
                    project=project,
                    executor=executor,
                    state="queued",
                    spec=dict(spec),
                    created_at=time.time(),
                    run_ids=[],
                )
            ).inserted_primary_key
            if key is None:  # pragma: no cover - every dialect wattprint supports returns it
                raise StoreError("the store did not return the new job's id")
            job_id = int(key[0])
            log_path = str(self.log_dir / f"{job_id}.log")
            conn.execute(update(JobRow).where(JobRow.id == job_id).values(log_path=log_path))
        return self.get(job_id)

    def get(self, job_id: int) -> JobRecord:
        """The job ``job_id``; ``NotFoundError`` if there is none."""
        with self.store.engine.connect() as conn:
            row = conn.execute(select(JobRow).where(JobRow.id == job_id)).first()
        if row is None:
            raise NotFoundError(f"no job with id {job_id!r}")
        return _record(row)

    def list(
        self,
        state: str | Iterable[str] | None = None,
        kind: str | None = None,
        executor: str | None = None,
        limit: int = 100,
    ) -> list[JobRecord]:
        """Jobs, newest first, optionally in one state (or several), of one kind, of one
        executor."""
        query = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id.desc())
        if state is not None:
            states = (state,) if isinstance(state, str) else tuple(state)
            unknown = [s for s in states if s not in JOB_STATES]
            if unknown:
                raise ValueError(f"state={unknown[0]!r}: accepted: {', '.join(JOB_STATES)}")
            query = query.where(JobRow.state.in_(states))
        if kind is not None:
            query = query.where(JobRow.kind == kind)
        if executor is not None:
            query = query.where(JobRow.executor == executor)
        with self.store.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).all()
        return [_record(r) for r in rows]

    def mark(self, job_id: int, state: str, **fields: Any) -> bool:
        """Move the job to ``state`` if its current state leads there (``TRANSITIONS``),
        setting ``fields`` too; returns whether it moved. ``running`` sets ``started_at``
        and a first heartbeat, a final state ``ended_at``."""
        sources = TRANSITIONS.get(state)
        if sources is None:
            raise ValueError(f"state={state!r}: a job moves to: {', '.join(TRANSITIONS)}")
        values = _checked(fields)
        now = time.time()
        values["state"] = state
        if state == "running":
            values.update(started_at=now, heartbeat_at=now)
        else:
            values["ended_at"] = now
        with write_transaction(self.store.engine) as conn:
            result = conn.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.state.in_(sources))
                .values(**values)
            )
            return result.rowcount == 1

    def fail(self, job_id: int, reason: str, tail_lines: int = 20) -> bool:
        """Mark a queued or running job failed for ``reason``; the error holds the reason and
        the log's last ``tail_lines`` lines, and the log gets the reason. Returns whether
        the job moved (not if it had already ended)."""
        tail = self.read_log(job_id, tail_lines).rstrip()
        error = f"{reason}\n--- last lines of the log ---\n{tail}" if tail else reason
        if not self.mark(job_id, "failed", error=error):
            return False
        self.append_log(job_id, reason)
        return True

    def claim_next(self, host: str, worker_pid: int, executor: str = "local") -> JobRecord | None:
        """Claim the oldest queued job of ``executor`` for the worker ``worker_pid`` on
        ``host`` (it becomes ``running``); ``None`` when none is left. Several workers
        can call this at once: each job goes to exactly one of them."""
        while True:
            with self.store.engine.connect() as conn:
                job_id = conn.scalar(
                    select(JobRow.id)
                    .where(JobRow.state == "queued", JobRow.executor == executor)
                    .order_by(JobRow.created_at, JobRow.id)
                    .limit(1)
                )
            if job_id is None:
                return None
            if self.mark(job_id, "running", host=host, worker_pid=worker_pid):
                return self.get(job_id)

    def update(self, job_id: int, *, only_if: str | None = None, **fields: Any) -> bool:
        """Set ``fields`` (``pid``, ``heartbeat_at``, ``slurm_job_id``, ``log_path``, …) of
        the job, only while it is in state ``only_if`` when given; returns whether it was
        updated."""
        query = update(JobRow).where(JobRow.id == job_id)
        if only_if is not None:
            query = query.where(JobRow.state == only_if)
        with write_transaction(self.store.engine) as conn:
            return conn.execute(query.values(**_checked(fields))).rowcount == 1

    def heartbeat(self, job_id: int) -> bool:
        """Record a sign of life of a running job; ``False`` once it is no longer running."""
        return self.update(job_id, only_if="running", heartbeat_at=time.time())

    def attach_runs(self, job_id: int, run_ids: Iterable[str]) -> JobRecord:
        """Add runs to those the job produced (each once, in order)."""
        with write_transaction(self.store.engine) as conn:
            known = conn.scalar(select(JobRow.run_ids).where(JobRow.id == job_id))
            if known is None:
                raise NotFoundError(f"no job with id {job_id!r}")
            merged = list(dict.fromkeys([*known, *run_ids]))
            conn.execute(update(JobRow).where(JobRow.id == job_id).values(run_ids=merged))
        return self.get(job_id)

    def append_log(self, job_id: int, text: str) -> None:
        """Append ``text`` to the job's log, each line stamped ``[wattprint <time>]``."""
        path = self.log_file(self.get(job_id))
        stamp = f"[wattprint {datetime.now():%Y-%m-%d %H:%M:%S}] "
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as stream:
            stream.writelines(stamp + line + "\n" for line in text.splitlines() or [""])

    def read_log(self, job_id: int, tail_lines: int | None = None) -> str:
        """The job's log (its last ``tail_lines`` lines when given); ``""`` before any."""
        path = self.log_file(self.get(job_id))
        try:
            with path.open("rb") as stream:
                if tail_lines is not None:
                    stream.seek(max(0, path.stat().st_size - _TAIL_BYTES))
                data = stream.read()
        except FileNotFoundError:
            return ""
        text = data.decode("utf-8", errors="replace")
        if tail_lines is None:
            return text
        return "".join(text.splitlines(keepends=True)[-tail_lines:]) if tail_lines > 0 else ""

    def log_file(self, job: JobRecord) -> Path:
        """The file of the job's log."""
        return Path(job.log_path) if job.log_path else self.log_dir / f"{job.id}.log"


def _checked(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - _FIELDS)
    if unknown:
        raise ValueError(
            f"cannot set job field(s) {', '.join(unknown)}: accepted: {sorted(_FIELDS)}"
        )
    return dict(fields)


def _record(row: Row[Any]) -> JobRecord:
    values = dict(row._mapping)
    return JobRecord(
        **{**values, "spec": dict(values["spec"] or {}), "run_ids": tuple(values["run_ids"] or ())}
    )
