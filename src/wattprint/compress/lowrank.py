"""Low-rank factorisation of Linear and Conv2d layers by truncated SVD.

A weight W (out x in) becomes two layers, in -> r -> out, with W ~ U_r S_r V_r^T: the
first holds sqrt(S_r) V_r^T, the second U_r sqrt(S_r) and the original bias. A Conv2d
(out, in, kh, kw) is factorised as the matrix out x (in*kh*kw): a (kh, kw) convolution to
r channels with the original stride, padding and dilation, then a 1x1 convolution with
the bias. A layer is replaced only when r * (rows + columns) < rows * columns, so the
multiply-adds and parameters both drop. Grouped convolutions, tied weights and layers
whose weight an enclosing module reads directly (``nn.MultiheadAttention``,
``nn.TransformerEncoderLayer``) are skipped.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor, nn

from wattprint.compress.stats import (
    CompressionError,
    CompressionStep,
    count_params,
    fixed_layers,
    make_step,
    shared_parameter_ids,
)
from wattprint.errors import ConfigError

__all__ = ["check_rank", "lowrank_factorize"]


def check_rank(rank: object) -> int | float:
    """``rank`` if it is an int >= 1 (a fixed rank) or a float in (0, 1] (an energy ratio)."""
    if isinstance(rank, int) and not isinstance(rank, bool) and rank >= 1:
        return rank
    if isinstance(rank, float) and 0 < rank <= 1:
        return rank
    raise ConfigError(
        f"low-rank rank {rank!r} is neither an integer >= 1 (the rank itself) nor a float "
        "in (0, 1] (the share of the squared singular values to keep)"
    )


def choose_rank(singular_values: Tensor, rank: int | float, shape: tuple[int, int]) -> int:
    """The rank to keep: ``rank`` itself (at most full rank), or the fewest singular values
    holding the share ``rank`` of their squared sum.

    Singular values under the numerical-rank tolerance (``torch.linalg.matrix_rank``'s,
    ``max(shape) * eps * s_max``) count as zero, so a ratio of 1.0 keeps the numerical rank
    and reproduces the layer exactly. Returns 0 for an all-zero weight.
    """
    if isinstance(rank, int):
        return min(rank, singular_values.numel())
    eps = torch.finfo(singular_values.dtype).eps
    tolerance = max(shape) * eps * singular_values.max()
    energy = singular_values[singular_values > tolerance].double().square().cumsum(0)
    if energy.numel() == 0:
        return 0
    return int(torch.searchsorted(energy, rank * energy[-1])) + 1


def lowrank_factorize(model: nn.Module, rank: int | float) -> tuple[nn.Module, CompressionStep]:
    """A copy of ``model`` with each Linear/Conv2d replaced by two thinner layers where smaller.

    ``rank`` is an int (the same rank for every layer, capped at full rank) or a float in
    (0, 1]: per layer, the smallest rank keeping that share of the squared singular values.
    The step's ``skipped`` says why each other candidate layer was kept.
    """
    rank = check_rank(rank)
    before = count_params(model)
    factorized = copy.deepcopy(model)
    candidates = [
        (name, module)
        for name, module in factorized.named_modules()
        if isinstance(module, nn.Linear | nn.Conv2d)
    ]
    if not candidates:
        raise CompressionError(
            f"{type(model).__name__} has no Linear or Conv2d layer to factorise "
            "(an int8-quantised model cannot be: factorise before quantising)"
        )
    shared = shared_parameter_ids(factorized)
    fixed = fixed_layers(factorized)
    details: list[str] = []
    skipped: list[str] = []
    for name, layer in candidates:
        reason = fixed.get(name) or _unsplittable(layer, id(layer.weight) in shared)
        if reason is None:
            pair, line = _factorize(layer, rank)
            if pair is not None:
                factorized = _replace(factorized, name, pair)
                details.append(f"{name}: {line}")
                continue
            reason = line
        skipped.append(f"{name}: {reason}")
    return factorized, make_step(f"lowrank:{rank}", before, factorized, details, skipped)


def _unsplittable(layer: nn.Linear | nn.Conv2d, tied: bool) -> str | None:
    """Why ``layer`` must keep its form whatever its rank, or None."""
    if isinstance(layer, nn.Conv2d) and layer.groups > 1:
        return f"grouped convolution (groups={layer.groups})"
    if tied:
        return "weight shared with another layer (tied)"
    return None


def _factorize(layer: nn.Linear | nn.Conv2d, rank: int | float) -> tuple[nn.Module | None, str]:
    """(the two-layer replacement, what it is), or (None, why not) when it would not shrink."""
    matrix = layer.weight.detach().flatten(1)
    matrix = matrix.to(torch.promote_types(matrix.dtype, torch.float32))
    u, s, vh = torch.linalg.svd(matrix, full_matrices=False)
    rows, cols = matrix.shape
    r = choose_rank(s, rank, (rows, cols))
    if r == 0:
        return None, "all weights are zero"
    old, new = rows * cols, r * (rows + cols)
    if new >= old:
        return None, f"rank {r} of {min(rows, cols)} would not shrink it ({new} >= {old} weights)"
    root = s[:r].sqrt()
    pair = _two_layers(layer, r, root[:, None] * vh[:r], u[:, :r] * root)
    return pair, f"{type(layer).__name__} rank {r} of {min(rows, cols)}, {old} -> {new} weights"


def _two_layers(layer: nn.Linear | nn.Conv2d, r: int, first: Tensor, second: Tensor) -> nn.Module:
    """``layer`` as (in -> r without bias) then (r -> out with its bias), on its device/dtype."""
    device, dtype = layer.weight.device, layer.weight.dtype
    has_bias = layer.bias is not None
    down: nn.Linear | nn.Conv2d
    up: nn.Linear | nn.Conv2d
    if isinstance(layer, nn.Linear):
        down = nn.Linear(layer.in_features, r, bias=False, device=device, dtype=dtype)
        up = nn.Linear(r, layer.out_features, bias=has_bias, device=device, dtype=dtype)
    else:
        geometry: dict[str, Any] = {  # Conv2d types these as 2-tuples, the layer as tuples
            "kernel_size": layer.kernel_size,
            "stride": layer.stride,
            "padding": layer.padding,
            "dilation": layer.dilation,
            "padding_mode": layer.padding_mode,
        }
        down = nn.Conv2d(layer.in_channels, r, bias=False, device=device, dtype=dtype, **geometry)
        up = nn.Conv2d(r, layer.out_channels, 1, bias=has_bias, device=device, dtype=dtype)
    with torch.no_grad():
        down.weight.copy_(first.reshape(down.weight.shape))
        up.weight.copy_(second.reshape(up.weight.shape))
        if layer.bias is not None and up.bias is not None:
            up.bias.copy_(layer.bias)
    return nn.Sequential(down, up)


def _replace(root: nn.Module, name: str, module: nn.Module) -> nn.Module:
    """``root`` with its submodule ``name`` set to ``module`` (``module`` if name is root)."""
    if not name:
        return module
    root.set_submodule(name, module)
    return root
