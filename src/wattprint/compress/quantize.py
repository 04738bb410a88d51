"""Post-training int8 quantisation on CPU with ``torch.ao.quantization``.

Dynamic: Linear, LSTM and GRU weights are stored as int8 and activations quantised on the
fly per batch; no calibration, works on any model, helps most where matrix products
dominate (MLPs, RNNs, transformers). Static (FX graph mode): weights and activations are
int8, with activation ranges measured on example batches; Conv+BatchNorm+ReLU are fused.
It needs a model that ``torch.fx`` can trace: data-dependent control flow cannot be.
Both run only on CPU; the quantised model takes float32 inputs and returns float32.
"""

from __future__ import annotations

import copy
import itertools
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn
from torch.ao.quantization import default_dynamic_qconfig, get_default_qconfig_mapping
from torch.ao.quantization import quantize_dynamic as torch_quantize_dynamic
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

from wattprint.compress.stats import (
    CompressionError,
    CompressionStep,
    count_params,
    fixed_layers,
    make_step,
)
from wattprint.errors import ConfigError

__all__ = [
    "DYNAMIC_LAYERS",
    "Batch",
    "backends",
    "calibration_batches",
    "quantize_dynamic_int8",
    "quantize_static_int8",
]

DYNAMIC_LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, nn.LSTM, nn.GRU)
Batch = Tensor | tuple[Any, ...]  # one model input, or the positional inputs of one call
_TORCH_AO_DEPRECATIONS = (
    "torch.ao.quantization is deprecated",
    "torch.quantize_per_tensor, torch.quantize_per_channel and other quantized tensor",
    "Please use quant_min and quant_max",
)


def backends() -> list[str]:
    """The quantised engines this torch build supports (``x86``, ``fbgemm``, ``qnnpack``...)."""
    return [name for name in torch.backends.quantized.supported_engines if name != "none"]


def calibration_batches(batches: Iterable[Batch] | None) -> list[tuple[Any, ...]]:
    """The example batches as positional-argument tuples; ConfigError when there are none."""
    calls = [batch if isinstance(batch, tuple) else (batch,) for batch in batches or ()]
    if not calls:
        raise ConfigError(
            "static int8 quantisation (quant:int8-static) needs example_batches: "
            "a few inputs of the model to measure its activation ranges on"
        )
    return calls


def quantize_dynamic_int8(model: nn.Module) -> tuple[nn.Module, CompressionStep]:
    """A copy of ``model`` whose Linear, LSTM and GRU layers have int8 weights."""
    _require_cpu(model)
    before = count_params(model)
    skipped = {
        name: why
        for name, why in fixed_layers(model).items()
        if isinstance(model.get_submodule(name), DYNAMIC_LAYERS)
    }
    qconfig: dict[type[nn.Module] | str, Any] = dict.fromkeys(
        DYNAMIC_LAYERS, default_dynamic_qconfig
    )
    qconfig.update(dict.fromkeys(skipped))  # a None qconfig leaves the layer as it is
    with _quantized_engine(torch.backends.quantized.engine):
        quantized: nn.Module = torch_quantize_dynamic(  # type: ignore[no-untyped-call]
            model, qconfig, dtype=torch.qint8, inplace=False
        )
    details = _changed_layers(model, quantized, "Linear, LSTM or GRU")
    skips = [f"{name}: {why}" for name, why in skipped.items()]
    return quantized, make_step("quant:int8", before, quantized, details, skips)


def quantize_static_int8(
    model: nn.Module, example_batches: Iterable[Batch], *, backend: str | None = None
) -> tuple[nn.Module, CompressionStep]:
    """A copy of ``model`` traced by ``torch.fx``, calibrated on ``example_batches``, in int8.

    ``backend`` (default: the current ``torch.backends.quantized.engine``) picks the qconfig
    and the kernels the weights are packed for; it is set only while converting.
    """
    engine = backend or torch.backends.quantized.engine
    if engine not in backends():
        raise ConfigError(
            f"quantisation backend {engine!r} is not supported by this torch build; "
            f"accepted: {', '.join(backends())}"
        )
    calls = calibration_batches(example_batches)
    _require_cpu(model)
    before = count_params(model)
    float_model = copy.deepcopy(model).eval()
    with _quantized_engine(engine):
        try:
            prepared = prepare_fx(
                float_model, get_default_qconfig_mapping(engine), example_inputs=calls[0]
            )
        except Exception as exc:  # torch.fx raises TraceError, TypeError, AttributeError...
            raise CompressionError(
                f"{type(model).__name__} cannot be statically quantised: torch.fx could not "
                f"trace it ({type(exc).__name__}: {exc}). Use dynamic quantisation "
                "(quant:int8), which needs no tracing, or make forward() traceable "
                "(no control flow on tensor values)"
            ) from exc
        with torch.no_grad():
            for call in calls:
                prepared(*call)
        quantized = convert_fx(prepared)
    details = [f"backend {engine}, calibrated on {len(calls)} example batch(es)"]
    details += _changed_layers(model, quantized, "Conv, Linear or other statically quantisable")
    return quantized, make_step("quant:int8-static", before, quantized, details)


def _require_cpu(model: nn.Module) -> None:
    devices = {t.device for t in itertools.chain(model.parameters(), model.buffers())}
    if any(device.type != "cpu" for device in devices):
        raise CompressionError(
            f"int8 quantisation runs on CPU only and {type(model).__name__} is on "
            f"{', '.join(sorted(map(str, devices)))}: quantise model.cpu()"
        )


@contextmanager
def _quantized_engine(engine: str) -> Iterator[None]:
    """Use ``engine`` while packing weights, quietly: torch.ao warns that it is deprecated
    (for torchao, see docs/compress.md), which the user can do nothing about."""
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = engine
    try:
        with warnings.catch_warnings():
            for message in _TORCH_AO_DEPRECATIONS:
                warnings.filterwarnings("ignore", message=message)
            yield
    finally:
        torch.backends.quantized.engine = previous


def _changed_layers(before: nn.Module, after: nn.Module, wanted: str) -> list[str]:
    """ "name: Old -> New" for each leaf layer replaced, "name: Old fused..." for those gone.

    CompressionError when there are none: ``before`` had no ``wanted`` layer inside it.
    """
    new = dict(after.named_modules())
    lines = []
    for name, module in before.named_modules():
        if next(module.children(), None) is not None or not name:
            continue
        if name not in new:
            lines.append(f"{name}: {_kind(module)} fused into a neighbouring layer")
        elif type(new[name]) is not type(module):
            lines.append(f"{name}: {_kind(module)} -> {_kind(new[name])}")
    if not lines:
        raise CompressionError(
            f"found no {wanted} layer inside {type(before).__name__} to quantise (torch "
            "swaps submodules, not a bare layer: wrap it in nn.Sequential; an int8 model "
            "cannot be quantised again)"
        )
    return lines


def _kind(module: nn.Module) -> str:
    """The class name, prefixed for torch.ao's: quantized.dynamic.Linear, not Linear."""
    package = type(module).__module__.removeprefix("torch.ao.nn.").partition(".modules")[0]
    prefix = f"{package}." if type(module).__module__.startswith("torch.ao.nn.") else ""
    return prefix + type(module).__name__
