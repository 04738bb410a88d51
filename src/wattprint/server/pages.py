"""HTML pages of the dashboard: server-rendered shells whose figures the browser fetches
from the JSON API (its scripts in ``static/``), so the API alone decides what a user may
read or launch and shows why when it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wattprint import __version__
from wattprint.finetune.spec import TASKS
from wattprint.jobs.spec import EXECUTORS, JOB_KINDS, BenchJob
from wattprint.store.models import JOB_FINAL_STATES, JOB_STATES

__all__ = ["router"]

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["version"] = __version__

#: The choices of the job launch form, from the job spec itself.
JOB_CHOICES = {
    "kinds": JOB_KINDS,
    "executors": EXECUTORS,
    "tasks": TASKS,
    "suites": get_args(BenchJob.model_fields["suite"].annotation),
    "states": JOB_STATES,
}


def _page(request: Request, template: str, title: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"title": title, **context})


@router.get("/")
def runs_page(request: Request) -> HTMLResponse:
    """The runs: filters, sorting, pagination, and picking runs to compare."""
    return _page(request, "runs.html", "Runs")


@router.get("/runs/{ref}")
def run_page(request: Request, ref: str) -> HTMLResponse:
    """One run: summary, plots, windows, what-if regions and downloads."""
    return _page(request, "run.html", f"Run {ref}", ref=ref)


@router.get("/compare")
def compare_page(request: Request, runs: str = "") -> HTMLResponse:
    """Several runs side by side (``runs``: comma-separated references)."""
    return _page(request, "compare.html", "Compare", runs=runs)


@router.get("/benchmarks")
def benchmarks_page(request: Request) -> HTMLResponse:
    """The stored benchmarks."""
    return _page(request, "benchmarks.html", "Benchmarks")


@router.get("/benchmarks/{ref}")
def benchmark_page(request: Request, ref: str) -> HTMLResponse:
    """One benchmark: its table, plots and downloads."""
    return _page(request, "benchmark.html", f"Benchmark {ref}", ref=ref)


@router.get("/estimate")
def estimate_page(request: Request) -> HTMLResponse:
    """The ex-ante calculator and the life-cycle model."""
    return _page(request, "estimate.html", "Estimate")


@router.get("/jobs")
def jobs_page(request: Request) -> HTMLResponse:
    """The job queue and the form that launches a job."""
    return _page(request, "jobs.html", "Jobs", **JOB_CHOICES)


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: int) -> HTMLResponse:
    """One job: its state, log and runs."""
    return _page(
        request, "job.html", f"Job {job_id}", job_id=job_id, final_states=sorted(JOB_FINAL_STATES)
    )
