"""Lazy, cached loaders of the reference tables in ``wattprint/data/``.

Nothing is read at import time: each table is parsed on first use and kept for the
life of the process. The files' sources, licences and years are in
``wattprint/data/README.md``.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from typing import NamedTuple

from wattprint.datafiles import data_text, float_or_none, int_or_none, read_csv

CPU_TDP_FILE = "cpu_tdp.csv"
POWER_COEFFICIENTS_FILE = "power_coefficients.csv"
GPU_SPECS_FILE = "gpu_specs.csv"


class CpuTdpRow(NamedTuple):
    """One row of ``cpu_tdp.csv``. A named tuple: the tracker parses all 4,820 rows at
    start-up, and building tuples costs a fraction of building frozen dataclasses."""

    cpu_model: str
    match_key: str
    vendor: str
    tdp_w: float | None
    cores: int | None
    threads: int | None
    sources_text: str
    by_source_text: str
    tdp_conflict: bool

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(s for s in self.sources_text.split(";") if s)

    @property
    def tdp_w_by_source(self) -> tuple[tuple[str, float], ...]:
        return _parse_by_source(self.by_source_text)


@dataclass(frozen=True)
class Coefficient:
    """One row of ``power_coefficients.csv``."""

    id: str
    component: str
    entity: str
    metric: str
    value: float
    unit: str
    source: str
    source_url: str
    upstream: str
    license: str
    notes: str


def _parse_by_source(text: str) -> tuple[tuple[str, float], ...]:
    pairs: list[tuple[str, float]] = []
    for item in text.split(";"):
        key, sep, value = item.partition("=")
        if sep and value.strip():
            pairs.append((key.strip(), float(value)))
    return tuple(pairs)


@functools.cache
def cpu_tdp_rows() -> tuple[CpuTdpRow, ...]:
    """All rows of ``cpu_tdp.csv`` (parsed once)."""
    rows = csv.reader(io.StringIO(data_text(CPU_TDP_FILE)))
    header = next(rows)
    col = {name: i for i, name in enumerate(header)}
    model, key, vendor, tdp, cores, threads, sources, by_source, conflict = (
        col[n]
        for n in (
            "cpu_model",
            "match_key",
            "vendor",
            "tdp_w",
            "cores",
            "threads",
            "sources",
            "tdp_w_by_source",
            "tdp_conflict",
        )
    )
    return tuple(
        CpuTdpRow(
            r[model],
            r[key],
            r[vendor],
            float_or_none(r[tdp]),
            int_or_none(r[cores]),
            int_or_none(r[threads]),
            r[sources],
            r[by_source],
            r[conflict].strip().lower() == "true",
        )
        for r in rows
    )


@functools.cache
def cpu_tdp_by_key() -> dict[str, CpuTdpRow]:
    """``cpu_tdp.csv`` indexed by ``match_key`` (keys are unique in the file)."""
    return {row.match_key: row for row in cpu_tdp_rows()}


@functools.cache
def power_coefficients() -> dict[str, Coefficient]:
    """``power_coefficients.csv`` indexed by ``id``."""
    return {
        row["id"]: Coefficient(
            id=row["id"],
            component=row["component"],
            entity=row["entity"],
            metric=row["metric"],
            value=float(row["value"]),
            unit=row["unit"],
            source=row["source"],
            source_url=row["source_url"],
            upstream=row["upstream"],
            license=row["license"],
            notes=row["notes"],
        )
        for row in read_csv(POWER_COEFFICIENTS_FILE)
    }


def coefficient(coefficient_id: str) -> Coefficient:
    """One coefficient by id; ``KeyError`` naming the id and the file when absent."""
    table = power_coefficients()
    try:
        return table[coefficient_id]
    except KeyError:
        raise KeyError(f"coefficient {coefficient_id!r} not in {POWER_COEFFICIENTS_FILE}") from None


@functools.cache
def gpu_specs() -> tuple[dict[str, str], ...]:
    """Rows of ``gpu_specs.csv`` as read (strings; empty cells are empty strings)."""
    return tuple(read_csv(GPU_SPECS_FILE))
