"""Export one run as a JSON document or as CSV tables.

Units are in the key names (``energy_j``, ``duration_s``, ``power_w``); times are
Unix epoch seconds.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from typing import IO, Any, Final, Literal

from wattprint.store.records import RunDetail, WindowRecord
from wattprint.store.repository import Store

FORMAT: Final = "wattprint-run"
FORMAT_VERSION: Final = 1
CsvTable = Literal["samples", "windows", "metrics"]
CSV_TABLES: Final[tuple[str, ...]] = ("samples", "windows", "metrics")


def run_document(store: Store, run_ref: str) -> dict[str, Any]:
    """The whole run as plain JSON-serialisable data (what ``export_json`` writes)."""
    run = store.get_run(run_ref)
    summary = asdict(run)
    components = summary.pop("components")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "units": {"time": "Unix epoch seconds", "energy": "J", "power": "W", "duration": "s"},
        "run": summary,
        "components": components,
        "windows": [window_document(w) for w in store.windows(run.run_id)],
        "metrics": [asdict(m) for m in store.metrics(run.run_id)],
        "samples": [asdict(s) for s in store.samples(run.run_id)],
        "events": [asdict(e) for e in store.events(run.run_id)],
    }


def window_document(w: WindowRecord) -> dict[str, Any]:
    """One window as plain data: its times, duration, and energy in all and by component."""
    return {
        "seq": w.seq,
        "name": w.name,
        "parent": w.parent,
        "started_at": w.started_at,
        "ended_at": w.ended_at,
        "duration_s": w.duration_s,
        "energy_j": w.total_energy_j,
        "components_energy_j": dict(w.energy_j),
    }


def export_json(store: Store, run_id: str, stream: IO[str]) -> None:
    """Write run ``run_id`` (any reference ``Store.get_run`` accepts) as one JSON
    document: run detail, components, windows, metrics, samples and events."""
    json.dump(run_document(store, run_id), stream, indent=1, default=str)
    stream.write("\n")


def export_csv(store: Store, run_id: str, table: CsvTable, stream: IO[str]) -> None:
    """Write one table of run ``run_id`` as CSV with a header row.

    ``samples``: t, component, kind, quality, energy_j (cumulative), power_w.
    ``windows``: name, parent, started_at, ended_at, duration_s, energy_j (total) and
    one ``<component>_energy_j`` column per component.
    ``metrics``: t, step, name, value.
    """
    if table not in CSV_TABLES:
        raise ValueError(f"table={table!r}: accepted: {', '.join(CSV_TABLES)}")
    run = store.get_run(run_id)
    writer = csv.writer(stream, lineterminator="\n")
    if table == "samples":
        _samples_csv(store, run, writer)
    elif table == "windows":
        _windows_csv(store, run, writer)
    else:
        writer.writerow(["t", "step", "name", "value"])
        for m in store.metrics(run.run_id):
            step = "" if m.step is None else m.step
            writer.writerow([_num(m.t), step, m.name, "" if m.value is None else _num(m.value)])


def _samples_csv(store: Store, run: RunDetail, writer: Any) -> None:
    described = {c.name: c for c in run.components}
    writer.writerow(["t", "component", "kind", "quality", "energy_j", "power_w"])
    for s in store.samples(run.run_id):
        c = described.get(s.component)
        writer.writerow(
            [
                _num(s.t),
                s.component,
                c.kind if c else "unknown",
                c.quality if c else "estimated",
                _num(s.energy_j),
                "" if s.power_w is None else _num(s.power_w),
            ]
        )


def _windows_csv(store: Store, run: RunDetail, writer: Any) -> None:
    windows = store.windows(run.run_id)
    names = [c.name for c in run.components]
    for w in windows:
        names.extend(n for n in w.energy_j if n not in names)
    writer.writerow(
        ["name", "parent", "started_at", "ended_at", "duration_s", "energy_j"]
        + [f"{n}_energy_j" for n in names]
    )
    for w in windows:
        writer.writerow(
            [
                w.name,
                w.parent or "",
                _num(w.started_at),
                _num(w.ended_at),
                _num(w.duration_s),
                _num(w.total_energy_j),
            ]
            + [_num(w.energy_j[n]) if n in w.energy_j else "" for n in names]
        )


def _num(value: float) -> str:
    return repr(float(value))
