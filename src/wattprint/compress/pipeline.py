"""Technique specs, their order rules, and chaining.

A chain (one compressed variant) joins techniques with ``+``:
``"prune:0.5+lowrank:0.9+quant:int8"``; a comma separates variants, each compared with the
original model: ``"prune:0.5,quant:int8"`` is two variants. Int8 quantisation comes last:
nothing can be pruned, factorised or cast once the weights are packed int8; and it needs
float32 weights, so it is not combined with a cast.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from wattprint.compress.lowrank import check_rank, lowrank_factorize
from wattprint.compress.precision import CAST_DTYPES, cast_precision
from wattprint.compress.prune import check_amount, prune_structured, prune_unstructured
from wattprint.compress.quantize import (
    Batch,
    calibration_batches,
    quantize_dynamic_int8,
    quantize_static_int8,
)
from wattprint.compress.stats import CompressionStep
from wattprint.errors import ConfigError

__all__ = [
    "ACCEPTED",
    "PRUNING",
    "TechniqueSpec",
    "apply_techniques",
    "chain_text",
    "check_order",
    "parse_techniques",
    "parse_variants",
]

ACCEPTED = (
    "prune:AMOUNT, prune-global:AMOUNT, prune-structured:AMOUNT (AMOUNT a float in (0, 1)), "
    "quant:int8, quant:int8-static, cast:fp16, cast:bf16, "
    "lowrank:RATIO (a float in (0, 1], e.g. 0.9 or 1.0) or lowrank:RANK (an integer >= 1); "
    "the techniques of one variant joined by '+' (prune:0.5+quant:int8), variants by ','"
)
PRUNING = ("prune", "prune-global", "prune-structured")  # the pruning technique names
_QUANT = ("int8", "int8-static")


def _bad(technique: str, why: str) -> ConfigError:
    return ConfigError(f"bad compression technique {technique!r}: {why}; accepted: {ACCEPTED}")


def _problem(name: str, value: object) -> str | None:
    """Why ``name:value`` is not a valid technique, or None."""
    if name in PRUNING or name == "lowrank":
        try:
            (check_amount if name in PRUNING else check_rank)(value)
        except ConfigError as exc:
            return str(exc)
        return None
    if name == "quant":
        return None if value in _QUANT else f"unknown quantisation {value!r}"
    if name == "cast":
        return None if value in CAST_DTYPES else f"unknown cast dtype {value!r}"
    return f"unknown technique {name!r}"


@dataclass(frozen=True)
class TechniqueSpec:
    """One technique and its argument; ``str(spec)`` is its spec form, ``prune:0.5``."""

    name: str
    value: float | int | str

    def __post_init__(self) -> None:
        why = _problem(self.name, self.value)
        if why is not None:
            raise _bad(str(self), why)

    def __str__(self) -> str:
        return f"{self.name}:{self.value}"


def _parse_one(item: str) -> TechniqueSpec:
    name, colon, text = (part.strip() for part in item.partition(":"))
    if not colon or not name or not text:
        raise _bad(item, "expected NAME:VALUE")
    value: float | int | str = text
    if name == "lowrank" and text.isdecimal():
        value = int(text)
    elif name in PRUNING or name == "lowrank":
        try:
            value = float(text)
        except ValueError:
            raise _bad(item, f"{text!r} is not a number") from None
    why = _problem(name, value)
    if why is not None:
        raise _bad(item, why)
    return TechniqueSpec(name, value)


def parse_techniques(text: str) -> tuple[TechniqueSpec, ...]:
    """One chain of technique specs joined by ``+``, checked one by one and for their order.

    ``lowrank:1`` is rank 1 and ``lowrank:1.0`` the full energy ratio: a value with a dot
    (or an exponent) is a ratio. A comma is refused here: it separates variants
    (:func:`parse_variants`).
    """
    if "," in text:
        raise _bad(text, "a chain joins techniques with '+'; commas separate variants")
    items = [item.strip() for item in text.split("+")]
    if not all(items):
        raise _bad(text, "no technique given" if not any(items) else "empty item between '+'")
    specs = tuple(_parse_one(item) for item in items)
    check_order(specs)
    return specs


def parse_variants(text: str) -> tuple[tuple[TechniqueSpec, ...], ...]:
    """Comma-separated variants, each a chain for :func:`parse_techniques`, each given once.

    ``"prune:0.5,quant:int8,prune:0.5+quant:int8"`` is three variants; each is compared
    with the original model, not with the variant before it.
    """
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise _bad(text, "no variant given" if not any(items) else "empty variant between commas")
    variants = tuple(parse_techniques(item) for item in items)
    seen: set[str] = set()
    for chain in variants:
        name = chain_text(chain)
        if name in seen:
            raise _bad(text, f"variant {name!r} given twice")
        seen.add(name)
    return variants


def chain_text(specs: Sequence[TechniqueSpec]) -> str:
    """The spec form of a chain, ``prune:0.5+quant:int8``: a variant's name."""
    return "+".join(map(str, specs))


def check_order(specs: Sequence[TechniqueSpec]) -> None:
    """ConfigError unless int8 quantisation, if any, is alone, last and without a cast."""
    names = [spec.name for spec in specs]
    joined = chain_text(specs)
    if "quant" in names[:-1]:
        raise ConfigError(
            f"technique order {joined!r}: quant must come last, once (nothing can be pruned, "
            "factorised, cast or quantised again after int8 quantisation)"
        )
    if "quant" in names and "cast" in names:
        raise ConfigError(
            f"technique order {joined!r}: int8 quantisation needs float32 weights; "
            "use either cast or quant"
        )


def apply_techniques(
    model: nn.Module,
    specs: Sequence[TechniqueSpec],
    *,
    example_batches: Iterable[Batch] | None = None,
    device: torch.device | str = "cpu",
    backend: str | None = None,
) -> tuple[nn.Module, list[CompressionStep]]:
    """``model`` transformed by each spec in turn (``model`` itself is left unchanged).

    ``example_batches`` calibrate ``quant:int8-static`` (with ``backend``); ``device`` is
    where a ``cast`` puts the model, after checking that the dtype runs there.
    """
    check_order(specs)
    batches = (
        calibration_batches(example_batches)
        if any(spec.value == "int8-static" for spec in specs)
        else []
    )
    steps: list[CompressionStep] = []
    for spec in specs:
        value = spec.value
        if spec.name == "prune":
            model, step = prune_unstructured(model, float(value))
        elif spec.name == "prune-global":
            model, step = prune_unstructured(model, float(value), scope="global")
        elif spec.name == "prune-structured":
            model, step = prune_structured(model, float(value))
        elif spec.name == "lowrank":
            model, step = lowrank_factorize(
                model, value if isinstance(value, int) else float(value)
            )
        elif spec.name == "cast":
            model, step = cast_precision(model, CAST_DTYPES[str(value)], device=device)
        elif value == "int8":
            model, step = quantize_dynamic_int8(model)
        else:
            model, step = quantize_static_int8(model, batches, backend=backend)
        steps.append(step)
    return model, steps
