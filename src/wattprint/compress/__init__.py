"""Model compression: pruning, int8 quantisation, fp16/bf16 casting, low-rank factorisation.

Every technique takes a model and returns a transformed copy with a
:class:`CompressionStep` (what changed, parameters before/after); the input is never
modified. :func:`parse_techniques` reads one chain (a variant) such as
``"prune:0.5+lowrank:0.9+quant:int8"``, :func:`parse_variants` several chains separated
by commas, and :func:`apply_techniques` applies a chain. :func:`model_stats` sizes any
model, quantised ones included. :func:`compare` measures the variants against the
original and :func:`load_comparison` reads them back. See docs/compress.md.

Imports lazily: ``wattprint.compress.results`` (reading stored comparisons) needs no
PyTorch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "Comparison",
    "CompressionError",
    "CompressionStep",
    "ModelStats",
    "TechniqueSpec",
    "VariantResult",
    "apply_techniques",
    "cast_precision",
    "chain_text",
    "check_order",
    "compare",
    "input_dtype",
    "list_comparisons",
    "load_checkpoint",
    "load_comparison",
    "lowrank_factorize",
    "model_stats",
    "parse_techniques",
    "parse_variants",
    "prune_structured",
    "prune_unstructured",
    "quantize_dynamic_int8",
    "quantize_static_int8",
]

if TYPE_CHECKING:
    from wattprint.compress.lab import compare, load_checkpoint
    from wattprint.compress.lowrank import lowrank_factorize
    from wattprint.compress.pipeline import (
        TechniqueSpec,
        apply_techniques,
        chain_text,
        check_order,
        parse_techniques,
        parse_variants,
    )
    from wattprint.compress.precision import cast_precision, input_dtype
    from wattprint.compress.prune import prune_structured, prune_unstructured
    from wattprint.compress.quantize import quantize_dynamic_int8, quantize_static_int8
    from wattprint.compress.results import (
        Comparison,
        VariantResult,
        list_comparisons,
        load_comparison,
    )
    from wattprint.compress.stats import (
        CompressionError,
        CompressionStep,
        ModelStats,
        model_stats,
    )

_LAZY = {
    **dict.fromkeys(("compare", "load_checkpoint"), "wattprint.compress.lab"),
    "lowrank_factorize": "wattprint.compress.lowrank",
    **dict.fromkeys(
        (
            "TechniqueSpec",
            "apply_techniques",
            "chain_text",
            "check_order",
            "parse_techniques",
            "parse_variants",
        ),
        "wattprint.compress.pipeline",
    ),
    **dict.fromkeys(("cast_precision", "input_dtype"), "wattprint.compress.precision"),
    **dict.fromkeys(("prune_structured", "prune_unstructured"), "wattprint.compress.prune"),
    **dict.fromkeys(
        ("quantize_dynamic_int8", "quantize_static_int8"), "wattprint.compress.quantize"
    ),
    **dict.fromkeys(
        ("Comparison", "VariantResult", "list_comparisons", "load_comparison"),
        "wattprint.compress.results",
    ),
    **dict.fromkeys(
        ("CompressionError", "CompressionStep", "ModelStats", "model_stats"),
        "wattprint.compress.stats",
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wattprint.compress' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
