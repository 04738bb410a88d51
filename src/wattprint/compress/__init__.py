"""Model compression: pruning, int8 quantisation, fp16/bf16 casting, low-rank factorisation.

Every technique takes a model and returns a transformed copy with a
:class:`CompressionStep` (what changed, parameters before/after); the input is never
modified. :func:`parse_techniques` reads specs such as ``"prune:0.5,lowrank:0.9,quant:int8"``
and :func:`apply_techniques` chains them. :func:`model_stats` sizes any model, quantised
ones included. See docs/compress.md.
"""

from wattprint.compress.lowrank import lowrank_factorize
from wattprint.compress.pipeline import (
    TechniqueSpec,
    apply_techniques,
    check_order,
    parse_techniques,
)
from wattprint.compress.precision import cast_precision, input_dtype
from wattprint.compress.prune import prune_structured, prune_unstructured
from wattprint.compress.quantize import quantize_dynamic_int8, quantize_static_int8
from wattprint.compress.stats import CompressionError, CompressionStep, ModelStats, model_stats

__all__ = [
    "CompressionError",
    "CompressionStep",
    "ModelStats",
    "TechniqueSpec",
    "apply_techniques",
    "cast_precision",
    "check_order",
    "input_dtype",
    "lowrank_factorize",
    "model_stats",
    "parse_techniques",
    "prune_structured",
    "prune_unstructured",
    "quantize_dynamic_int8",
    "quantize_static_int8",
]
