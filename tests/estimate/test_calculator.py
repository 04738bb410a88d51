"""The Green Algorithms / ML CO2 Impact calculator: hand-computed cases, linearity,
ranges, carbon resolution, embodied part and every bad input."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from wattprint.carbon.embodied import SECONDS_PER_YEAR
from wattprint.errors import ConfigError
from wattprint.estimate import FootprintEstimate, estimate_footprint, parse_hardware
from wattprint.estimate.calculator import NO_RANGE


def fixed(hardware: str, hours: float = 72.0, **kwargs: object) -> FootprintEstimate:
    """An estimate at a given PUE and intensity (no table look-ups for carbon)."""
    options: dict[str, object] = {"pue": 1.1, "intensity_g_per_kwh": 200.0}
    options.update(kwargs)
    return estimate_footprint(hardware, hours, **options)  # type: ignore[arg-type]


def test_hand_computed_gpus() -> None:
    # 8 GPUs x 400 W x 72 h x PUE 1.1 = 253.44 kWh; at 200 g/kWh: 50.688 kg
    result = fixed("8xA100-80GB")
    assert result.it_energy_kwh == pytest.approx(230.4)
    assert result.energy_kwh == pytest.approx(253.44)
    assert result.operational_kg == pytest.approx(50.688)
    assert result.quality == "estimated"
    assert result.intensity.source == "given by the user"
    assert result.pue.value == 1.1 and result.pue.reason == "given by the user"


def test_hand_computed_power_given_per_device() -> None:
    result = fixed("8xH100", power_per_device_w=400)
    assert result.energy_kwh == pytest.approx(253.44)
    assert result.devices[0].range_basis == "no range: power given by the user"
    assert any("power_per_device_w=400 W applies to each GPU" in a for a in result.assumptions)


def test_hand_computed_mixed_node_with_utilisation() -> None:
    result = fixed(
        "8xA100-80GB, cpu:AMD EPYC 7763:64, ram:256",
        10,
        utilisation=0.5,
        pue=1.2,
        intensity_g_per_kwh=100,
    )
    gpu, cpu, ram = result.devices
    assert gpu.power_w == pytest.approx(200) and gpu.energy_kwh == pytest.approx(16.0)
    assert cpu.power_w == pytest.approx(140) and cpu.energy_kwh == pytest.approx(1.4)
    assert ram.power_w == pytest.approx(0.3725 * 256)  # memory is not scaled by usage
    watts = 1600 + 140 + 0.3725 * 256
    assert result.energy_kwh == pytest.approx(watts * 10 / 1000 * 1.2)
    assert result.operational_kg == pytest.approx(watts * 10 / 1000 * 1.2 * 0.1)
    # ranges: CCF A100 46 + 0.5 x (407 - 46) W per GPU; CCF memory 0.392 W/GB
    assert gpu.power_high_w == pytest.approx(46 + 0.5 * 361)
    assert gpu.power_low_w == pytest.approx(200)
    high_watts = 8 * (46 + 0.5 * 361) + 140 + 0.392 * 256
    assert result.energy_high_kwh == pytest.approx(high_watts * 10 / 1000 * 1.2)
    assert result.energy_low_kwh == pytest.approx(result.energy_kwh)
    assert result.operational_low_kg <= result.operational_kg <= result.operational_high_kg


def test_single_tdp_figure_has_no_range_and_says_so() -> None:
    result = fixed("1xH100")
    assert result.energy_low_kwh == result.energy_kwh == result.energy_high_kwh
    assert result.devices[0].range_basis == NO_RANGE
    assert any(NO_RANGE in a for a in result.assumptions)


def test_embodied_is_separate_and_amortised() -> None:
    result = fixed("8xA100-80GB")
    expected = (1000 + 8 * 150) * 72 * 3600 / (4 * SECONDS_PER_YEAR)
    assert result.embodied_kg == pytest.approx(expected)
    assert result.embodied.kg == result.embodied_kg
    assert result.operational_kg == pytest.approx(50.688)  # unchanged by embodied
    half = fixed("8xA100-80GB", share=0.5, lifetime_years=8)
    assert half.embodied_kg == pytest.approx(expected / 4)
    none = fixed("8xA100-80GB", servers=0)
    assert none.embodied_kg == pytest.approx(8 * 150 * 72 * 3600 / (4 * SECONDS_PER_YEAR))


def test_one_cpu_per_server_is_inside_the_base_server() -> None:
    result = fixed('2x "AMD EPYC 7763", ram:512')
    kinds = {item.kind: item for item in result.embodied.items}
    assert kinds["cpu"].quantity == 1  # 2 CPUs, one in the mono-socket base server
    assert kinds["ram"].quantity == 512
    assert fixed('2x "AMD EPYC 7763"', servers=2).embodied.items[-1].kind == "server"


def test_cpu_only_node_takes_power_per_device_for_cpus() -> None:
    result = fixed('2x "AMD EPYC 7763", ram:64', power_per_device_w=150)
    cpu, ram = result.devices
    assert cpu.power_w == 150 and cpu.energy_kwh == pytest.approx(2 * 150 * 72 / 1000)
    assert ram.power_w == pytest.approx(0.3725 * 64)


def test_devices_may_be_given_as_objects() -> None:
    devices = parse_hardware("8xA100-80GB")
    assert fixed(devices).energy_kwh == pytest.approx(fixed("8xA100-80GB").energy_kwh)
    assert fixed(["8xA100-80GB"]).energy_kwh == pytest.approx(253.44)


def test_region_resolves_intensity_and_pue() -> None:
    result = estimate_footprint("1xH100", 10, region="gcp:europe-west1")
    assert result.pue.value == pytest.approx(1.08)
    assert result.intensity.location.code == "gcp:europe-west1"
    assert result.intensity.source != "given by the user"
    expected = 0.7 * 10 * 1.08 * result.intensity.g_per_kwh / 1000
    assert result.operational_kg == pytest.approx(expected)
    assert result.operational_low_kg == pytest.approx(
        0.7 * 10 * 1.08 * result.intensity.low_g_per_kwh / 1000
    )


def test_given_intensity_wins_over_region_and_says_so() -> None:
    result = estimate_footprint("1xH100", 10, region="FR", intensity_g_per_kwh=300)
    assert result.intensity.g_per_kwh == 300
    assert result.intensity.location.code == "FR"
    assert any("wins over the intensity of France" in w for w in result.warnings)
    assert result.operational_kg == pytest.approx(0.7 * 10 * result.pue.value * 0.3)


def test_defaults_are_visible() -> None:
    result = estimate_footprint("1xH100", 10)
    assert result.intensity.location.code == "WORLD"
    assert result.pue.value == pytest.approx(1.56)  # Uptime 2024, industry average
    assert any("world average" in w for w in result.warnings)
    assert any("industry-average PUE" in w for w in result.warnings)
    assert any(a.startswith("PUE 1.56") for a in result.assumptions)


def test_assumptions_cite_every_constant() -> None:
    result = estimate_footprint("8xA100-80GB, cpu:AMD EPYC 7763:64, ram:256", 1, region="US-CA")
    text = "\n".join(result.assumptions)
    for needle in (
        "Green Algorithms (Lannelongue",
        "gpu_specs.csv",
        "Epoch AI",
        "cpu_tdp.csv",
        "ga_memory_power",
        "Appendix III",
        "PUE",
        "gCO2e/kWh for California",
        "teads_base_rack_server",
        "teads_gpu_unit",
        "teads_dram_per_gb",
        "teads_rack_server_lifespan",
        "no form factor",
    ):
        assert needle in text, needle


def test_equivalences_and_json() -> None:
    result = fixed("8xA100-80GB")
    assert result.equivalences and all(e.amount > 0 for e in result.equivalences)
    data = json.loads(json.dumps(dataclasses.asdict(result)))
    assert data["energy_kwh"] == pytest.approx(253.44)
    assert data["hardware"][0]["gpu"]["name"] == "NVIDIA A100 SXM4 80 GB"


# --- linearity (deterministic; hypothesis versions in test_properties.py) ------------


@pytest.mark.parametrize("factor", [0.5, 2.0, 7.25])
def test_linear_in_hours(factor: float) -> None:
    one, many = fixed("2xT4, ram:32", 3.0), fixed("2xT4, ram:32", 3.0 * factor)
    assert many.energy_kwh == pytest.approx(one.energy_kwh * factor)
    assert many.operational_kg == pytest.approx(one.operational_kg * factor)
    assert many.embodied_kg == pytest.approx(one.embodied_kg * factor)


@pytest.mark.parametrize("count", [1, 3, 16])
def test_linear_in_count(count: int) -> None:
    base = fixed("1xL40S", 5.0)
    assert fixed(f"{count}xL40S", 5.0).energy_kwh == pytest.approx(base.energy_kwh * count)


@pytest.mark.parametrize("intensity", [0.0, 10.0, 850.5])
def test_linear_in_intensity(intensity: float) -> None:
    result = fixed("4xV100", 2.0, intensity_g_per_kwh=intensity)
    assert result.operational_kg == pytest.approx(result.energy_kwh * intensity / 1000)


@pytest.mark.parametrize("pue", [1.0, 1.1, 1.58, 2.5])
def test_pue_multiplies(pue: float) -> None:
    result = fixed("4xV100", 2.0, pue=pue)
    assert result.energy_kwh == pytest.approx(result.it_energy_kwh * pue)
    assert result.energy_high_kwh == pytest.approx(result.it_energy_high_kwh * pue)


# --- bad inputs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hours": 0}, "hours=0 must be > 0"),
        ({"hours": -3}, "hours"),
        ({"hours": math.nan}, "not finite"),
        ({"hours": "10"}, "not a number"),
        ({"hours": True}, "not a number"),
        ({"utilisation": 0}, r"utilisation=0 must be in \(0, 1\]"),
        ({"utilisation": 1.2}, "utilisation"),
        ({"power_per_device_w": -300}, "power_per_device_w"),
        ({"power_per_device_w": 0}, "power_per_device_w"),
        ({"pue": 0.9}, "below 1"),
        ({"intensity_g_per_kwh": -5}, "intensity_g_per_kwh"),
        ({"intensity_g_per_kwh": None, "region": "Atlantis"}, "unknown location 'Atlantis'"),
        ({"hardware": "8xWarpDrive"}, "unknown GPU"),
        ({"hardware": ""}, "names no device"),
        ({"hardware": [42]}, "accepted"),
        ({"servers": -1}, "servers"),
        ({"share": 0}, "share"),
        ({"lifetime_years": -4}, "lifetime_years"),
        ({"intensity_g_per_kwh": None, "year": 1850, "region": "FR"}, "1850"),
    ],
)
def test_bad_inputs(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "hardware": "8xA100-80GB",
        "hours": 72.0,
        "pue": 1.1,
        "intensity_g_per_kwh": 200.0,
    }
    args.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        estimate_footprint(**args)  # type: ignore[arg-type]
