"""GPU spec lookup: names, nvidia-smi aliases, short forms, ambiguity and suggestions."""

from __future__ import annotations

import pytest

from wattprint.errors import ConfigError
from wattprint.hardware.gpu import (
    AmbiguousGpuError,
    GpuSpec,
    UnknownGpuError,
    gpu_spec,
    gpu_specs,
    normalise_gpu_name,
)


def test_table_loads_every_row_with_sources() -> None:
    specs = gpu_specs()
    assert len(specs) == 175
    assert all(isinstance(s, GpuSpec) and s.source for s in specs)
    assert gpu_specs() is specs  # parsed once


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("NVIDIA A100-SXM4-80GB", "NVIDIA A100 SXM4 80 GB"),
        ("Tesla V100-SXM2-16GB", "NVIDIA Tesla V100 SXM2 16 GB"),
        ("H100 80GB HBM3", "NVIDIA H100 SXM5 80GB"),
        ("NVIDIA H100 80GB HBM3", "NVIDIA H100 SXM5 80GB"),
        ("NVIDIA A100 80GB PCIe", "NVIDIA A100 PCIe 80GB"),
        ("nvidia a100-pcie-40gb", "NVIDIA A100 PCIe 40GB"),
        ("Tesla T4", "NVIDIA Tesla T4"),
        ("TPUv4", "Google TPU v4"),
        ("NVIDIA H200", "NVIDIA H200 SXM"),
        ("  v100  ", "NVIDIA V100"),
        ("A10", "NVIDIA A10 PCIe"),
    ],
)
def test_names_and_aliases_match_exactly(name: str, expected: str) -> None:
    spec = gpu_spec(name)
    assert spec.name == expected
    assert "exact" in spec.match


@pytest.mark.parametrize(
    ("name", "expected", "tdp_w"),
    [
        ("A100-80GB", "NVIDIA A100 SXM4 80 GB", 400.0),
        ("a100 80gb", "NVIDIA A100 SXM4 80 GB", 400.0),
        ("A100_80GB", "NVIDIA A100 SXM4 80 GB", 400.0),
        ("H100", "NVIDIA H100 SXM5 80GB", 700.0),
        ("h100 pcie", "NVIDIA H100 PCIe", 350.0),
        ("RTX4090", "NVIDIA GeForce RTX 4090", 450.0),
        ("MI250", "AMD Instinct MI250", 560.0),
    ],
)
def test_short_user_forms(name: str, expected: str, tdp_w: float) -> None:
    spec = gpu_spec(name)
    assert (spec.name, spec.tdp_w) == (expected, tdp_w)


def test_sxm_choice_is_stated() -> None:
    spec = gpu_spec("H100")
    assert "no form factor" in spec.match and "SXM" in spec.match
    assert "NVIDIA H100 PCIe" in spec.match and "NVIDIA H100 NVL" in spec.match


def test_word_match_does_not_cross_words() -> None:
    # "H100" is not a word of "NVIDIA GH100": a contains match on words
    assert gpu_spec("H100").name != "NVIDIA GH100"
    assert gpu_spec("GH100").name == "NVIDIA GH100"


def test_generic_rows_win_as_exact_matches() -> None:
    # Epoch's generic rows are exact matches: "A100" and "V100" name them
    assert gpu_spec("A100").name == "NVIDIA A100"
    assert gpu_spec("V100").embodied_die_kgco2eq == pytest.approx(9.78)


@pytest.mark.parametrize(
    ("name", "candidates"),
    [
        ("V100 32GB", ["NVIDIA Tesla V100 SXM3 32 GB", "NVIDIA Tesla V100 SXM2 32 GB"]),
        ("TPU v5", ["Google TPU v5p", "Google TPU v5e"]),
        ("910B", ["Huawei Ascend 910B", "Huawei Ascend 910B Pro"]),
        ("A100 SXM4", ["NVIDIA A100 SXM4 40 GB", "NVIDIA A100 SXM4 80 GB"]),
        ("H10", ["NVIDIA H100 PCIe", "NVIDIA GH100"]),
    ],
)
def test_ambiguous_names_list_the_candidates(name: str, candidates: list[str]) -> None:
    with pytest.raises(AmbiguousGpuError, match="ambiguous") as info:
        gpu_spec(name)
    message = str(info.value)
    assert repr(name) in message
    for candidate in candidates:
        assert repr(candidate) in message


def test_long_ambiguity_lists_are_cut() -> None:
    with pytest.raises(AmbiguousGpuError, match=r"and \d+ more"):
        gpu_spec("RTX")


def test_unknown_names_suggest_close_matches() -> None:
    with pytest.raises(UnknownGpuError) as info:
        gpu_spec("A1OO")
    message = str(info.value)
    assert "unknown GPU 'A1OO'" in message and "close matches" in message
    assert "'NVIDIA A100'" in message
    assert message.count("'NVIDIA") <= 5 + 1  # five suggestions plus the example


def test_unknown_and_empty_are_config_errors() -> None:
    for name in ("", "   ", "quantum accelerator 9000"):
        with pytest.raises(ConfigError):
            gpu_spec(name)


def test_normalisation_ignores_case_and_punctuation() -> None:
    assert normalise_gpu_name("NVIDIA A100-SXM4-80GB") == normalise_gpu_name("a100 sxm4 80 gb")
    assert normalise_gpu_name("Tesla V100") == "v100"


def test_spec_fields() -> None:
    spec = gpu_spec("H100 SXM5 80GB")
    assert spec.vendor == "NVIDIA"
    assert spec.memory_gb == 80
    assert spec.fp16_bf16_tensor_tflops == pytest.approx(989.4)
    assert spec.fp8_tflops is None
    assert spec.release_year == 2022
    assert spec.embodied_die_kgco2eq == pytest.approx(14.652)
    assert "LLMCarbon" in spec.embodied_source
    assert spec.aliases == ("NVIDIA H100 80GB HBM3",)
    assert "Epoch AI" in spec.source and spec.source_url.startswith("https://")


def test_exact_ties_are_split_by_the_vendor_words() -> None:
    # Epoch lists the P100 PCIe 16GB twice, with and without "Tesla"
    assert gpu_spec("Tesla P100-PCIE-16GB").name == "NVIDIA Tesla P100 PCIe 16GB"
    assert gpu_spec("NVIDIA P100 PCIe 16GB").name == "NVIDIA P100 PCIe 16GB"
    with pytest.raises(AmbiguousGpuError):
        gpu_spec("P100 PCIe 16GB")


def test_every_alias_resolves_to_its_row() -> None:
    for spec in gpu_specs():
        for alias in spec.aliases:
            assert gpu_spec(alias).name == spec.name, alias


def test_every_row_name_resolves_to_itself() -> None:
    for spec in gpu_specs():
        assert gpu_spec(spec.name).name == spec.name
