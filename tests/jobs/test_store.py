"""The jobs table: persistence, atomic state transitions, a claim race between two
processes, run ids, logs, and the upgrade of a schema-3 store; on SQLite and on
PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import inspect

from tests.store.legacy import make_legacy, open_legacy
from wattprint.errors import NotFoundError
from wattprint.store.jobs import JobStore
from wattprint.store.models import SCHEMA_VERSION
from wattprint.store.repository import Store

SPEC = {"kind": "bench", "bench": {"suite": "nlp"}}


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_db"))
    return f"sqlite:///{tmp_path / 'wattprint.db'}"


def _jobs(db: str, tmp_path: Path) -> JobStore:
    return JobStore(Store(db), tmp_path / "logs")


def test_jobs_persist_and_move_only_along_the_state_machine(db: str, tmp_path: Path) -> None:
    jobs = _jobs(db, tmp_path)
    job = jobs.add("bench", "p", "local", SPEC)
    assert (job.state, job.spec, job.run_ids) == ("queued", SPEC, ())
    assert job.log_path == str(tmp_path / "logs" / f"{job.id}.log")
    assert not jobs.mark(job.id, "succeeded")  # never ran
    assert jobs.mark(job.id, "running", host="h", worker_pid=7)
    assert not jobs.mark(job.id, "running", host="other", worker_pid=8)  # claimed once
    assert jobs.update(job.id, only_if="running", pid=9)
    assert jobs.heartbeat(job.id)
    assert jobs.mark(job.id, "succeeded")
    assert not jobs.mark(job.id, "failed", error="late")  # a final state is kept
    assert not jobs.heartbeat(job.id)
    jobs.store.close()

    again = _jobs(db, tmp_path)  # reopened from the file
    done = again.get(job.id)
    assert (done.state, done.host, done.worker_pid, done.pid, done.error) == (
        "succeeded", "h", 7, 9, None,
    )  # fmt: skip
    assert done.created_at <= done.started_at <= done.heartbeat_at <= done.ended_at  # type: ignore[operator]
    queued = again.add("finetune", "p", "slurm", SPEC)
    assert again.mark(queued.id, "cancelled")
    assert again.get(queued.id).started_at is None
    assert [j.id for j in again.list()] == [queued.id, job.id]
    assert [j.id for j in again.list(state="succeeded")] == [job.id]
    assert [j.id for j in again.list(state=("cancelled", "queued"), kind="finetune")] == [queued.id]
    with pytest.raises(ValueError, match="accepted: queued, running, succeeded"):
        again.list(state="done")
    with pytest.raises(ValueError, match="a job moves to: running, succeeded"):
        again.mark(job.id, "queued")
    with pytest.raises(ValueError, match="cannot set job field"):
        again.update(job.id, state="queued")
    with pytest.raises(NotFoundError, match="no job with id 99"):
        again.get(99)
    again.store.close()


def test_run_ids_and_logs(db: str, tmp_path: Path) -> None:
    jobs = _jobs(db, tmp_path)
    job = jobs.add("bench", "p", "local", SPEC)
    assert jobs.read_log(job.id) == ""
    jobs.attach_runs(job.id, ["r1", "r2"])
    assert jobs.attach_runs(job.id, ["r2", "r3"]).run_ids == ("r1", "r2", "r3")
    Path(job.log_path or "").parent.mkdir(parents=True)
    Path(job.log_path or "").write_text("".join(f"line {i}\n" for i in range(30)))
    jobs.append_log(job.id, "note one\nnote two")
    assert jobs.read_log(job.id, 3).splitlines()[0] == "line 29"
    assert jobs.read_log(job.id, 2).splitlines()[-1].endswith("] note two")
    assert jobs.fail(job.id, "it died")
    error = jobs.get(job.id).error or ""
    assert error.startswith("it died\n--- last lines of the log ---\n")
    assert "line 29" in error and "note two" in error
    assert jobs.read_log(job.id, 1).endswith("] it died\n")
    assert not jobs.fail(job.id, "again")
    jobs.store.close()


CLAIMER = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from wattprint.store.jobs import JobStore
    from wattprint.store.repository import Store

    jobs = JobStore(Store(sys.argv[1]), Path(sys.argv[2]))
    print("ready", flush=True)
    sys.stdin.readline()  # both processes start claiming together
    claimed = []
    while (job := jobs.claim_next("host", os.getpid())) is not None:
        claimed.append(job.id)
    print(json.dumps({"pid": os.getpid(), "claimed": claimed}))
    """
)


def test_two_workers_racing_claim_each_job_once(db: str, tmp_path: Path) -> None:
    jobs = _jobs(db, tmp_path)
    ids = [jobs.add("bench", "p", "local", SPEC).id for _ in range(40)]
    slurm = jobs.add("bench", "p", "slurm", SPEC).id  # not for a local worker
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, db, str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:  # both wait on stdin until both are ready
        assert worker.stdin is not None and worker.stdout is not None
        assert worker.stdout.readline() == "ready\n"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outputs = [w.communicate(timeout=60)[0] for w in workers]
    results = [json.loads(o) for o in outputs]
    first, second = (set(r["claimed"]) for r in results)
    assert not first & second
    assert first | second == set(ids)
    for result in results:
        for job_id in result["claimed"]:
            job = jobs.get(job_id)
            assert (job.state, job.worker_pid) == ("running", result["pid"])
    assert jobs.get(slurm).state == "queued"
    jobs.store.close()


def test_schema_3_store_gains_the_jobs_table(db: str, tmp_path: Path) -> None:
    make_legacy(db, 3)
    with open_legacy(db) as store:
        assert store.schema_version == SCHEMA_VERSION
        with store.engine.connect() as conn:
            indexes = {i["name"] for i in inspect(conn).get_indexes("jobs")}
        assert "ix_jobs_state_created_at" in indexes
        job = JobStore(store, tmp_path).add("bench", "p", "local", SPEC)
        assert job.id == 1
