"""Magnitude pruning of Linear and Conv layers with ``torch.nn.utils.prune``, made permanent.

Unstructured pruning zeros the individual weights of smallest magnitude (L1), per layer or
over all layers at once; structured pruning zeros whole output channels (rows of a Linear)
of smallest L2 norm. Zeros only save energy on kernels that skip them (sparse formats,
or channels physically removed afterwards); the dense model is as large as before.
Biases are never pruned. The pruning is applied with ``prune.remove``, so the result holds
plain ``weight`` parameters: no ``weight_orig``, no ``weight_mask``, no forward hooks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Literal

from torch import Tensor, nn
from torch.nn.utils import prune

from wattprint.compress.stats import (
    CompressionError,
    CompressionStep,
    count_params,
    make_step,
    shared_parameter_ids,
)
from wattprint.errors import ConfigError

__all__ = ["PRUNABLE", "check_amount", "prune_structured", "prune_unstructured"]

PRUNABLE: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
Scope = Literal["layer", "global"]
_SCOPE_SPECS: dict[str, str] = {"layer": "prune", "global": "prune-global"}


def check_amount(amount: object) -> float:
    """``amount`` as a float if it is a share of weights in (0, 1); ConfigError otherwise."""
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not 0 < amount < 1:
        raise ConfigError(
            f"pruning amount {amount!r} is not a number in (0, 1): "
            "it is the share of weights set to zero"
        )
    return float(amount)


def _layers(model: nn.Module) -> tuple[list[tuple[str, nn.Module]], list[str]]:
    """The prunable layers of ``model`` and "name: why" for those that must be left alone."""
    shared = shared_parameter_ids(model)
    layers: list[tuple[str, nn.Module]] = []
    skipped: list[str] = []
    for name, module in model.named_modules():
        if not isinstance(module, PRUNABLE):
            continue
        if id(module.weight) in shared:
            # prune.remove would give this module its own copy and untie the weight.
            skipped.append(f"{name}: weight shared with another layer (tied)")
        else:
            layers.append((name, module))
    if not layers:
        raise CompressionError(
            f"{type(model).__name__} has no Linear or Conv1d/2d/3d layer with its own weight "
            "to prune (an int8-quantised model cannot be pruned: prune before quantising)"
        )
    return layers, skipped


def prune_unstructured(
    model: nn.Module, amount: float, *, scope: Scope = "layer"
) -> tuple[nn.Module, CompressionStep]:
    """A copy of ``model`` whose Linear/Conv weights of smallest magnitude are zero.

    ``scope="layer"`` zeros ``round(amount * n)`` weights of every layer
    (``l1_unstructured``); ``scope="global"`` ranks all those weights together
    (``global_unstructured``), so layers end up unevenly sparse.
    """
    amount = check_amount(amount)
    if scope not in _SCOPE_SPECS:
        raise ConfigError(f"pruning scope {scope!r}: accepted: {', '.join(_SCOPE_SPECS)}")

    def apply(modules: list[nn.Module]) -> None:
        if scope == "global":
            prune.global_unstructured(
                [(module, "weight") for module in modules],
                pruning_method=prune.L1Unstructured,
                amount=amount,
            )
        else:
            for module in modules:
                prune.l1_unstructured(module, "weight", amount=amount)  # type: ignore[no-untyped-call]

    return _prune(model, f"{_SCOPE_SPECS[scope]}:{amount}", apply, _zero_weights)


def prune_structured(model: nn.Module, amount: float) -> tuple[nn.Module, CompressionStep]:
    """A copy of ``model`` where the share ``amount`` of each layer's output channels is zero.

    ``ln_structured`` (L2 norm, ``dim=0``): whole rows of a Linear weight, whole filters of
    a Conv; their bias is kept, so a zeroed channel outputs its bias.
    """
    amount = check_amount(amount)

    def apply(modules: list[nn.Module]) -> None:
        for module in modules:
            prune.ln_structured(module, "weight", amount=amount, n=2, dim=0)  # type: ignore[no-untyped-call]

    return _prune(model, f"prune-structured:{amount}", apply, _zero_channels)


def _prune(
    model: nn.Module,
    technique: str,
    apply: Callable[[list[nn.Module]], None],
    describe: Callable[[Tensor], str],
) -> tuple[nn.Module, CompressionStep]:
    """Copy, prune the copy's layers with ``apply``, make it permanent, record the step."""
    before = count_params(model)
    pruned = copy.deepcopy(model)
    layers, skipped = _layers(pruned)
    apply([module for _, module in layers])
    details = []
    for name, module in layers:
        prune.remove(module, "weight")  # type: ignore[no-untyped-call]
        details.append(f"{name}: {describe(module.get_parameter('weight'))}")
    return pruned, make_step(technique, before, pruned, details, skipped)


def _zero_weights(weight: Tensor) -> str:
    return f"{int((weight == 0).sum())}/{weight.numel()} weights zero"


def _zero_channels(weight: Tensor) -> str:
    rows = weight.flatten(1)
    return f"{int((rows == 0).all(dim=1).sum())}/{rows.shape[0]} output channels zero"
