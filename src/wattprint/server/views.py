"""What the API returns, built from the store and the analysis API: plain JSON values
with units in the key names and, for every figure, whether it was measured or estimated
and where its constants came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, Literal

from wattprint.analysis.curves import EpochPoint, epoch_points
from wattprint.analysis.footprint import RunFootprint, run_footprint
from wattprint.analysis.returns import DiminishingReturns, diminishing_returns
from wattprint.errors import ConfigError
from wattprint.report.jsonable import jsonable
from wattprint.store.records import RunDetail, RunSummary
from wattprint.store.repository import Store

__all__ = [
    "SORTS",
    "RunFilter",
    "epochs_doc",
    "footprint_doc",
    "parse_day",
    "run_row",
    "runs_page",
    "timeline_doc",
    "windows_doc",
]

Sort = Literal["started", "energy", "co2e", "duration"]
SORTS: tuple[str, ...] = Sort.__args__  # type: ignore[attr-defined]
MAX_PAGE = 1_000_000
MAX_PER_PAGE = 500
_SORT_KEYS = {"started": "started_at", "energy": "energy_j", "duration": "duration_s"}


def parse_day(name: str, value: str | None, *, end: bool = False) -> float | None:
    """A ``YYYY-MM-DD`` day (local time) as Unix seconds: its start, or with ``end`` the
    start of the next day; ``None`` for none."""
    if value is None or not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{name}={value!r}: accepted: a date as YYYY-MM-DD") from None
    start = datetime(day.year, day.month, day.day) + (timedelta(days=1) if end else timedelta())
    return start.timestamp()


@dataclass(frozen=True)
class RunFilter:
    """The runs list's filters, as ``Store.list_runs`` takes them."""

    project: str | None = None
    status: str | None = None
    host: str | None = None
    since: float | None = None
    until: float | None = None
    projects: frozenset[str] | None = None  # those the user may read; None: all

    def query(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "status": self.status,
            "host": self.host,
            "since": self.since,
            "until": self.until,
            "projects": self.projects,
        }


def runs_page(
    store: Store, where: RunFilter, sort: str, descending: bool, page: int, per_page: int
) -> dict[str, Any]:
    """One page of the filtered runs, sorted, with each run's CO2e. Start time sorts in
    the database; energy, duration and CO2e sort the filtered runs here."""
    if sort not in SORTS:
        raise ConfigError(f"sort={sort!r}: accepted: {', '.join(SORTS)}")
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
        raise ConfigError(
            f"page={page}, per_page={per_page}: accepted: page 1-{MAX_PAGE}, "
            f"per_page 1-{MAX_PER_PAGE}"
        )
    store.sync()
    try:
        total = store.count_runs(**where.query())
        offset = (page - 1) * per_page
        if sort == "started" and descending:  # the store's own order: paged there
            runs = store.list_runs(**where.query(), limit=per_page, offset=offset)
            rows = [run_row(store, r) for r in runs]
        elif sort == "co2e":  # every run must be priced to be ordered
            every = store.list_runs(**where.query(), limit=total)
            rows = sorted((run_row(store, r) for r in every), key=lambda r: r["co2e_kg"])
            if descending:
                rows.reverse()
            rows = rows[offset : offset + per_page]
        else:  # ordered by the summaries; only the page's runs are priced
            key = _SORT_KEYS[sort]
            every = sorted(
                store.list_runs(**where.query(), limit=total), key=lambda r: getattr(r, key)
            )
            if descending:
                every.reverse()
            rows = [run_row(store, r) for r in every[offset : offset + per_page]]
    except ValueError as exc:  # an unknown status
        raise ConfigError(str(exc)) from None
    return {"total": total, "page": page, "per_page": per_page, "runs": rows}


def run_row(store: Store, summary: RunSummary) -> dict[str, Any]:
    """One line of the runs list: the summary and its operational CO2e as priced by the
    run's own settings (region, PUE, intensity file)."""
    detail = summary if isinstance(summary, RunDetail) else store.get_run(summary.run_id)
    fp = run_footprint(store, detail)
    row: dict[str, Any] = jsonable(
        {f.name: getattr(summary, f.name) for f in fields(RunSummary) if f.name != "components"}
    )
    e = fp.emissions
    row.update(
        co2e_kg=e.kg,
        co2e_low_kg=e.low_kg,
        co2e_high_kg=e.high_kg,
        intensity={
            "g_per_kwh": e.intensity_g_per_kwh,
            "source": e.intensity_source,
            "year": fp.intensity.year,
            "location": fp.location.code,
        },
    )
    return row


def footprint_doc(fp: RunFootprint) -> dict[str, Any]:
    """A run's emissions with everything they were computed from."""
    e, em = fp.emissions, fp.embodied
    return {
        "quality": "estimated",
        "co2e_kg": e.kg,
        "low_kg": e.low_kg,
        "high_kg": e.high_kg,
        "energy_facility_kwh": e.energy_kwh,
        "location": jsonable(fp.location),
        "location_from": fp.location_from,
        "intensity": {
            "g_per_kwh": e.intensity_g_per_kwh,
            "low_g_per_kwh": fp.intensity.low_g_per_kwh,
            "high_g_per_kwh": fp.intensity.high_g_per_kwh,
            "source": e.intensity_source,
            "year": fp.intensity.year,
            "basis": fp.intensity.basis,
        },
        "pue": jsonable(e.pue),
        "provider": fp.provider,
        "embodied": {
            "kg": em.kg,
            "low_kg": em.low_kg,
            "high_kg": em.high_kg,
            "host_share": em.host_share,
            "host_share_basis": em.host_share_basis,
            "parts": jsonable(em.parts),
        },
    }


def timeline_doc(store: Store, detail: RunDetail) -> dict[str, Any]:
    """Power and cumulative energy of each charged component on one time grid."""
    from wattprint.report.plots import timeline_data

    data = timeline_data(store, detail)
    quality = {c.name: c for c in detail.components}
    return {
        "times_s": list(data.times_s),
        "components": [
            {
                "name": name,
                "kind": quality[name].kind if name in quality else None,
                "quality": quality[name].quality if name in quality else "estimated",
                "source": quality[name].source if name in quality else None,
                "cumulative_j": list(data.cumulative_j[name]),
                "power_w": jsonable(list(data.power_w[name])),
            }
            for name in data.cumulative_j
        ],
    }


def epochs_doc(store: Store, detail: RunDetail, metric: str | None = None) -> dict[str, Any]:
    """Energy per epoch (with range) and the metrics logged per epoch, plus the
    diminishing returns of ``metric`` (default: the first one logged)."""
    from wattprint.report.plots import default_metric

    points = epoch_points(store, detail.run_id)
    logged = [m.name for m in store.metrics(detail.run_id)]
    chosen = default_metric(points, metric, logged)
    returns = None
    if chosen is not None and len(points) >= 2:
        found = diminishing_returns(points, chosen)
        returns = jsonable(found) | {"marks": _marks(points, found)}
    names = sorted({n for p in points for n in p.metrics})
    return {
        "quality": detail.quality,
        "epochs": [_epoch(p) for p in points],
        "metrics": names,
        "metric": chosen,
        "returns": returns,
    }


def _epoch(p: EpochPoint) -> dict[str, Any]:
    return {
        "epoch": p.index,
        "energy_j": p.energy_j,
        "low_j": p.low_j,
        "high_j": p.high_j,
        "cumulative_j": p.cumulative_j,
        "duration_s": p.duration_s,
        "components_energy_j": dict(p.energy_by_component_j),
        "metrics": jsonable(dict(p.metrics)),
    }


def _marks(points: Sequence[EpochPoint], found: DiminishingReturns) -> list[dict[str, Any]]:
    """The epoch from which the metric stayed within reach of its final value, and the
    energy spent after it."""
    mark = next((p for p in points if p.index == found.epoch_within_epsilon), None)
    if mark is None:
        return []
    return [
        {
            "epoch": mark.index,
            "cumulative_j": mark.cumulative_j,
            "energy_after_j": found.total_energy_j - mark.cumulative_j,
            "share_after": found.share_after_within_epsilon,
        }
    ]


def windows_doc(store: Store, run_id: str) -> dict[str, Any]:
    """The run's windows with their duration and energy by component."""
    from wattprint.store.export import window_document

    return {"windows": [window_document(w) for w in store.windows(run_id)]}
