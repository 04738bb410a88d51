"""Open the energy sources a host offers, and say why the others are unusable.

``open_meters`` tries ``settings.sources`` in order. Measured sources come first:
when RAPL yields CPU packages the CPU model is not opened, and when it yields DRAM
zones the RAM model is not opened. A source that fails never raises: it becomes a
``SourceStatus(available=False, reason=...)`` that the run summary and
``wattprint hardware`` show.

In a distributed run (see ``wattprint.tracking.distributed``) the tracker passes
``host=False`` to every rank but one per node, so a node's CPU and RAM are measured
once, and ``gpus`` to select the rank's own GPU.

``WATTPRINT_RAPL_ROOT`` names another powercap folder than ``/sys/class/powercap``
(a copy, a container's bind mount, or the fake trees of the tests, which launch
tracked child processes that cannot be handed a meter).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import EllipsisType
from typing import TYPE_CHECKING, Any

from wattprint.errors import MeterError
from wattprint.meters.base import Meter, SourceStatus

if TYPE_CHECKING:
    from wattprint.config import Settings
    from wattprint.hardware.cpu import CpuInfo
    from wattprint.meters.process_tree import ProcessTree

log = logging.getLogger(__name__)

DEFAULT_RAPL_ROOT = Path("/sys/class/powercap")
NOT_NEEDED_CPU = "not needed: RAPL measures the CPU"
NOT_NEEDED_RAM = "not needed: RAPL measures the DRAM"
RAPL_ROOT_ENV = "WATTPRINT_RAPL_ROOT"
HOST_SOURCES = ("rapl", "cpu-model", "ram-model")
NOT_ELECTED = "not measured by this rank: local rank 0 measures this node's CPU and RAM"


def rapl_root_from_env() -> Path:
    """``$WATTPRINT_RAPL_ROOT`` if set, else ``/sys/class/powercap``."""
    raw = os.environ.get(RAPL_ROOT_ENV, "").strip()
    return Path(raw) if raw else DEFAULT_RAPL_ROOT


def _rapl_status(meter: Any) -> SourceStatus:
    packages = [c.name for c in meter.components if c.kind == "cpu"]
    drams = [c.name for c in meter.components if c.kind == "ram"]
    parts = []
    if packages:
        parts.append(f"{len(packages)} package(s) ({', '.join(packages)})")
    if drams:
        parts.append(f"{len(drams)} DRAM zone(s) ({', '.join(drams)})")
    if not packages:
        parts.append("no package zone: the CPU model is used for the CPU")
    reason = f"RAPL: {'; '.join(parts)} under {meter.root}"
    return SourceStatus("rapl", True, "measured", reason, meter.components)


def _rapl_failure(exc: MeterError) -> str:
    text = str(exc)
    if "permission denied" in text:
        return f"{text}; falling back to the CPU model"
    return text


def _nvml_status(meter: Any) -> SourceStatus:
    gpus = "; ".join(f"{g['component']} {g['name']} ({g['method']})" for g in meter.gpus())
    return SourceStatus("nvml", True, "measured", f"NVML: {gpus}", meter.components)


def open_meters(
    settings: Settings,
    tree: ProcessTree,
    *,
    rapl_root: Path | None = None,
    nvml: Any = None,
    cpu: CpuInfo | None = None,
    host: bool = True,
    gpus: str | EllipsisType | None = ...,
) -> tuple[list[Meter], list[SourceStatus]]:
    """Open every usable source among ``settings.sources``.

    ``rapl_root`` (default ``rapl_root_from_env()``) and ``nvml`` (a module with NVML's
    functions; default ``pynvml``) are injectable for tests; ``cpu`` defaults to
    ``detect_cpu()``. With ``host=False`` the host sources (RAPL, CPU and RAM models)
    are not opened; their status says so. ``gpus`` selects the GPUs like
    ``CUDA_VISIBLE_DEVICES`` does (default: that variable).
    """
    from wattprint.meters.rapl import RaplMeter

    meters: list[Meter] = []
    statuses: dict[str, SourceStatus] = {}
    cpu_measured = ram_measured = False
    if rapl_root is None:
        rapl_root = rapl_root_from_env()
    if not host:
        for source in settings.sources:
            if source in HOST_SOURCES:
                statuses[source] = SourceStatus(source, False, None, NOT_ELECTED)

    if "rapl" in settings.sources and "rapl" not in statuses:
        try:
            rapl = RaplMeter(rapl_root)
        except MeterError as exc:
            statuses["rapl"] = SourceStatus("rapl", False, None, _rapl_failure(exc))
        except OSError as exc:
            statuses["rapl"] = SourceStatus("rapl", False, None, f"RAPL: {exc}")
        else:
            meters.append(rapl)
            statuses["rapl"] = _rapl_status(rapl)
            cpu_measured, ram_measured = rapl.has_package, rapl.has_dram

    for source in settings.sources:
        if source in statuses:
            continue
        if source == "nvml":
            statuses[source] = _open_nvml(settings, nvml, meters, gpus)
        elif source == "cpu-model":
            if cpu_measured:
                statuses[source] = SourceStatus(source, False, None, NOT_NEEDED_CPU)
            else:
                statuses[source] = _open_cpu_model(settings, tree, cpu, meters)
        elif source == "ram-model":
            if ram_measured:
                statuses[source] = SourceStatus(source, False, None, NOT_NEEDED_RAM)
            else:
                statuses[source] = _open_ram_model(settings, tree, meters)
    return meters, [statuses[s] for s in settings.sources if s in statuses]


def _open_nvml(
    settings: Settings, nvml: Any, meters: list[Meter], gpus: str | EllipsisType | None = ...
) -> SourceStatus:
    from wattprint.meters.nvml import NvmlMeter

    try:
        meter = NvmlMeter(nvml=nvml, mode=settings.gpu_energy, visible=gpus)
    except MeterError as exc:
        return SourceStatus("nvml", False, None, str(exc))
    except Exception as exc:  # a broken driver must not stop the run
        return SourceStatus("nvml", False, None, f"NVML: {type(exc).__name__}: {exc}")
    meters.append(meter)
    return _nvml_status(meter)


def _open_cpu_model(
    settings: Settings, tree: ProcessTree, cpu: CpuInfo | None, meters: list[Meter]
) -> SourceStatus:
    from wattprint.hardware.cpu import cpu_power_spec, detect_cpu
    from wattprint.meters.cpu_model import CpuModelMeter

    try:
        info = cpu if cpu is not None else detect_cpu()
        spec = cpu_power_spec(info.model_name, settings.cpu_tdp_w, info.host_logical_cpus)
        meter = CpuModelMeter(spec, tree, settings.attribution)
    except Exception as exc:
        return SourceStatus("cpu-model", False, None, f"CPU model: {type(exc).__name__}: {exc}")
    meters.append(meter)
    if spec.method == "family":
        what = (
            f"family range {spec.per_thread_low_w:.2f}-{spec.per_thread_high_w:.2f} W/thread, "
            f"median {spec.per_thread_w:.2f}"
        )
    elif spec.method == "exact":
        what = f"{spec.per_thread_w:.2f} W/thread ({spec.matched[0]})"
    elif spec.method == "override":
        what = f"{spec.per_thread_w:.2f} W/thread from cpu_tdp_w={settings.cpu_tdp_w:g}"
    else:
        what = f"default {spec.per_thread_w:g} W/thread"
    reason = f"CPU model: {info.model_name} → {what}; {settings.attribution} attribution"
    if spec.warning:
        log.warning("%s", spec.warning)
        reason += f"; {spec.warning}"
    return SourceStatus("cpu-model", True, "estimated", reason, meter.components)


def _open_ram_model(settings: Settings, tree: ProcessTree, meters: list[Meter]) -> SourceStatus:
    from wattprint.meters.ram import RamModelMeter

    try:
        meter = RamModelMeter(tree, settings.attribution)
    except Exception as exc:
        return SourceStatus("ram-model", False, None, f"RAM model: {type(exc).__name__}: {exc}")
    meters.append(meter)
    reason = (
        f"RAM model: {meter.spec.w_per_gb:g} W/GB x resident GB "
        f"({settings.attribution} attribution); {meter.spec.basis}"
    )
    return SourceStatus("ram-model", True, "estimated", reason, meter.components)


def probe_sources(
    settings: Settings,
    *,
    rapl_root: Path | None = None,
    nvml: Any = None,
    cpu: CpuInfo | None = None,
) -> list[SourceStatus]:
    """Open and close every source, for ``wattprint hardware``: one status per source."""
    from wattprint.meters.process_tree import ProcessTree

    meters, statuses = open_meters(settings, ProcessTree(), rapl_root=rapl_root, nvml=nvml, cpu=cpu)
    for meter in meters:
        try:
            meter.close()
        except Exception:  # pragma: no cover - close is best effort
            log.debug("closing %s failed", meter.name, exc_info=True)
    return statuses


def hardware_inventory(statuses: list[SourceStatus], cpu: CpuInfo | None = None) -> dict[str, Any]:
    """A JSON-able description of the host and its energy sources, stored on a run."""
    import psutil

    from wattprint.hardware.cpu import detect_cpu

    info = cpu if cpu is not None else detect_cpu()
    gpus = [
        {
            "component": c.name,
            "name": c.description.rsplit(" (", 1)[0],
            "uuid": c.details.get("uuid", ""),
            "method": c.details.get("method", ""),
        }
        for s in statuses
        for c in s.components
        if c.kind == "gpu"
    ]
    return {
        "cpu": {
            "model": info.model_name,
            "vendor": info.vendor,
            "logical_cpus": info.logical_cpus,
            "host_logical_cpus": info.host_logical_cpus,
            "hypervisor": info.hypervisor,
            "family": info.family,
            "model_number": info.model,
            "sockets": info.sockets,
        },
        "ram_gb": round(psutil.virtual_memory().total / 1e9, 3),
        "gpus": gpus,
        "sources": [
            {
                "source": s.source,
                "available": s.available,
                "quality": s.quality,
                "reason": s.reason,
                "components": [
                    {
                        "name": c.name,
                        "kind": c.kind,
                        "quality": c.quality,
                        "description": c.description,
                        "basis": c.basis,
                        "low_ratio": c.low_ratio,
                        "high_ratio": c.high_ratio,
                    }
                    for c in s.components
                ],
            }
            for s in statuses
        ],
    }
