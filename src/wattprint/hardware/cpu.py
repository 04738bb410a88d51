"""CPU detection (from ``/proc/cpuinfo``, no subprocess) and the CPU power spec used by
the CPU model when no RAPL counter can be read.

The power spec is per *logical CPU* (thread): the CPU model multiplies it by the
CPU-seconds of the tracked processes (or of the whole machine), following Green
Algorithms (Lannelongue et al. 2021). Every figure comes from ``data/cpu_tdp.csv`` or
``data/power_coefficients.csv``.
"""

from __future__ import annotations

import os
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wattprint.hardware import tables

DEFAULT_PER_CORE_ID = "ga_cpu_default_per_core"
MODEL_CITATION_ID = "ga_memory_power"  # its `source` cell cites Lannelongue et al. 2021
TDP_ENV_VAR = "WATTPRINT_CPU_TDP_W"

_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon"}


@dataclass(frozen=True)
class CpuInfo:
    """What the host's CPU is, as far as the tracked process can see it."""

    model_name: str
    vendor: str
    vendor_id: str
    logical_cpus: int
    host_logical_cpus: int
    hypervisor: bool
    family: int | None
    model: int | None
    sockets: int | None


def _first_block(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def _int_field(fields: dict[str, str], key: str) -> int | None:
    try:
        return int(fields[key], 0)
    except (KeyError, ValueError):
        return None


def detect_cpu(cpuinfo_path: Path = Path("/proc/cpuinfo")) -> CpuInfo:
    """Read the CPU model, vendor, family/model numbers and hypervisor flag from
    ``/proc/cpuinfo`` and the logical CPUs available to this process from its affinity."""
    try:
        text = cpuinfo_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    fields = _first_block(text)
    model_name = (
        fields.get("model name")
        or fields.get("Model")
        or fields.get("Hardware")
        or fields.get("cpu")
        or "unknown CPU"
    )
    vendor_id = fields.get("vendor_id", fields.get("CPU implementer", ""))
    vendor = _VENDORS.get(vendor_id, vendor_id)
    flags = set(fields.get("flags", fields.get("Features", "")).split())
    physical_ids = set(re.findall(r"^physical id\s*:\s*(\d+)", text, re.MULTILINE))
    host_cpus = os.cpu_count() or 1
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        available = host_cpus
    return CpuInfo(
        model_name=model_name,
        vendor=vendor,
        vendor_id=vendor_id,
        logical_cpus=available,
        host_logical_cpus=host_cpus,
        hypervisor="hypervisor" in flags,
        family=_int_field(fields, "cpu family"),
        model=_int_field(fields, "model"),
        sockets=len(physical_ids) or None,
    )


# --- name normalisation: the rules cpu_tdp.csv's match_key was built with -----------

_MARKS = re.compile(r"®|™|\(r\)|\(tm\)", re.IGNORECASE)
_GHZ = re.compile(r"@\s*[\d.]+\s*ghz", re.IGNORECASE)
_WORDS = re.compile(r"\b(processor|cpu)\b", re.IGNORECASE)
_VENDOR_PREFIX = re.compile(r"^(intel|amd)\s+")
# Extra forms seen in /proc/cpuinfo but not in the table's names.
_N_CORE = re.compile(r"\s+\d+-core$")
_WITH_GRAPHICS = re.compile(r"\s+w(ith|/)\s+radeon.*$")
_GEN_PREFIX = re.compile(r"^\d+(st|nd|rd|th) gen (intel\s+)?")


def normalise_cpu_name(name: str) -> str:
    """The ``match_key`` form of a CPU name: lower-case, without ®/™/(R)/(TM),
    "Processor", "CPU", "@ x GHz", commas and a leading "Intel"/"AMD"."""
    text = _MARKS.sub(" ", name)
    text = _GHZ.sub(" ", text)
    text = _WORDS.sub(" ", text).replace(",", " ")
    text = " ".join(text.lower().split())
    return _VENDOR_PREFIX.sub("", text)


def _candidate_keys(name: str) -> list[str]:
    key = normalise_cpu_name(name)
    candidates = [key]
    for pattern in (_N_CORE, _WITH_GRAPHICS, _GEN_PREFIX):
        reduced = pattern.sub("", candidates[-1]).strip()
        if reduced and reduced not in candidates:
            candidates.append(reduced)
    return candidates


# --- power spec ------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuPowerSpec:
    """Watts per busy logical CPU (thread) for the CPU model, with a range.

    ``method`` says how it was found: ``exact`` (one row of cpu_tdp.csv), ``family``
    (range over the rows of a model family, for a generic name such as "AMD EPYC"),
    ``default`` (Green Algorithms' per-core default for an unknown CPU) or
    ``override`` (a package TDP given by the user).
    """

    model_name: str
    per_thread_w: float
    per_thread_low_w: float
    per_thread_high_w: float
    basis: str
    warning: str | None
    matched: tuple[str, ...]
    method: Literal["exact", "family", "default", "override"]

    @property
    def low_ratio(self) -> float:
        return self.per_thread_low_w / self.per_thread_w

    @property
    def high_ratio(self) -> float:
        return self.per_thread_high_w / self.per_thread_w


def _per_unit(row: tables.CpuTdpRow, tdp_w: float, host_cpus: int) -> tuple[float, str]:
    if row.threads:
        return tdp_w / row.threads, f"{row.threads} threads"
    if row.cores:
        return tdp_w / row.cores, f"{row.cores} cores (thread count not in the table)"
    return tdp_w / host_cpus, f"{host_cpus} host logical CPUs (core count not in the table)"


def _model_citation() -> str:
    return tables.coefficient(MODEL_CITATION_ID).source


def _exact(name: str, row: tables.CpuTdpRow, host_cpus: int) -> CpuPowerSpec | None:
    if row.tdp_w is None:
        return None
    per_w, unit = _per_unit(row, row.tdp_w, host_cpus)
    values = [v for _, v in row.tdp_w_by_source] or [row.tdp_w]
    divisor = row.tdp_w / per_w
    low, high = min(min(values) / divisor, per_w), max(max(values) / divisor, per_w)
    spread = ""
    if low < per_w or high > per_w:
        spread = f"; sources disagree: {', '.join(f'{k}={v:g} W' for k, v in row.tdp_w_by_source)}"
    basis = (
        f"TDP {row.tdp_w:g} W / {unit} of {row.cpu_model} (cpu_tdp.csv: "
        f"{', '.join(row.sources)}){spread}; model: {_model_citation()}"
    )
    return CpuPowerSpec(name, per_w, low, high, basis, None, (row.cpu_model,), "exact")


def _family_rows(prefix: str) -> list[tables.CpuTdpRow]:
    return [
        row
        for row in tables.cpu_tdp_rows()
        if row.tdp_w is not None
        and (row.match_key == prefix or row.match_key.startswith(prefix + " "))
    ]


def _family(name: str, prefix: str, *, generic: bool) -> CpuPowerSpec | None:
    rows = _family_rows(prefix)
    unit = "thread"
    pairs = [(r, r.tdp_w / r.threads) for r in rows if r.tdp_w is not None and r.threads]
    if not pairs:
        unit = "core"
        pairs = [(r, r.tdp_w / r.cores) for r in rows if r.tdp_w is not None and r.cores]
    if not pairs:
        return None
    values = [v for _, v in pairs]
    low, high, point = min(values), max(values), statistics.median(values)
    basis = (
        f"family range of '{prefix}' over {len(values)} models in cpu_tdp.csv: "
        f"{low:.2f}-{high:.2f} W/{unit}, median {point:.2f}; model: {_model_citation()}"
    )
    warning = None
    if not generic:
        warning = (
            f"CPU {name!r} not in the TDP table: using the range of the '{prefix}' family "
            f"({low:.2f}-{high:.2f} W/{unit}); set {TDP_ENV_VAR} for a better estimate"
        )
    matched = tuple(r.cpu_model for r, _ in pairs)
    return CpuPowerSpec(name, point, low, high, basis, warning, matched, "family")


def _default(name: str) -> CpuPowerSpec:
    default = tables.coefficient(DEFAULT_PER_CORE_ID)
    per_thread = [
        r.tdp_w / r.threads for r in tables.cpu_tdp_rows() if r.tdp_w is not None and r.threads
    ]
    low = min([*per_thread, default.value])
    high = max([*per_thread, default.value])
    basis = (
        f"{default.source}: {default.value:g} {default.unit} (power_coefficients.csv "
        f"{default.id}, {default.license}), charged per logical CPU; range {low:.2f}-{high:.2f} "
        f"W/thread over every model in cpu_tdp.csv"
    )
    warning = (
        f"CPU {name!r} not in the TDP table: using Green Algorithms' default "
        f"{default.value:g} W per core; set {TDP_ENV_VAR}"
    )
    return CpuPowerSpec(name, default.value, low, high, basis, warning, (), "default")


def _prefixes(key: str) -> Iterable[str]:
    tokens = key.split()
    for n in range(len(tokens) - 1, 0, -1):
        yield " ".join(tokens[:n])


def cpu_power_spec(
    model_name: str, tdp_override: float | None = None, logical_cpus: int | None = None
) -> CpuPowerSpec:
    """Watts per busy logical CPU for ``model_name``.

    ``tdp_override`` is the whole package TDP (``Settings.cpu_tdp_w``); it is divided by
    ``logical_cpus`` (default: the host's logical CPU count, ``os.cpu_count()``), i.e.
    the package is assumed to be the one chip the OS sees. The same divisor is used for
    a table row that gives a TDP but neither cores nor threads.
    """
    count = logical_cpus or os.cpu_count() or 1
    if tdp_override is not None:
        if tdp_override <= 0:
            raise ValueError(f"tdp_override={tdp_override!r}: must be > 0 watts")
        per_w = tdp_override / count
        basis = (
            f"user-given package TDP {tdp_override:g} W ({TDP_ENV_VAR}) / {count} logical CPUs; "
            f"model: {_model_citation()}"
        )
        return CpuPowerSpec(model_name, per_w, per_w, per_w, basis, None, (), "override")

    by_key = tables.cpu_tdp_by_key()
    candidates = _candidate_keys(model_name)
    for key in candidates:
        row = by_key.get(key)
        if row is not None:
            spec = _exact(model_name, row, count)
            if spec is not None:
                return spec
    # A generic family name without a model number, e.g. "AMD EPYC" on many VMs.
    for key in candidates:
        spec = _family(model_name, key, generic=True) if key else None
        if spec is not None:
            return spec
    # A model of a known family missing from the table, e.g. "AMD EPYC 7B13".
    for prefix in _prefixes(candidates[-1]):
        spec = _family(model_name, prefix, generic=False)
        if spec is not None:
            return spec
    return _default(model_name)


def chip_threads(model_name: str) -> tuple[int | None, str]:
    """Hardware threads of one chip of ``model_name``: its row of cpu_tdp.csv, or the
    median over its family for a generic name; ``None`` when the table cannot tell."""
    spec = cpu_power_spec(model_name)
    rows = tables.cpu_tdp_rows()
    counts = sorted(r.threads or r.cores or 0 for r in rows if r.cpu_model in set(spec.matched))
    counts = [c for c in counts if c > 0]
    if not counts:
        return None, f"no thread count for {model_name!r} in cpu_tdp.csv"
    median = counts[len(counts) // 2]
    if len(counts) == 1:
        return median, f"{spec.matched[0]} in cpu_tdp.csv"
    return median, f"median of {len(counts)} {model_name!r} models in cpu_tdp.csv"
