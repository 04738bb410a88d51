"""Embodied emissions: factors from embodied.csv, amortisation arithmetic, ranges."""

from __future__ import annotations

import dataclasses
import json

import pytest

from wattprint.carbon.embodied import (
    SECONDS_PER_YEAR,
    EmbodiedPart,
    embodied_emissions,
    embodied_factor,
    embodied_factors,
)
from wattprint.errors import ConfigError

YEAR = SECONDS_PER_YEAR


def test_factors_load_with_sources() -> None:
    factors = embodied_factors()
    assert len(factors) == 37
    assert factors["teads_gpu_unit"].value == 150
    assert factors["teads_base_rack_server"].value == 1000
    assert factors["teads_dram_per_gb"].value == pytest.approx(1.388)
    assert factors["teads_cpu_unit"].value == 100
    assert factors["teads_rack_server_lifespan"].value == 4
    assert "AGPL" in factors["boavizta_cpu_die"].license
    with pytest.raises(KeyError, match=r"embodied\.csv"):
        embodied_factor("nope")


def test_one_year_of_a_four_year_server() -> None:
    result = embodied_emissions([EmbodiedPart("server", 1)], YEAR)
    assert result.kg == pytest.approx(250.0)
    assert result.lifetime_years == 4 and "teads_rack_server_lifespan" in result.lifetime_source
    assert result.fraction_of_lifetime == pytest.approx(0.25)


def test_amortisation_by_duration_lifetime_and_share() -> None:
    # 8 GPU cards x 150 kg = 1200 kg, 72 h of a 5-year life, half the machine
    hours = 72
    result = embodied_emissions([EmbodiedPart("gpu", 8)], hours * 3600, lifetime_years=5, share=0.5)
    expected = 1200 * (hours * 3600) / (5 * YEAR) * 0.5
    assert result.kg == pytest.approx(expected)
    assert result.items[0].manufacturing_kg == 1200
    assert result.lifetime_source == "given by the user" and result.share == 0.5


def test_gpu_range_uses_the_llmcarbon_die_figure_as_low_bound() -> None:
    part = EmbodiedPart("gpu", 2, "H100", die_kgco2eq=14.652, die_source="LLMCarbon")
    item = embodied_emissions([part], YEAR).items[0]
    assert (item.low_kg_per_unit, item.kg_per_unit, item.high_kg_per_unit) == (14.652, 150, 150)
    assert item.low_kg == pytest.approx(2 * 14.652 / 4)
    no_die = embodied_emissions([EmbodiedPart("gpu", 1)], YEAR)
    assert no_die.low_kg == no_die.kg == no_die.high_kg
    assert any("no per-model GPU board LCA" in n for n in no_die.notes)


def test_cpu_ram_and_server_ranges() -> None:
    parts = [
        EmbodiedPart("cpu", 1),
        EmbodiedPart("ram", 384),
        EmbodiedPart("server", 1),
    ]
    cpu, ram, server = embodied_emissions(parts, 4 * YEAR).items
    assert (cpu.low_kg, cpu.kg, cpu.high_kg) == pytest.approx((1.47, 100, 100))
    assert ram.kg == pytest.approx(1.388 * 384) and ram.low_kg == pytest.approx(0.4 * 384)
    assert ram.unit == "GB"
    assert (server.low_kg, server.kg, server.high_kg) == pytest.approx((148.2, 1000, 1000))
    # ADEME's whole server overlaps CPU and memory: shown, never added to the range
    assert server.comparison and "3660" in server.comparison[0]
    assert server.high_kg < 3660


def test_boavizta_cpu_factor_when_the_die_area_is_known() -> None:
    item = embodied_emissions([EmbodiedPart("cpu", 1, die_area_mm2=1000)], 4 * YEAR).items[0]
    boavizta = 0.0197 * 1000 + 9.14
    assert item.low_kg == pytest.approx(1.47)
    assert any("Boavizta" in line for line in item.alternatives)
    assert item.high_kg == pytest.approx(max(100, boavizta))


def test_totals_sum_parts_and_never_mix_one_part_s_sources() -> None:
    parts = [EmbodiedPart("server", 1), EmbodiedPart("gpu", 8), EmbodiedPart("ram", 512)]
    result = embodied_emissions(parts, YEAR)
    assert result.kg == pytest.approx(sum(i.kg for i in result.items))
    assert result.kg == pytest.approx((1000 + 8 * 150 + 512 * 1.388) / 4)
    assert result.low_kg <= result.kg <= result.high_kg


def test_jobs_longer_than_the_lifetime_are_charged_once() -> None:
    result = embodied_emissions([EmbodiedPart("server", 1)], 10 * YEAR)
    assert result.kg == pytest.approx(1000)
    assert any("outlasts" in n for n in result.notes)


def test_json_able() -> None:
    result = embodied_emissions([EmbodiedPart("gpu", 1, "T4")], 3600)
    assert json.loads(json.dumps(dataclasses.asdict(result)))["items"][0]["name"] == "T4"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration_s": -1}, "duration_s"),
        ({"share": 0}, "share"),
        ({"share": 1.5}, "share"),
        ({"lifetime_years": 0}, "lifetime_years"),
        ({"parts": [EmbodiedPart("gpu", -1)]}, "quantity"),
        ({"parts": [EmbodiedPart("tpu", 1)]}, "accepted"),  # type: ignore[arg-type]
        ({"parts": [EmbodiedPart("gpu", 1, die_kgco2eq=0)]}, "die_kgco2eq"),
    ],
)
def test_bad_inputs(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"parts": [EmbodiedPart("gpu", 1)], "duration_s": 3600.0}
    args.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        embodied_emissions(**args)  # type: ignore[arg-type]
