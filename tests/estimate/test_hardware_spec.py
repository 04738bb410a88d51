"""Hardware spec strings → devices with their power and its source."""

from __future__ import annotations

import pytest

from wattprint.errors import ConfigError
from wattprint.estimate.hardware_spec import (
    ACCEPTED_FORMS,
    Device,
    ccf_gpu_power,
    parse_hardware,
)
from wattprint.hardware.gpu import gpu_spec


def one(text: str) -> Device:
    devices = parse_hardware(text)
    assert len(devices) == 1
    return devices[0]


@pytest.mark.parametrize(
    ("text", "count", "spec", "tdp_w"),
    [
        ("8xA100-80GB", 8, "NVIDIA A100 SXM4 80 GB", 400.0),
        ("8 x A100-80GB", 8, "NVIDIA A100 SXM4 80 GB", 400.0),
        ("4X H100 PCIe", 4, "NVIDIA H100 PCIe", 350.0),
        ("2\u00d7L40S", 2, "NVIDIA L40S", 350.0),
        ("1xH100", 1, "NVIDIA H100 SXM5 80GB", 700.0),
        ("T4", 1, "NVIDIA Tesla T4", 70.0),
        ('3x "NVIDIA A100-SXM4-40GB"', 3, "NVIDIA A100 SXM4 40 GB", 400.0),
        ("gpu:Tesla V100-SXM2-16GB", 1, "NVIDIA Tesla V100 SXM2 16 GB", 300.0),
    ],
)
def test_gpus(text: str, count: int, spec: str, tdp_w: float) -> None:
    device = one(text)
    assert (device.kind, device.count, device.spec, device.power_w) == ("gpu", count, spec, tdp_w)
    assert "gpu_specs.csv" in device.power_source
    assert device.gpu is not None and device.text == text
    assert device.total_power_w == count * tdp_w


def test_gpu_range_from_ccf_max_watts() -> None:
    a100 = one("1xA100-80GB")
    assert (a100.power_low_w, a100.power_high_w) == (400.0, 407.0)
    assert "Appendix III" in a100.power_source
    h100 = one("1xH100")  # CCF lists no H100: a single figure
    assert h100.power_low_w == h100.power_high_w == 700.0


def test_ccf_entities_match_by_model_words() -> None:
    t4 = ccf_gpu_power(gpu_spec("T4"))
    assert t4 is not None and (t4.idle_w, t4.max_w) == (8.0, 71.0)
    assert t4.power_w(0.5) == pytest.approx(8 + 0.5 * 63)
    assert ccf_gpu_power(gpu_spec("A10")) is None  # CCF has A10G, not A10
    a10g = ccf_gpu_power(gpu_spec("A10G"))
    assert a10g is not None and a10g.max_w == 153.0


def test_gpu_without_tdp_uses_the_green_algorithms_default_and_says_so() -> None:
    device = one("Ascend 920")
    assert device.power_w == 200.0
    assert device.warning is not None and "no TDP" in device.warning


def test_whole_cpus_by_model() -> None:
    device = one('2x "AMD EPYC 7763"')
    assert (device.kind, device.count, device.spec) == ("cpu", 2, "AMD EPYC 7763")
    assert device.power_w == 280.0 and device.cores == 64
    assert "cpu_tdp.csv" in device.power_source


def test_cpu_cores_used_charges_tdp_per_core() -> None:
    # 280 W / 64 cores (128 threads): cpu_power_spec's 2.1875 W per thread x 2
    device = one("cpu:AMD EPYC 7763:32")
    assert device.power_w == pytest.approx(280 / 64 * 32)
    assert device.cores == 32
    full = one("cpu:AMD EPYC 7763:64")
    assert full.power_w == pytest.approx(280.0)


def test_cpu_without_threads_in_the_table() -> None:
    device = one("cpu:Intel Xeon Gold 6248:10")  # 150 W, 20 cores, no thread count
    assert device.power_w == pytest.approx(150 / 20 * 10)


def test_cpu_family_and_unknown_models_have_a_range_and_a_warning() -> None:
    family = one("cpu:AMD EPYC:8")
    assert family.power_low_w < family.power_w < family.power_high_w
    assert "family" in family.power_source
    unknown = one("cpu:Mystery Chip 3000:4")
    assert unknown.power_w == pytest.approx(12 * 4)  # Green Algorithms 12 W per core
    assert unknown.warning is not None and "not in the TDP table" in unknown.warning


def test_ram_uses_green_algorithms_with_ccf_range() -> None:
    device = one("ram:256")
    assert device.kind == "ram" and device.memory_gb == 256
    assert device.power_w == pytest.approx(0.3725 * 256)
    assert device.power_high_w == pytest.approx(0.392 * 256)
    assert one("ram:64GB").power_w == pytest.approx(0.3725 * 64)


def test_several_items() -> None:
    devices = parse_hardware('8xA100-80GB, cpu:"AMD EPYC 7763":64; ram:512 + 1xT4')
    assert [d.kind for d in devices] == ["gpu", "cpu", "ram", "gpu"]
    assert parse_hardware(["8xA100-80GB", "ram:512"])[1].memory_gb == 512


@pytest.mark.parametrize(
    "text",
    [
        "",
        " , ",
        "8x",
        "0xA100-80GB",
        "ram:",
        "ram:lots",
        "ram:0",
        "cpu:",
        "cpu:AMD EPYC 7763:x",
        "cpu:AMD EPYC 7763:0",
        "cpu:Mystery Chip 3000",
        "8xNotAGpu",
        '2x "AMD EPYC 7763',
    ],
)
def test_bad_strings_name_the_accepted_forms(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_hardware(text)
    message = str(info.value)
    assert "accepted" in message or "cores" in message


def test_unknown_model_error_shows_forms_and_suggestions() -> None:
    with pytest.raises(ConfigError) as info:
        parse_hardware("8xA1OO-80GB")
    message = str(info.value)
    assert "'8xA1OO-80GB'" in message and ACCEPTED_FORMS in message
    assert "close matches" in message


def test_ambiguous_gpu_is_not_mistaken_for_a_cpu() -> None:
    with pytest.raises(ConfigError, match="ambiguous"):
        parse_hardware("2xV100 32GB")
