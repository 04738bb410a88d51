"""``/api/compare``: several runs side by side (their list rows, timelines and epochs), and
the comparison as CSV or JSON."""

from __future__ import annotations

import csv
import json
from typing import IO, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from wattprint.errors import ConfigError
from wattprint.server import deps
from wattprint.server.views import epochs_doc, run_row, timeline_doc
from wattprint.store.records import RunDetail
from wattprint.store.repository import Store

__all__ = ["router"]

router = APIRouter(prefix="/api/compare", tags=["compare"])
StoreDep = Annotated[Store, Depends(deps.store)]
RunsQuery = Annotated[str, Query(description="Comma-separated run ids, prefixes or names.")]
MAX_RUNS = 12
COLUMNS = (
    "run_id",
    "project",
    "name",
    "status",
    "host",
    "started_at",
    "duration_s",
    "quality",
    "energy_j",
    "energy_low_j",
    "energy_high_j",
    "co2e_kg",
    "co2e_low_kg",
    "co2e_high_kg",
    "intensity_g_per_kwh",
    "intensity_source",
)


def _details(request: Request, runs: str) -> list[RunDetail]:
    refs = list(dict.fromkeys(r.strip() for r in runs.split(",") if r.strip()))
    if not 1 <= len(refs) <= MAX_RUNS:
        raise ConfigError(f"runs={runs!r}: accepted: 1 to {MAX_RUNS} comma-separated runs")
    return [deps.find_run(request, r) for r in refs]


def _rows(request: Request, store: Store, runs: str) -> list[dict[str, Any]]:
    return [run_row(store, d) for d in _details(request, runs)]


@router.get("")
def compare(request: Request, store: StoreDep, runs: RunsQuery) -> dict[str, Any]:
    """The runs' list rows, and each one's timeline and epochs for overlaid plots."""
    found = _details(request, runs)
    return {
        "runs": [run_row(store, d) for d in found],
        "timelines": {d.run_id: timeline_doc(store, d) for d in found},
        "epochs": {d.run_id: epochs_doc(store, d) for d in found},
    }


@router.get("/download.csv")
def download_csv(request: Request, store: StoreDep, runs: RunsQuery) -> Any:
    """One line per run: energy and CO2e with their ranges and sources."""
    rows = _rows(request, store, runs)

    def write(stream: IO[str]) -> None:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            flat = row | {
                "intensity_g_per_kwh": row["intensity"]["g_per_kwh"],
                "intensity_source": row["intensity"]["source"],
            }
            writer.writerow([flat[c] for c in COLUMNS])

    return deps.text_attachment(write, "comparison.csv", "text/csv")


@router.get("/download.json")
def download_json(request: Request, store: StoreDep, runs: RunsQuery) -> Any:
    """The runs' list rows as one JSON document."""
    rows = _rows(request, store, runs)
    body = json.dumps({"format": "wattprint-comparison", "runs": rows}, indent=2)
    return deps.attachment(body, "comparison.json", "application/json")
