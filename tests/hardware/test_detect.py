from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from wattprint.hardware import tables
from wattprint.hardware.cpu import detect_cpu

CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz
physical id\t: 0
flags\t\t: fpu vme sse2 hypervisor avx512f

processor\t: 1
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 85
model name\t: Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz
physical id\t: 1
flags\t\t: fpu vme sse2 hypervisor avx512f
"""


def test_detect_cpu_from_a_cpuinfo_file(tmp_path: Path) -> None:
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO)
    info = detect_cpu(path)
    assert info.model_name == "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"
    assert info.vendor == "Intel" and info.vendor_id == "GenuineIntel"
    assert (info.family, info.model) == (6, 85)
    assert info.hypervisor is True
    assert info.sockets == 2
    assert info.logical_cpus == len(os.sched_getaffinity(0))


def test_detect_cpu_on_this_machine() -> None:
    info = detect_cpu()
    assert info.model_name and info.logical_cpus >= 1
    assert info.host_logical_cpus >= info.logical_cpus


def test_detect_cpu_without_cpuinfo(tmp_path: Path) -> None:
    info = detect_cpu(tmp_path / "missing")
    assert info.model_name == "unknown CPU" and info.hypervisor is False


def test_tables_load_lazily_and_parse() -> None:
    code = (
        "import wattprint.hardware, wattprint.hardware.tables as t\n"
        "assert t.cpu_tdp_rows.cache_info().currsize == 0\n"
        "assert t.power_coefficients.cache_info().currsize == 0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    row = tables.cpu_tdp_by_key()["epyc 7763"]
    assert (row.tdp_w, row.cores, row.threads) == (280.0, 64, 128)
    assert dict(row.tdp_w_by_source)["amd_website"] == 280.0
    coef = tables.coefficient("ga_memory_power")
    assert coef.value == 0.3725 and coef.unit == "W/GB" and coef.license == "CC-BY-4.0"
    assert len(tables.gpu_specs()) == 175
    try:
        tables.coefficient("nope")
    except KeyError as exc:
        assert "nope" in str(exc) and "power_coefficients.csv" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected KeyError")
