"""``/api/jobs``: the job queue (state, logs, the runs each job produced), the job spec's
schema for the launch form, and launching and cancelling, which need the access token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse

from wattprint.jobs.manager import JobManager
from wattprint.jobs.spec import JOB_KINDS, JobSpec
from wattprint.report.jsonable import jsonable
from wattprint.server import deps
from wattprint.store.access import AccessStore
from wattprint.store.records import JobRecord

__all__ = ["router"]

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
LOG_TAIL_LINES = 200


def _manager(request: Request) -> JobManager:
    found: JobManager = request.app.state.jobs
    return found


def _audit(request: Request, action: str, job: JobRecord) -> None:
    """Note who launched or cancelled ``job`` in the store's audit log."""
    who = deps.principal(request)
    AccessStore(deps.store(request)).audit(
        who.user, action, job.project, {"job": job.id, "kind": job.kind, "executor": job.executor}
    )


def _readable(request: Request, job: JobRecord) -> JobRecord:
    deps.require(request, "read", job.project)
    return job


ManagerDep = Annotated[JobManager, Depends(_manager)]
JobId = Annotated[int, Path(ge=1, lt=2**63, description="The job's id.")]


def _job(job: JobRecord) -> dict[str, Any]:
    doc: dict[str, Any] = jsonable(job)
    doc.pop("log_path", None)  # a path on the server, not for the browser
    return doc


@router.get("")
def list_jobs(
    request: Request,
    jobs: ManagerDep,
    state: str | None = None,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    """Jobs of the projects the request may read, newest first (dead ones settled as
    failed first)."""
    found = jobs.list(state=state or None, kind=kind or None, limit=limit)
    who = deps.principal(request)
    return {"jobs": [_job(j) for j in found if who.may("read", j.project)]}


@router.get("/schema")
def job_schema() -> dict[str, Any]:
    """The JSON schema of a job spec (what ``POST /api/jobs`` takes), and the job kinds."""
    return {"kinds": list(JOB_KINDS), "schema": JobSpec.model_json_schema()}


@router.get("/{job_id}")
def show_job(request: Request, jobs: ManagerDep, job_id: JobId) -> dict[str, Any]:
    """The job with the last lines of its log."""
    job = _readable(request, jobs.get(job_id))
    return {"job": _job(job), "log_tail": jobs.log(job_id, LOG_TAIL_LINES)}


@router.get("/{job_id}/log", response_class=PlainTextResponse)
def job_log(request: Request, jobs: ManagerDep, job_id: JobId) -> str:
    """The job's whole log."""
    _readable(request, jobs.get(job_id))
    return jobs.log(job_id)


@router.post("", status_code=201)
def submit_job(request: Request, jobs: ManagerDep, spec: JobSpec) -> dict[str, Any]:
    """Queue a job (a local worker runs it) or submit it to SLURM; needs the token (on a
    team server: the ``launch`` scope in the job's project). Audited."""
    deps.require(request, "launch", spec.run_project)
    job = jobs.submit(spec)
    _audit(request, "job.launch", job)
    return {"job": _job(job)}


@router.post("/{job_id}/cancel")
def cancel_job(request: Request, jobs: ManagerDep, job_id: JobId) -> dict[str, Any]:
    """Cancel a queued or running job (409 if it has ended); needs the token (on a team
    server: the ``launch`` scope in the job's project). Audited."""
    deps.require(request, "launch", jobs.get(job_id).project)
    job = jobs.cancel(job_id)
    _audit(request, "job.cancel", job)
    return {"job": _job(job)}
