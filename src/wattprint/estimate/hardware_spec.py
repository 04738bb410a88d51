"""Hardware spec strings for estimates: ``"8xA100-80GB, cpu:AMD EPYC 7763:64, ram:256"``.

Accepted items (several separated by ``,``, ``;`` or ``+``; names with spaces may be
quoted):

* ``<N>x<model>``: N GPUs (``8xA100-80GB``, ``1xH100``), or N whole CPUs when the model
  is a CPU of ``cpu_tdp.csv`` and not a GPU (``2x "AMD EPYC 7763"``); a bare model means 1;
* ``cpu:<model>[:<cores>]``: one CPU, of which ``cores`` cores are used (all when omitted);
* ``ram:<GB>``: memory in GB.

Each becomes a ``Device`` with its full-load power per unit and where it comes from:
GPU TDP from ``gpu_specs.csv``; CPU TDP per core (``wattprint.hardware.cpu``) * cores;
RAM W/GB from ``power_coefficients.csv`` (Green Algorithms). Where a second source gives
the same quantity (Cloud Carbon Footprint's GPU max watts, CCF's memory coefficient) the
full-load range spans both; otherwise the range is the single figure.
"""

from __future__ import annotations

import functools
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from wattprint.errors import ConfigError
from wattprint.hardware import tables
from wattprint.hardware.cpu import CpuPowerSpec, cpu_power_spec
from wattprint.hardware.gpu import GpuSpec, UnknownGpuError, gpu_spec

RAM_POWER_ID = "ga_memory_power"
RAM_POWER_ALT_ID = "ccf_aws_memory_energy"  # kWh per GB-hour; the same for every provider
GPU_DEFAULT_ID = "ga_gpu_default"
CCF_GPU_PREFIX = "ccf_gpu_"

ACCEPTED_FORMS = (
    "accepted: '<N>x<GPU>' (e.g. '8xA100-80GB', '1xH100'), '<N>x\"<CPU model>\"' for whole "
    "CPUs (e.g. '2x \"AMD EPYC 7763\"'), 'cpu:<model>:<cores used>' (e.g. "
    "'cpu:AMD EPYC 7763:64'), 'ram:<GB>' (e.g. 'ram:256'); several separated by ','"
)

DeviceKind = Literal["gpu", "cpu", "ram"]


@dataclass(frozen=True)
class Device:
    """Hardware charged by an estimate.

    ``count`` units (GPUs, CPU packages; 1 for RAM), each drawing ``power_w`` at full
    load (``power_low_w``-``power_high_w`` across sources). ``cores`` is the number of
    cores used per CPU; ``memory_gb`` the RAM size. ``power_source`` cites the figure.
    """

    kind: DeviceKind
    count: int
    spec: str
    power_w: float
    power_low_w: float
    power_high_w: float
    power_source: str
    text: str = ""
    cores: int | None = None
    memory_gb: float | None = None
    gpu: GpuSpec | None = None
    warning: str | None = None

    @property
    def total_power_w(self) -> float:
        return self.power_w * self.count


@dataclass(frozen=True)
class CcfGpuPower:
    """Cloud Carbon Footprint's idle and max watts for a GPU (Methodology, Appendix III)."""

    entity: str
    idle_w: float
    max_w: float
    source: str

    def power_w(self, utilisation: float) -> float:
        """CCF's model: ``idle + utilisation * (max - idle)``."""
        return self.idle_w + utilisation * (self.max_w - self.idle_w)


_WORD = re.compile(r"[a-z0-9]+")
_CCF_DROP = frozenset({"nvidia", "tesla"})


@functools.cache
def _ccf_gpu_table() -> tuple[CcfGpuPower, ...]:
    idle: dict[str, tables.Coefficient] = {}
    peak: dict[str, tables.Coefficient] = {}
    for coeff in tables.power_coefficients().values():
        if coeff.component != "gpu" or not coeff.id.startswith(CCF_GPU_PREFIX):
            continue
        if coeff.metric == "idle_watts":
            idle[coeff.entity] = coeff
        elif coeff.metric == "max_watts":
            peak[coeff.entity] = coeff
    return tuple(
        CcfGpuPower(
            entity=entity,
            idle_w=idle[entity].value,
            max_w=peak[entity].value,
            source=f"{peak[entity].source} ({peak[entity].license}): {entity} "
            f"idle {idle[entity].value:g} W, max {peak[entity].value:g} W",
        )
        for entity in sorted(set(idle) & set(peak))
    )


def ccf_gpu_power(spec: GpuSpec) -> CcfGpuPower | None:
    """CCF's idle/max watts for ``spec`` when CCF lists its model (A100, V100, T4, …).

    A CCF entity matches when its model words ("a100", "t4") are all words of the
    GPU's name or aliases; CCF does not distinguish memory sizes or form factors.
    """
    words = spec.words
    for entry in _ccf_gpu_table():
        model = {w for w in _WORD.findall(entry.entity.lower()) if w not in _CCF_DROP}
        if model and model <= words:
            return entry
    return None


# --- devices --------------------------------------------------------------------------


def gpu_device(name: str, count: int = 1, text: str = "") -> Device:
    """``count`` GPUs of the model ``name`` (see ``wattprint.hardware.gpu.gpu_spec``)."""
    _check_count(count, text or name)
    spec = gpu_spec(name)
    warning = None
    if spec.tdp_w is None:
        default = tables.coefficient(GPU_DEFAULT_ID)
        tdp, source = default.value, f"{default.source} ({default.id}, {default.license})"
        warning = (
            f"gpu_specs.csv gives no TDP for {spec.name!r}: using the Green Algorithms "
            f"default of {default.value:g} W per GPU; pass power_per_device_w for a better "
            "estimate"
        )
    else:
        tdp, source = spec.tdp_w, f"TDP of {spec.name} in gpu_specs.csv ({spec.source})"
    low = high = tdp
    ccf = ccf_gpu_power(spec)
    if ccf is not None:
        low, high = min(tdp, ccf.max_w), max(tdp, ccf.max_w)
        source += f"; range with {ccf.source}"
    return Device(
        kind="gpu",
        count=count,
        spec=spec.name,
        power_w=tdp,
        power_low_w=low,
        power_high_w=high,
        power_source=source,
        text=text or name,
        memory_gb=spec.memory_gb,
        gpu=spec,
        warning=warning,
    )


def _cpu_row(spec: CpuPowerSpec) -> tables.CpuTdpRow | None:
    if spec.method != "exact" or not spec.matched:
        return None
    for row in tables.cpu_tdp_rows():
        if row.cpu_model == spec.matched[0]:
            return row
    return None  # pragma: no cover - matched names come from the table


def _per_core(spec: CpuPowerSpec) -> tuple[float, float, float, str]:
    """Watts per *core* (point, low, high) and the basis: ``cpu_power_spec`` gives watts
    per logical CPU, which for a table row with threads is TDP / threads."""
    row = _cpu_row(spec)
    if row is not None and row.threads and row.cores:
        factor = row.threads / row.cores
        return (
            spec.per_thread_w * factor,
            spec.per_thread_low_w * factor,
            spec.per_thread_high_w * factor,
            f"{spec.basis}; * {row.threads}/{row.cores} threads per core = W per core",
        )
    if spec.method == "family":
        matched = set(spec.matched)
        values = [
            r.tdp_w / r.cores
            for r in tables.cpu_tdp_rows()
            if r.cpu_model in matched and r.tdp_w is not None and r.cores
        ]
        if values:
            return (
                statistics.median(values),
                min(values),
                max(values),
                f"family of {len(values)} models in cpu_tdp.csv: "
                f"{min(values):.2f}-{max(values):.2f} W/core, median "
                f"{statistics.median(values):.2f} (TDP / cores)",
            )
    return spec.per_thread_w, spec.per_thread_low_w, spec.per_thread_high_w, spec.basis


def cpu_device(model: str, cores: int | None = None, count: int = 1, text: str = "") -> Device:
    """``count`` CPUs of ``model`` with ``cores`` cores used each (all cores of the
    model's table row when ``None``, which needs the model in ``cpu_tdp.csv``)."""
    label = text or model
    _check_count(count, label)
    if cores is not None and (isinstance(cores, bool) or cores < 1):
        raise ConfigError(f"{label!r}: cores={cores!r} must be a whole number >= 1")
    spec = cpu_power_spec(model, logical_cpus=cores or 1)
    if cores is None:
        row = _cpu_row(spec)
        if row is None or row.tdp_w is None:
            raise ConfigError(
                f"CPU {model!r} is not in cpu_tdp.csv with a TDP, so the number of cores "
                f"cannot be inferred: give the cores used as 'cpu:{model}:<cores>'"
            )
        low = high = row.tdp_w
        by_source = [v for _, v in row.tdp_w_by_source]
        if by_source:
            low, high = min([*by_source, row.tdp_w]), max([*by_source, row.tdp_w])
        return Device(
            kind="cpu",
            count=count,
            spec=row.cpu_model,
            power_w=row.tdp_w,
            power_low_w=low,
            power_high_w=high,
            power_source=f"package TDP of {row.cpu_model} in cpu_tdp.csv "
            f"({', '.join(row.sources)}); model: Green Algorithms (Lannelongue et al. 2021)",
            text=label,
            cores=row.cores,
        )
    point, low, high, basis = _per_core(spec)
    return Device(
        kind="cpu",
        count=count,
        spec=spec.matched[0] if spec.method == "exact" else model,
        power_w=point * cores,
        power_low_w=low * cores,
        power_high_w=high * cores,
        power_source=f"{point:.4g} W per core * {cores} cores: {basis}",
        text=label,
        cores=cores,
        warning=spec.warning,
    )


def ram_device(memory_gb: float, text: str = "") -> Device:
    """``memory_gb`` GB of memory at Green Algorithms' W/GB; range with CCF's figure."""
    label = text or f"ram:{memory_gb:g}"
    if isinstance(memory_gb, bool) or not memory_gb > 0:
        raise ConfigError(f"{label!r}: memory {memory_gb!r} GB must be > 0; {ACCEPTED_FORMS}")
    ga = tables.coefficient(RAM_POWER_ID)
    alt = tables.coefficient(RAM_POWER_ALT_ID)
    alt_w_per_gb = alt.value * 1000.0  # kWh per GB-hour → W per GB
    per_gb = [ga.value, alt_w_per_gb]
    return Device(
        kind="ram",
        count=1,
        spec=f"{memory_gb:g} GB RAM",
        power_w=ga.value * memory_gb,
        power_low_w=min(per_gb) * memory_gb,
        power_high_w=max(per_gb) * memory_gb,
        power_source=(
            f"{ga.value:g} {ga.unit} * {memory_gb:g} GB: {ga.source} ({ga.id}, {ga.license}); "
            f"range with {alt.source} {alt.value:g} {alt.unit} = {alt_w_per_gb:g} W/GB "
            f"({alt.id}, {alt.license})"
        ),
        text=label,
        memory_gb=float(memory_gb),
    )


def _check_count(count: int, label: str) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(
            f"hardware item {label!r}: count {count!r} must be a whole number >= 1; "
            f"{ACCEPTED_FORMS}"
        )


# --- parsing ----------------------------------------------------------------------------

_COUNT = re.compile(r"^(\d+)\s*[x\u00d7*]\s*(.+)$", re.IGNORECASE)
_COUNT_ONLY = re.compile(r"^\d+\s*[x\u00d7*]?\s*$", re.IGNORECASE)
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_GB = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:gb|gib|g)?$", re.IGNORECASE)


def _split(text: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    quote: str | None = None
    for char in text:
        if quote:
            if char == quote:
                quote = None
            current.append(char)
        elif char in "\"'":
            quote = char
            current.append(char)
        elif char in ",;+":
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    if quote:
        raise ConfigError(f"hardware {text!r}: unclosed quote {quote}; {ACCEPTED_FORMS}")
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    return text


def _parse_item(item: str) -> Device:
    prefix, sep, rest = item.partition(":")
    kind = prefix.strip().lower()
    if sep and kind == "ram":
        match = _GB.match(rest.strip())
        if not match:
            raise ConfigError(f"hardware item {item!r}: RAM size must be GB; {ACCEPTED_FORMS}")
        return ram_device(float(match.group(1)), text=item)
    if sep and kind == "cpu":
        model, cores = rest.strip(), None
        head, colon, tail = model.rpartition(":")
        if colon:
            if not tail.strip().isdigit():
                raise ConfigError(
                    f"hardware item {item!r}: cores {tail.strip()!r} must be a whole number; "
                    f"{ACCEPTED_FORMS}"
                )
            model, cores = head, int(tail)
        model = _unquote(model)
        if not model:
            raise ConfigError(f"hardware item {item!r}: no CPU model; {ACCEPTED_FORMS}")
        return cpu_device(model, cores, text=item)
    if sep and kind == "gpu":
        return gpu_device(_unquote(rest), 1, text=item)
    count, name = 1, item
    if _COUNT_ONLY.match(item):
        raise ConfigError(f"hardware item {item!r}: no device model; {ACCEPTED_FORMS}")
    match = _COUNT.match(item)
    if match:
        count, name = int(match.group(1)), match.group(2)
    name = _unquote(name)
    if not name or _NUMBER.match(name):
        raise ConfigError(f"hardware item {item!r}: no device model; {ACCEPTED_FORMS}")
    try:
        return gpu_device(name, count, text=item)
    except UnknownGpuError as gpu_error:
        try:
            return cpu_device(name, None, count, text=item)
        except ConfigError:
            raise ConfigError(
                f"hardware item {item!r}: {gpu_error}. It is not a CPU model of cpu_tdp.csv "
                f"either; {ACCEPTED_FORMS}"
            ) from None


def parse_hardware(hardware: str | Sequence[str]) -> list[Device]:
    """The devices a hardware spec string (or a list of items) names; ``ConfigError``
    naming the bad item and the accepted forms."""
    items: list[str] = []
    if isinstance(hardware, str):
        items = _split(hardware)
    else:
        for part in hardware:
            if not isinstance(part, str):
                raise ConfigError(f"hardware item {part!r} is not a string; {ACCEPTED_FORMS}")
            items.extend(_split(part))
    if not items:
        raise ConfigError(f"hardware {hardware!r} names no device; {ACCEPTED_FORMS}")
    return [_parse_item(item) for item in items]
