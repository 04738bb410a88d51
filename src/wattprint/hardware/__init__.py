"""Hardware detection (CPU from /proc/cpuinfo) and the reference tables in ``data/``.

Nothing is read at import time: tables load on first use.
"""

from __future__ import annotations

from wattprint.hardware.cpu import CpuInfo, CpuPowerSpec, cpu_power_spec, detect_cpu

__all__ = ["CpuInfo", "CpuPowerSpec", "cpu_power_spec", "detect_cpu"]
