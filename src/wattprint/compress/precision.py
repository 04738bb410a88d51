"""Half-precision casting: every floating-point parameter and buffer to float16 or bfloat16.

Halves the model's memory and, on hardware with fp16/bf16 units (GPU tensor cores, recent
CPUs with AVX512-BF16/AMX), its inference energy; elsewhere torch may run it slower than
float32. Whether ``device`` can run the dtype is checked by running a tiny Linear and
Conv2d there, not assumed. The caller must cast float inputs to :func:`input_dtype`.
"""

from __future__ import annotations

import copy
import functools
from collections import Counter
from itertools import chain

import torch
from torch import nn

from wattprint.compress.stats import (
    CompressionError,
    CompressionStep,
    count_params,
    is_quantized,
    make_step,
)
from wattprint.errors import ConfigError

__all__ = ["CAST_DTYPES", "cast_precision", "input_dtype", "runs_on"]

CAST_DTYPES: dict[str, torch.dtype] = {"fp16": torch.float16, "bf16": torch.bfloat16}


@functools.cache
def runs_on(device: torch.device, dtype: torch.dtype) -> str | None:
    """None when torch runs a Linear and a Conv2d in ``dtype`` on ``device``, else its error."""
    try:
        x = torch.ones(1, 2, 3, 3, dtype=dtype, device=device)
        y = nn.functional.conv2d(x, torch.ones(4, 2, 1, 1, dtype=dtype, device=device))
        nn.functional.linear(y.flatten(1), torch.ones(2, 36, dtype=dtype, device=device))
    except (RuntimeError, AssertionError) as exc:  # AssertionError: torch built without CUDA
        return str(exc).splitlines()[0]
    return None


def cast_precision(
    model: nn.Module, dtype: torch.dtype, *, device: torch.device | str = "cpu"
) -> tuple[nn.Module, CompressionStep]:
    """A copy of ``model`` on ``device`` with its floating-point tensors in ``dtype``."""
    names = {value: key for key, value in CAST_DTYPES.items()}
    if dtype not in names:
        raise ConfigError(
            f"cast dtype {dtype!r}: accepted: {', '.join(map(str, CAST_DTYPES.values()))}"
        )
    if is_quantized(model):
        raise CompressionError(
            f"{type(model).__name__} is int8-quantised and cannot be cast to {dtype}: "
            "cast the float model instead"
        )
    target = torch.device(device)
    problem = runs_on(target, dtype)
    if problem is not None:
        raise ConfigError(
            f"{dtype} does not run on {target} with torch {torch.__version__} ({problem}); "
            f"choose another dtype ({', '.join(CAST_DTYPES)}) or device"
        )
    before = count_params(model)
    tensors = Counter(
        str(t.dtype).removeprefix("torch.")
        for t in chain(model.parameters(), model.buffers())
        if t.is_floating_point() and t.dtype != dtype
    )
    cast = copy.deepcopy(model).to(device=target, dtype=dtype)
    details = [f"{n} {old} tensors -> {dtype} on {target}" for old, n in sorted(tensors.items())]
    return cast, make_step(f"cast:{names[dtype]}", before, cast, details)


def input_dtype(model: nn.Module) -> torch.dtype:
    """The dtype the model's floating-point inputs must have (float32 for int8 models).

    Integer inputs (token ids) stay as they are; a quantised model quantises float32
    inputs itself.
    """
    for tensor in chain(model.parameters(), model.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32
