"""Energy sources: one module per vendor interface, each a ``Meter`` (see ``base``).

Importing this package is cheap: the meter classes (and psutil / pynvml behind them)
load on first attribute access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wattprint.meters.base import Component, Meter, SourceStatus

if TYPE_CHECKING:
    from wattprint.meters.cpu_model import CpuModelMeter
    from wattprint.meters.discovery import hardware_inventory, open_meters, probe_sources
    from wattprint.meters.nvml import NvmlMeter
    from wattprint.meters.process_tree import ProcessTree
    from wattprint.meters.ram import RamModelMeter
    from wattprint.meters.rapl import RaplMeter

_LAZY = {
    "RaplMeter": "wattprint.meters.rapl",
    "NvmlMeter": "wattprint.meters.nvml",
    "CpuModelMeter": "wattprint.meters.cpu_model",
    "RamModelMeter": "wattprint.meters.ram",
    "ProcessTree": "wattprint.meters.process_tree",
    "open_meters": "wattprint.meters.discovery",
    "probe_sources": "wattprint.meters.discovery",
    "hardware_inventory": "wattprint.meters.discovery",
}

__all__ = [
    "Component",
    "CpuModelMeter",
    "Meter",
    "NvmlMeter",
    "ProcessTree",
    "RamModelMeter",
    "RaplMeter",
    "SourceStatus",
    "hardware_inventory",
    "open_meters",
    "probe_sources",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wattprint.meters' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
