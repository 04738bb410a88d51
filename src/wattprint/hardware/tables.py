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
from importlib import resources

CPU_TDP_FILE = "cpu_tdp.csv"
POWER_COEFFICIENTS_FILE = "power_coefficients.csv"
GPU_SPECS_FILE = "gpu_specs.csv"


def _read_csv(filename: str) -> list[dict[str, str]]:
    text = resources.files("wattprint").joinpath("data", filename).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _float_or_none(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(float(text)) if text else None


@dataclass(frozen=True)
class CpuTdpRow:
    """One row of ``cpu_tdp.csv``."""

    cpu_model: str
    match_key: str
    vendor: str
    tdp_w: float | None
    cores: int | None
    threads: int | None
    sources: tuple[str, ...]
    tdp_w_by_source: tuple[tuple[str, float], ...]
    tdp_conflict: bool


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
    return tuple(
        CpuTdpRow(
            cpu_model=row["cpu_model"],
            match_key=row["match_key"],
            vendor=row["vendor"],
            tdp_w=_float_or_none(row["tdp_w"]),
            cores=_int_or_none(row["cores"]),
            threads=_int_or_none(row["threads"]),
            sources=tuple(s for s in row["sources"].split(";") if s),
            tdp_w_by_source=_parse_by_source(row["tdp_w_by_source"]),
            tdp_conflict=row["tdp_conflict"].strip().lower() == "true",
        )
        for row in _read_csv(CPU_TDP_FILE)
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
        for row in _read_csv(POWER_COEFFICIENTS_FILE)
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
    return tuple(_read_csv(GPU_SPECS_FILE))
