"""CPU power spec lookups against the real cpu_tdp.csv."""

from __future__ import annotations

import pytest

from wattprint.hardware import tables
from wattprint.hardware.cpu import cpu_power_spec, normalise_cpu_name


def test_normaliser_rebuilds_every_match_key() -> None:
    rows = tables.cpu_tdp_rows()
    assert len(rows) == 4820
    assert all(normalise_cpu_name(r.cpu_model) == r.match_key for r in rows)


@pytest.mark.parametrize(
    ("proc_name", "key"),
    [
        ("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", "xeon gold 6248"),
        ("AMD EPYC 7763 64-Core Processor", "epyc 7763 64-core"),
        ("Intel® Core™ i9-13900K Processor", "core i9-13900k"),
        ("AMD EPYC", "epyc"),
    ],
)
def test_normalise_proc_cpuinfo_names(proc_name: str, key: str) -> None:
    assert normalise_cpu_name(proc_name) == key


def test_exact_intel_model() -> None:
    spec = cpu_power_spec("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz")
    assert spec.method == "exact" and spec.matched == ("Intel Xeon Gold 6248",)
    assert spec.per_thread_w == pytest.approx(150 / 20)  # ARK gives cores, not threads
    assert spec.warning is None
    assert "150 W" in spec.basis and "20 cores" in spec.basis and "intel_ark" in spec.basis


def test_exact_amd_model_from_proc_cpuinfo_form() -> None:
    spec = cpu_power_spec("AMD EPYC 7763 64-Core Processor")
    assert spec.method == "exact" and spec.matched == ("AMD EPYC 7763",)
    assert spec.per_thread_w == pytest.approx(280 / 128)
    assert spec.low_ratio == spec.high_ratio == 1.0  # all sources agree on 280 W


def test_exact_model_with_disagreeing_sources_gives_a_range() -> None:
    spec = cpu_power_spec("AMD Ryzen 9 3900X 12-Core Processor")
    assert spec.per_thread_w == pytest.approx(105 / 24)
    assert spec.per_thread_low_w == pytest.approx(105 / 24)
    assert spec.per_thread_high_w == pytest.approx(125 / 24)  # green_algorithms=125
    assert "sources disagree" in spec.basis


def test_generic_family_gives_a_range_not_the_largest_tdp() -> None:
    spec = cpu_power_spec("AMD EPYC")
    rows = [
        r
        for r in tables.cpu_tdp_rows()
        if r.match_key.startswith("epyc ") and r.threads and r.tdp_w
    ]
    per_thread = sorted(r.tdp_w / r.threads for r in rows)  # type: ignore[operator]
    assert spec.method == "family" and spec.warning is None
    assert spec.per_thread_low_w < spec.per_thread_w < spec.per_thread_high_w
    assert spec.per_thread_low_w == pytest.approx(per_thread[0])
    assert spec.per_thread_high_w == pytest.approx(per_thread[-1])
    assert len(spec.matched) == len(rows)
    biggest = max(rows, key=lambda r: r.tdp_w or 0.0)
    assert spec.per_thread_w != pytest.approx(biggest.tdp_w / biggest.threads)  # type: ignore[operator]
    assert spec.per_thread_w != pytest.approx(per_thread[0])
    assert "family range of 'epyc'" in spec.basis


def test_unknown_model_of_a_known_family_uses_the_family_with_a_warning() -> None:
    spec = cpu_power_spec("AMD EPYC 7B13")
    assert spec.method == "family"
    assert spec.warning is not None and "'AMD EPYC 7B13'" in spec.warning


def test_unknown_cpu_gets_green_algorithms_default_and_a_warning() -> None:
    spec = cpu_power_spec("Foo 9000")
    default = tables.coefficient("ga_cpu_default_per_core")
    assert spec.method == "default"
    assert spec.per_thread_w == default.value == 12
    assert spec.warning == (
        "CPU 'Foo 9000' not in the TDP table: using Green Algorithms' default 12 W per core; "
        "set WATTPRINT_CPU_TDP_W"
    )
    assert spec.per_thread_low_w <= spec.per_thread_w <= spec.per_thread_high_w


def test_tdp_override_divides_by_the_hosts_logical_cpus() -> None:
    spec = cpu_power_spec("Foo 9000", tdp_override=120.0, logical_cpus=16)
    assert spec.method == "override" and spec.warning is None
    assert spec.per_thread_w == pytest.approx(7.5)
    assert spec.low_ratio == spec.high_ratio == 1.0
    assert "120 W" in spec.basis and "16 logical CPUs" in spec.basis
    with pytest.raises(ValueError, match="tdp_override=-1"):
        cpu_power_spec("Foo", tdp_override=-1)


def test_row_without_core_count_divides_by_host_cpus() -> None:
    spec = cpu_power_spec("11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz", logical_cpus=8)
    assert spec.method == "exact" and spec.matched == ("Intel Core i7-1165G7",)
    assert spec.per_thread_w == pytest.approx(28 / 8)
