"""How big a model is, counted the same way before and after any compression technique.

Quantised modules keep their weights packed (``_packed_params``, torchbind objects), out of
``model.parameters()``; :func:`weight_tensors` reads them from the state dict, so an int8
``Linear(100, 50)`` still counts its 5,050 parameters. Also here, shared by all the
techniques: :class:`CompressionStep`, the before/after record each returns;
:class:`CompressionError`; and which layers must not be replaced (tied, read directly).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from wattprint.errors import WattprintError

__all__ = [
    "CompressionError",
    "CompressionStep",
    "ModelStats",
    "count_params",
    "fixed_layers",
    "is_quantized",
    "make_step",
    "model_stats",
    "shared_parameter_ids",
    "weight_tensors",
]

# State-dict entries of quantised modules that describe the encoding, not a weight.
_QUANT_METADATA = frozenset({"scale", "zero_point", "dtype"})
# Modules whose forward reads their sublayers' weights directly instead of calling them
# (MultiheadAttention's out_proj; TransformerEncoderLayer's inference fast path).
_WEIGHT_READERS: tuple[type[nn.Module], ...] = (nn.MultiheadAttention, nn.TransformerEncoderLayer)


class CompressionError(WattprintError):
    """A model cannot be transformed by a technique; the message says which model and why."""


@dataclass(frozen=True)
class ModelStats:
    """Size of a model: parameters (packed ones included), non-zeros, bytes saved, dtypes."""

    params: int
    nonzero_params: int
    size_bytes: int
    dtypes: dict[str, int] = field(default_factory=dict)  # dtype name -> parameters

    @property
    def sparsity(self) -> float:
        """Share of the parameters that are exactly zero."""
        return 1.0 - self.nonzero_params / self.params if self.params else 0.0


@dataclass(frozen=True)
class CompressionStep:
    """What one technique did: its spec (``prune:0.5``), counts before/after, per layer notes."""

    technique: str
    params_before: int
    params_after: int
    nonzero_before: int
    nonzero_after: int
    details: tuple[str, ...] = ()  # one line per layer changed
    skipped: tuple[str, ...] = ()  # "layer: why" for each candidate layer left alone


def _unpack(value: object) -> Iterator[Tensor]:
    """Tensors held in one state-dict value: a tensor, a packed tuple, a torchbind object."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _unpack(item)
    elif isinstance(value, torch.ScriptObject):
        # A dynamically quantised RNN cell: ("quantized_dynamic", biases, ..., packed linears).
        yield from _unpack(value.__getstate__())


def weight_tensors(model: nn.Module) -> list[Tensor]:
    """Every parameter of ``model``, including weights/biases packed by quantised modules.

    Buffers (batch-norm statistics, observers) and the scale/zero-point of quantised
    modules are not parameters. A tensor stored twice (tied weights; an RNN cell's biases,
    which torch keeps both beside and inside its packed linears) counts once.
    """
    buffers = {name for name, _ in model.named_buffers()}
    seen: set[int] = set()
    found: list[Tensor] = []
    for key, value in model.state_dict(keep_vars=True).items():
        if key in buffers or key.rsplit(".", 1)[-1] in _QUANT_METADATA:
            continue
        for tensor in _unpack(value):
            if id(tensor) not in seen:
                seen.add(id(tensor))
                found.append(tensor)
    return found


def _nonzero(tensor: Tensor) -> int:
    values = tensor.dequantize() if tensor.is_quantized else tensor
    return int(torch.count_nonzero(values.detach()))


def _totals(weights: list[Tensor]) -> tuple[int, int]:
    return sum(t.numel() for t in weights), sum(_nonzero(t) for t in weights)


def count_params(model: nn.Module) -> tuple[int, int]:
    """(parameters, non-zero parameters) of ``model``, packed quantised weights included."""
    return _totals(weight_tensors(model))


def model_stats(model: nn.Module) -> ModelStats:
    """Parameters, non-zero parameters, ``torch.save(state_dict)`` bytes and dtype histogram."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    weights = weight_tensors(model)
    dtypes: Counter[str] = Counter()
    for tensor in weights:
        dtypes[str(tensor.dtype).removeprefix("torch.")] += tensor.numel()
    params, nonzero = _totals(weights)
    return ModelStats(
        params=params,
        nonzero_params=nonzero,
        size_bytes=buffer.getbuffer().nbytes,
        dtypes=dict(dtypes),
    )


def is_quantized(model: nn.Module) -> bool:
    """Whether any weight of ``model`` is a quantised (int8) tensor."""
    return any(t.is_quantized for t in weight_tensors(model))


def shared_parameter_ids(model: nn.Module) -> set[int]:
    """``id`` of every parameter used by more than one module (tied weights)."""
    uses = Counter(id(p) for _, p in model.named_parameters(remove_duplicate=False))
    return {key for key, n in uses.items() if n > 1}


def fixed_layers(model: nn.Module) -> dict[str, str]:
    """Sublayers that must keep their type, by name, with why (their weight is read directly).

    Replacing one (by two low-rank layers, by a packed int8 layer) breaks the module that
    reads ``layer.weight`` instead of calling the layer.
    """
    fixed: dict[str, str] = {}
    for outer, module in model.named_modules():
        if isinstance(module, _WEIGHT_READERS):
            why = f"inside {type(module).__name__}, which reads its weight directly"
            for inner, _ in module.named_modules():
                if inner:
                    fixed.setdefault(f"{outer}.{inner}" if outer else inner, why)
    return fixed


def make_step(
    technique: str,
    before: tuple[int, int],
    after: nn.Module,
    details: list[str],
    skipped: list[str] | None = None,
) -> CompressionStep:
    """The step record from the (params, non-zeros) counted before and the model after."""
    params_after, nonzero_after = count_params(after)
    return CompressionStep(
        technique=technique,
        params_before=before[0],
        params_after=params_after,
        nonzero_before=before[1],
        nonzero_after=nonzero_after,
        details=tuple(details),
        skipped=tuple(skipped or ()),
    )
