"""``/api/meta`` and ``/api/runs``: the runs list, one run's summary, footprint, curves,
windows, metrics, what-if regions, and its downloads."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

import wattprint
from wattprint.analysis.footprint import run_footprint
from wattprint.errors import ConfigError
from wattprint.report.jsonable import jsonable
from wattprint.server import deps
from wattprint.server.views import (
    SORTS,
    RunFilter,
    epochs_doc,
    footprint_doc,
    parse_day,
    runs_page,
    timeline_doc,
    windows_doc,
)
from wattprint.store.models import JOB_STATES, RUN_STATUSES
from wattprint.store.repository import Store

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["runs"])
StoreDep = Annotated[Store, Depends(deps.store)]
CsvTable = Literal["samples", "windows", "metrics", "emissions"]


@router.get("/meta")
def meta(request: Request, store: StoreDep) -> dict[str, Any]:
    """What the filters and forms can offer: projects, hosts, statuses, sorts, job states."""
    store.sync()
    who = deps.principal(request)
    policy = deps.policy(request)
    return {
        "version": wattprint.__version__,
        "user": who.user,
        "projects": [p.name for p in store.projects() if who.may("read", p.name)],
        "hosts": store.hosts(),
        "statuses": list(RUN_STATUSES),
        "sorts": list(SORTS),
        "job_states": list(JOB_STATES),
        "token_required": {"read": policy.token_for_read or policy.team_mode(), "launch": True},
    }


@router.get("/runs")
def list_runs(
    request: Request,
    store: StoreDep,
    project: str | None = None,
    status: str | None = None,
    host: str | None = None,
    since: Annotated[str | None, Query(description="First day, YYYY-MM-DD.")] = None,
    until: Annotated[str | None, Query(description="Last day, YYYY-MM-DD.")] = None,
    sort: str = "started",
    order: Literal["desc", "asc"] = "desc",
    page: int = 1,
    per_page: int = 25,
) -> dict[str, Any]:
    """A page of runs, newest first unless sorted otherwise, each with its CO2e."""
    where = RunFilter(
        project=project or None,
        status=status or None,
        host=host or None,
        since=parse_day("since", since),
        until=parse_day("until", until, end=True),
        projects=deps.principal(request).read_projects,
    )
    return runs_page(store, where, sort, order == "desc", page, per_page)


@router.get("/runs/{ref}")
def show_run(request: Request, store: StoreDep, ref: str) -> dict[str, Any]:
    """The run: summary with each component's source and quality, footprint with its
    constants' sources, warnings, recommendations and recorded events."""
    from wattprint.analysis.recommendations import recommendations
    from wattprint.report.build import run_warnings

    detail = deps.find_run(request, ref)
    fp = run_footprint(store, detail)
    return {
        "run": jsonable(detail),
        "footprint": footprint_doc(fp),
        "warnings": run_warnings(store, detail, fp),
        "recommendations": jsonable(recommendations(store, detail.run_id)),
        "events": jsonable(store.events(detail.run_id)),
    }


@router.get("/runs/{ref}/timeline")
def run_timeline(request: Request, store: StoreDep, ref: str) -> dict[str, Any]:
    """Power (W) and cumulative energy (J) of each component over time (s since start)."""
    return timeline_doc(store, deps.find_run(request, ref))


@router.get("/runs/{ref}/epochs")
def run_epochs(
    request: Request, store: StoreDep, ref: str, metric: str | None = None
) -> dict[str, Any]:
    """Energy per epoch and the metrics, with the diminishing returns of ``metric``."""
    return epochs_doc(store, deps.find_run(request, ref), metric)


@router.get("/runs/{ref}/windows")
def run_windows(request: Request, store: StoreDep, ref: str) -> dict[str, Any]:
    """Every closed window with its duration and energy by component."""
    return windows_doc(store, deps.find_run(request, ref).run_id)


@router.get("/runs/{ref}/metrics")
def run_metrics(
    request: Request, store: StoreDep, ref: str, name: str | None = None
) -> dict[str, Any]:
    """The logged metric values, in order."""
    return {"metrics": jsonable(store.metrics(deps.find_run(request, ref).run_id, name))}


@router.get("/runs/{ref}/whatif")
def run_whatif(
    request: Request,
    store: StoreDep,
    ref: str,
    regions: Annotated[str | None, Query(description="Comma-separated codes: FR,DE,aws:…")] = None,
    pue: float | None = None,
) -> dict[str, Any]:
    """The run re-priced in other places (default: the 10 lowest, the 4 highest and its own),
    lowest emissions first."""
    from wattprint.analysis.whatif import region_whatif
    from wattprint.carbon.location import resolve_location
    from wattprint.report.plots import own_region, pick_regions

    detail = deps.find_run(request, ref)
    fp = run_footprint(store, detail, pue=pue)
    options = region_whatif(store, detail.run_id, kinds=("country", "region", "cloud"), pue=pue)
    own = own_region(options, fp)
    if regions:
        wanted = {resolve_location(c.strip()).code for c in regions.split(",") if c.strip()}
        missing = wanted - {o.code for o in options} - {own.code}
        if missing:
            raise ConfigError(f"regions={regions!r}: no yearly figure for {', '.join(missing)}")
        others = [o for o in options if o.code in wanted and o.code != own.code]
        shown = sorted([*others, own], key=lambda o: o.kg)
    else:
        shown = pick_regions(options, own)
    return {"own": own.code, "quality": "estimated", "options": jsonable(shown)}


@router.get("/runs/{ref}/download.json")
def download_json(request: Request, store: StoreDep, ref: str) -> Any:
    """Everything recorded of the run, as one JSON document."""
    from wattprint.store.export import export_json

    run_id = deps.find_run(request, ref).run_id
    return deps.text_attachment(
        lambda s: export_json(store, run_id, s), f"{run_id}.json", "application/json"
    )


@router.get("/runs/{ref}/download.csv")
def download_csv(request: Request, store: StoreDep, ref: str, table: CsvTable = "samples") -> Any:
    """One table of the run as CSV; ``emissions`` prices each window and the run."""
    from wattprint.report.emissions import write_emissions_csv
    from wattprint.store.export import export_csv

    run_id = deps.find_run(request, ref).run_id
    if table == "emissions":
        return deps.text_attachment(
            lambda s: write_emissions_csv(store, run_id, s), f"{run_id}-{table}.csv", "text/csv"
        )
    return deps.text_attachment(
        lambda s: export_csv(store, run_id, table, s), f"{run_id}-{table}.csv", "text/csv"
    )


@router.get("/runs/{ref}/report.html", response_class=HTMLResponse)
def run_report(request: Request, store: StoreDep, ref: str) -> Any:
    """The self-contained HTML report of the run (figures embedded)."""
    from wattprint.report.build import build_report
    from wattprint.report.html import render_html

    run_id = deps.find_run(request, ref).run_id
    html = render_html(build_report(store, [run_id]))
    return deps.attachment(html, f"{run_id}-report.html", "text/html")
