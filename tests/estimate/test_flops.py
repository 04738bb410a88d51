"""FLOP-based estimates: 6PT / 2PT, peak per precision, efficiency (MFU) and its source."""

from __future__ import annotations

import dataclasses
import json

import pytest

from wattprint.errors import ConfigError
from wattprint.estimate.flops import (
    MFU_DEFAULT,
    MFU_LOW,
    estimate_flops_energy,
    peak_flops_per_s,
    transformer_flops,
)
from wattprint.hardware.gpu import gpu_spec


def test_transformer_flops() -> None:
    assert transformer_flops(1e9, 2e10) == pytest.approx(1.2e20)
    assert transformer_flops(1e9, 2e10, "inference") == pytest.approx(4e19)
    with pytest.raises(ConfigError, match="mode"):
        transformer_flops(1e9, 1e9, "finetune")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="params"):
        transformer_flops(0, 1e9)


def test_hand_computed_training() -> None:
    # 6 x 1e9 x 2e10 = 1.2e20 FLOPs on 8 x A100 (312 TFLOPS bf16) at 50 % MFU, 400 W, PUE 1.1
    result = estimate_flops_energy("8xA100-80GB", params=1e9, tokens=2e10, efficiency=0.5, pue=1.1)
    assert result.flops == pytest.approx(1.2e20)
    assert result.peak_flops_per_s == pytest.approx(312e12)
    assert result.time_s == pytest.approx(1.2e20 / (8 * 312e12 * 0.5))
    assert result.device_hours == pytest.approx(result.time_s * 8 / 3600)
    assert result.it_energy_j == pytest.approx(1.2e20 / (312e12 * 0.5) * 400)
    assert result.energy_kwh == pytest.approx(1.2e20 / (312e12 * 0.5) * 400 * 1.1 / 3.6e6)
    assert result.efficiency_source == "given by the user"
    assert result.energy_low_j == pytest.approx(result.energy_j)  # no efficiency range
    assert result.energy_high_j == pytest.approx(result.energy_j * 407 / 400)  # CCF A100 max
    assert result.quality == "estimated"


def test_count_changes_time_not_energy() -> None:
    one = estimate_flops_energy("1xH100", flops=1e21, efficiency=0.4, pue=1.0)
    many = estimate_flops_energy("64xH100", flops=1e21, efficiency=0.4, pue=1.0)
    assert many.time_s == pytest.approx(one.time_s / 64)
    assert many.energy_j == pytest.approx(one.energy_j)


def test_default_efficiency_is_palm_mfu_with_a_range() -> None:
    result = estimate_flops_energy("1xH100", flops=1e21, pue=1.0)
    assert result.efficiency == MFU_DEFAULT == 0.462
    assert (result.efficiency_low, result.efficiency_high) == (MFU_LOW, MFU_DEFAULT)
    assert "PaLM" in result.efficiency_source and "2204.02311" in result.efficiency_source
    assert result.energy_high_j == pytest.approx(result.energy_j * MFU_DEFAULT / MFU_LOW)
    assert result.time_high_s == pytest.approx(result.time_s * MFU_DEFAULT / MFU_LOW)
    assert any("PaLM" in a for a in result.assumptions)


def test_precision_selects_the_peak_column() -> None:
    h100 = gpu_spec("H100")
    assert peak_flops_per_s(h100, "fp32") == pytest.approx(66.91e12)
    assert peak_flops_per_s(h100, "tf32") == pytest.approx(494.7e12)
    assert peak_flops_per_s(h100, "fp16") == peak_flops_per_s(h100, "bf16")
    with pytest.raises(ConfigError, match="no fp8 peak for 'NVIDIA H100 SXM5 80GB'; it has: "):
        peak_flops_per_s(h100, "fp8")
    with pytest.raises(ConfigError, match="accepted: fp32, tf32, bf16, fp16, fp8"):
        peak_flops_per_s(h100, "int4")


def test_power_and_pue_options() -> None:
    given = estimate_flops_energy(
        "2xL40S", flops=1e20, efficiency=0.3, power_per_device_w=300, pue=1.2
    )
    assert given.power_w == 300
    assert given.energy_j == pytest.approx(1e20 / (362.05e12 * 0.3) * 300 * 1.2)
    cloud = estimate_flops_energy("2xL40S", flops=1e20, efficiency=0.3, region="gcp:europe-west1")
    assert cloud.pue.value == pytest.approx(1.08)
    default = estimate_flops_energy("2xL40S", flops=1e20, efficiency=0.3)
    assert default.pue.value == pytest.approx(1.56) and default.warnings


def test_emissions_priced_for_the_region_or_a_given_intensity() -> None:
    fr = estimate_flops_energy("1xH100", flops=1e21, efficiency=0.4, pue=1.0, region="FR")
    kwh = fr.energy_j / 3.6e6
    assert fr.operational_kg == pytest.approx(kwh * fr.intensity.g_per_kwh / 1000)
    assert fr.operational_low_kg <= fr.operational_kg <= fr.operational_high_kg
    assert fr.intensity.location.code == "FR" and fr.intensity.source
    assert any("grid intensity" in a and "France" in a for a in fr.assumptions)
    given = estimate_flops_energy("1xH100", flops=1e21, efficiency=0.4, intensity_g_per_kwh=100)
    assert given.operational_kg == pytest.approx(given.energy_j / 3.6e6 * 0.1)
    world = estimate_flops_energy("1xH100", flops=1e21, efficiency=0.4, pue=1.0)
    assert any("world average" in w for w in world.warnings)


def test_json_able() -> None:
    result = estimate_flops_energy("1xH100", params=7e9, tokens=1e12)
    assert json.loads(json.dumps(dataclasses.asdict(result)))["gpu"]["name"] == result.gpu.name


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"flops": None}, "amount of compute is missing"),
        ({"params": 1e9, "tokens": 1e9}, "not both"),
        ({"flops": -1.0}, "flops"),
        ({"efficiency": 0}, "efficiency"),
        ({"efficiency": 1.5}, r"\(0, 1\]"),
        ({"power_per_device_w": -1}, "power_per_device_w"),
        ({"pue": 0.5}, "below 1"),
        ({"hardware": "8xA100-80GB, ram:64"}, "one GPU item"),
        ({"hardware": "cpu:AMD EPYC 7763:64"}, "one GPU item"),
        ({"precision": "fp8"}, "no fp8 peak"),
    ],
)
def test_bad_inputs(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"hardware": "8xA100-80GB", "flops": 1e20}
    args.update(kwargs)
    hardware = args.pop("hardware")
    with pytest.raises(ConfigError, match=message):
        estimate_flops_energy(hardware, **args)  # type: ignore[arg-type]
