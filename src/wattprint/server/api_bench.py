"""``/api/benchmarks``: the stored benchmark suites, one suite's table and per-model figures,
and its downloads."""

from __future__ import annotations

import csv
import json
from typing import IO, TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from wattprint.analysis.stored import Energy, runs_by_label
from wattprint.report.jsonable import jsonable
from wattprint.server import deps
from wattprint.store.repository import Store

if TYPE_CHECKING:
    from wattprint.bench.results import Benchmark

__all__ = ["router"]

router = APIRouter(prefix="/api/benchmarks", tags=["benchmarks"])
StoreDep = Annotated[Store, Depends(deps.store)]
SCALARS = (
    "run_id",
    "model",
    "family",
    "status",
    "dataset",
    "data",
    "device",
    "device_name",
    "batch_size",
    "quality",
    "params",
    "flops_per_sample",
    "epochs",
    "train_samples_per_s",
    "inference_samples_per_s",
    "latency_p50_s",
    "latency_p95_s",
    "theta",
    "metric",
    "final_quality",
)
ENERGIES = ("train_energy", "inference_energy_per_sample")


def _readable(request: Request, store: Store, ref: str) -> Benchmark:
    """Benchmark ``ref``, if the request may read the projects of all its runs."""
    from wattprint.bench.results import load_benchmark

    found = load_benchmark(store, ref)
    for project in _projects(store).get(found.id, ()):
        deps.require(request, "read", project)
    return found


def _projects(store: Store) -> dict[str, set[str]]:
    """The projects of each benchmark's runs."""
    return {b: {r.project for r in runs} for b, runs in runs_by_label(store, "benchmark").items()}


@router.get("")
def list_benchmarks(request: Request, store: StoreDep) -> dict[str, Any]:
    """Stored benchmarks the request may read, newest first."""
    from wattprint.bench.results import list_benchmarks as stored

    who = deps.principal(request)
    projects = _projects(store)
    shown = [b for b in stored(store) if all(who.may("read", p) for p in projects.get(b.id, ()))]
    return {"benchmarks": jsonable(shown)}


@router.get("/{ref}")
def show_benchmark(request: Request, store: StoreDep, ref: str) -> dict[str, Any]:
    """One benchmark (an id, a unique prefix or ``latest``): the suite's table as the
    report prints it, its caption, and each model's figures as numbers."""
    from wattprint.report.bench import COLUMNS, benchmark_caption, benchmark_rows

    b = _readable(request, store, ref)
    models = [
        jsonable(m.summary())
        | {"epoch_duration_s": [p.duration_s for p in m.epochs], "error": m.error}
        for m in b.models
    ]
    return {
        "benchmark": {k: v for k, v in jsonable(b.summary()).items() if k != "models"},
        "table": {"columns": list(COLUMNS), "rows": [list(r) for r in benchmark_rows(b)]},
        "caption": benchmark_caption(b),
        "models": models,
    }


@router.get("/{ref}/download.csv")
def download_csv(request: Request, store: StoreDep, ref: str) -> Any:
    """One line per model: its figures as numbers (J, s, samples/s), with energy ranges."""
    b = _readable(request, store, ref)
    energy_columns = [f"{e}{s}" for e in ENERGIES for s in ("_j", "_low_j", "_high_j")]

    def write(stream: IO[str]) -> None:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow([*SCALARS, *energy_columns])
        for m in b.models:
            figures = m.summary()
            energies = [_parts(figures[e]) for e in ENERGIES]
            writer.writerow([_cell(figures[c]) for c in SCALARS] + [v for e in energies for v in e])

    return deps.text_attachment(write, f"benchmark-{b.id}.csv", "text/csv")


@router.get("/{ref}/download.json")
def download_json(request: Request, store: StoreDep, ref: str) -> Any:
    """The benchmark with every model's figures, as one JSON document."""
    b = _readable(request, store, ref)
    body = json.dumps(jsonable(b.summary()), indent=2)
    return deps.attachment(body, f"benchmark-{b.id}.json", "application/json")


@router.get("/{ref}/report.html", response_class=HTMLResponse)
def report_html(request: Request, store: StoreDep, ref: str) -> Any:
    """The benchmark's self-contained HTML report (tables and figures)."""
    from wattprint.report.bench import build_benchmark_report
    from wattprint.report.html import render_html

    report = build_benchmark_report(store, _readable(request, store, ref).id)
    return deps.attachment(render_html(report), "benchmark-report.html", "text/html")


def _parts(energy: Energy | None) -> list[str]:
    return (
        ["", "", ""]
        if energy is None
        else [_cell(energy.j), _cell(energy.low_j), _cell(energy.high_j)]
    )


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
