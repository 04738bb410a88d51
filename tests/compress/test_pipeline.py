import re

import pytest
import torch
from torch import nn

from tests.compress import (
    EXACT_TOLERANCE,
    INT8_TOLERANCE,
    cnn,
    images,
    mlp,
    relative_error,
    state_copy,
    unchanged,
)
from wattprint.compress import (
    TechniqueSpec,
    apply_techniques,
    chain_text,
    model_stats,
    parse_techniques,
    parse_variants,
    prune_structured,
)
from wattprint.errors import ConfigError


def test_every_accepted_form_parses_to_a_typed_spec_that_prints_back() -> None:
    text = (
        "prune:0.5+ prune-global:0.25+prune-structured:0.1+lowrank:0.9+lowrank:1.0+"
        "lowrank:1+lowrank:16+cast:bf16+cast:fp16"
    )
    specs = parse_techniques(text)
    assert [(s.name, s.value) for s in specs] == [
        ("prune", 0.5),
        ("prune-global", 0.25),
        ("prune-structured", 0.1),
        ("lowrank", 0.9),
        ("lowrank", 1.0),
        ("lowrank", 1),
        ("lowrank", 16),
        ("cast", "bf16"),
        ("cast", "fp16"),
    ]
    assert isinstance(specs[4].value, float) and isinstance(specs[5].value, int)
    assert chain_text(specs) == text.replace(" ", "")
    assert parse_techniques("quant:int8") == (TechniqueSpec("quant", "int8"),)
    assert parse_techniques("quant:int8-static")[0].value == "int8-static"


@pytest.mark.parametrize(
    ("text", "named", "why"),
    [
        ("", "", "no technique given"),
        ("prune:0.5++quant:int8", "prune:0.5++quant:int8", "empty item between '+'"),
        ("prune:0.5,quant:int8", "prune:0.5,quant:int8", "a chain joins techniques with '+'"),
        ("prune", "prune", "expected NAME:VALUE"),
        ("prune:+quant:int8", "prune:", "expected NAME:VALUE"),
        ("prune:half", "prune:half", "'half' is not a number"),
        ("prune:1.5", "prune:1.5", "pruning amount 1.5 is not a number in (0, 1)"),
        ("prune-structured:0", "prune-structured:0", "pruning amount 0.0 is not a number"),
        ("lowrank:0", "lowrank:0", "low-rank rank 0 is neither"),
        ("lowrank:0.9+lowrank:1.5", "lowrank:1.5", "low-rank rank 1.5 is neither"),
        ("lowrank:nan", "lowrank:nan", "low-rank rank nan is neither"),
        ("quant:int4", "quant:int4", "unknown quantisation 'int4'"),
        ("cast:fp8", "cast:fp8", "unknown cast dtype 'fp8'"),
        ("distil:0.5", "distil:0.5", "unknown technique 'distil'"),
    ],
)
def test_bad_spec_is_one_error_naming_it_and_listing_the_accepted(
    text: str, named: str, why: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_techniques(text)
    message = str(caught.value)
    assert message.startswith(f"bad compression technique {named!r}: {why}")
    assert message.endswith(
        "accepted: prune:AMOUNT, prune-global:AMOUNT, prune-structured:AMOUNT (AMOUNT a float "
        "in (0, 1)), quant:int8, quant:int8-static, cast:fp16, cast:bf16, lowrank:RATIO (a "
        "float in (0, 1], e.g. 0.9 or 1.0) or lowrank:RANK (an integer >= 1); the techniques "
        "of one variant joined by '+' (prune:0.5+quant:int8), variants by ','"
    )


def test_variants_are_chains_separated_by_commas_each_checked() -> None:
    variants = parse_variants(" prune:0.5 , quant:int8,lowrank:0.9+quant:int8")
    assert [chain_text(v) for v in variants] == [
        "prune:0.5",
        "quant:int8",
        "lowrank:0.9+quant:int8",
    ]
    assert variants[2] == (TechniqueSpec("lowrank", 0.9), TechniqueSpec("quant", "int8"))
    assert parse_variants("cast:bf16") == ((TechniqueSpec("cast", "bf16"),),)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "'': no variant given"),
        ("prune:0.5,,quant:int8", "'prune:0.5,,quant:int8': empty variant between commas"),
        ("prune:0.5,quant:int8+prune:0.5", "'quant:int8+prune:0.5': quant must come last"),
        ("prune:0.5,prune:0.50", "'prune:0.5,prune:0.50': variant 'prune:0.5' given twice"),
        ("prune:0.5,prune:2", "'prune:2': pruning amount 2.0 is not a number in (0, 1)"),
    ],
)
def test_a_bad_variant_is_one_error_naming_it(text: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_variants(text)
    assert why in str(caught.value)


def test_specs_built_directly_are_checked_too() -> None:
    with pytest.raises(ConfigError, match=r"'lowrank:-3': low-rank rank -3 is neither"):
        TechniqueSpec("lowrank", -3)
    with pytest.raises(ConfigError, match=r"'prune:0.5': pruning amount '0.5' is not a number"):
        TechniqueSpec("prune", "0.5")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("quant:int8+prune:0.5", "quant must come last, once"),
        ("quant:int8+quant:int8-static", "quant must come last, once"),
        ("cast:fp16+quant:int8", "int8 quantisation needs float32 weights"),
    ],
)
def test_quantisation_must_be_last_and_alone(text: str, why: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"technique order '{text}': {why}")):
        parse_techniques(text)


def test_apply_checks_the_order_of_specs_built_directly() -> None:
    specs = [TechniqueSpec("quant", "int8"), TechniqueSpec("lowrank", 4)]
    with pytest.raises(ConfigError, match=r"'quant:int8\+lowrank:4': quant must come last"):
        apply_techniques(mlp(), specs)


def test_prune_then_lowrank_then_dynamic_int8_chain() -> None:
    model = mlp()
    saved = state_copy(model)
    specs = parse_techniques("prune:0.5+lowrank:8+quant:int8")
    final, steps = apply_techniques(model, specs)
    assert unchanged(model, saved)
    assert [s.technique for s in steps] == [str(s) for s in specs]
    prune_step, lowrank_step, quant_step = steps
    assert prune_step.nonzero_after < 0.6 * prune_step.nonzero_before
    assert lowrank_step.params_after < lowrank_step.params_before
    assert quant_step.params_before == quant_step.params_after == lowrank_step.params_after
    stats = model_stats(final)
    assert stats.params == lowrank_step.params_after
    assert stats.dtypes["qint8"] == 8 * (32 + 64) + 8 * (64 + 64) + 8 * (64 + 10)
    assert final(torch.randn(4, 32)).shape == (4, 10)


def test_structured_pruning_then_exact_lowrank_then_static_int8_on_the_cnn() -> None:
    # Zeroing 3/4 of the output channels leaves rank <= 8 of 32, so lowrank:1.0 is exact.
    model = cnn()
    specs = parse_techniques("prune-structured:0.75+lowrank:1.0+quant:int8-static")
    calibration = [images(8, seed) for seed in range(2, 6)]
    final, steps = apply_techniques(model, specs, example_batches=calibration)
    assert "conv2: Conv2d rank 8 of 32, 4608 -> 1408 weights" in steps[1].details
    pruned, _ = prune_structured(model, 0.75)
    factorized, _ = apply_techniques(model, specs[:2])
    x = images()
    assert relative_error(factorized(x), pruned(x)) < EXACT_TOLERANCE
    assert relative_error(final(x), pruned(x)) < INT8_TOLERANCE
    assert model_stats(final).dtypes["qint8"] > 0


def test_casting_chain_and_missing_calibration_batches() -> None:
    final, steps = apply_techniques(mlp(), parse_techniques("prune:0.2+cast:bf16"))
    assert {p.dtype for p in final.parameters()} == {torch.bfloat16}
    assert steps[1].technique == "cast:bf16"
    with pytest.raises(ConfigError, match=r"quant:int8-static\) needs example_batches"):
        apply_techniques(nn.Sequential(nn.Linear(4, 4)), parse_techniques("quant:int8-static"))
