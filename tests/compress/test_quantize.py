import pytest
import torch
from torch import nn

from tests.compress import (
    INT8_TOLERANCE,
    cnn,
    images,
    lstm_classifier,
    mlp,
    relative_error,
    state_copy,
    tokens,
    transformer,
    unchanged,
)
from wattprint.compress import (
    CompressionError,
    model_stats,
    quantize_dynamic_int8,
    quantize_static_int8,
)
from wattprint.compress.quantize import backends
from wattprint.errors import ConfigError


def test_dynamic_int8_packs_every_linear_of_an_mlp() -> None:
    model = mlp()
    saved = state_copy(model)
    quantized, step = quantize_dynamic_int8(model)
    assert unchanged(model, saved)
    assert step.technique == "quant:int8"
    assert step.details == (
        "0: Linear -> quantized.dynamic.Linear",
        "2: Linear -> quantized.dynamic.Linear",
        "4: Linear -> quantized.dynamic.Linear",
    )
    assert model_stats(quantized).dtypes["qint8"] == 32 * 64 + 64 * 64 + 64 * 10
    assert step.params_after == step.params_before
    x = torch.randn(16, 32)
    error = relative_error(quantized(x), model(x))
    assert 0 < error < INT8_TOLERANCE


def test_dynamic_int8_quantises_lstm_and_head_not_embedding() -> None:
    model = lstm_classifier()
    quantized, step = quantize_dynamic_int8(model)
    assert step.details == (
        "lstm: LSTM -> quantized.dynamic.LSTM",
        "head: Linear -> quantized.dynamic.Linear",
    )
    weights, biases = 4 * 32 * (16 + 32) + 32 * 4, 4 * 32 * 2 + 4
    assert model_stats(quantized).dtypes == {"float32": 50 * 16 + biases, "qint8": weights}
    ids = tokens()
    assert relative_error(quantized(ids), model(ids)) < INT8_TOLERANCE


def test_dynamic_int8_quantises_a_gru() -> None:
    quantized, step = quantize_dynamic_int8(nn.Sequential(nn.GRU(8, 16)))
    assert step.details == ("0: GRU -> quantized.dynamic.GRU",)
    assert model_stats(quantized).params == 3 * 16 * (8 + 16 + 2)


def test_dynamic_int8_keeps_the_linears_a_transformer_reads_directly() -> None:
    model = transformer()
    quantized, step = quantize_dynamic_int8(model)
    assert step.details == ("1: Linear -> quantized.dynamic.Linear",)
    assert len(step.skipped) == 3 and step.skipped[1].startswith("0.linear1: inside Transformer")
    x = torch.randn(2, 5, 32)
    with torch.no_grad():  # torch's fast path would read a packed linear1.weight and fail
        assert relative_error(quantized(x), model(x)) < INT8_TOLERANCE


def test_static_int8_fuses_and_quantises_the_cnn() -> None:
    model = cnn()
    saved = state_copy(model)
    engine = torch.backends.quantized.engine
    calibration = [images(8, seed) for seed in range(2, 6)]
    quantized, step = quantize_static_int8(model, calibration)
    assert unchanged(model, saved) and model.training is False
    assert torch.backends.quantized.engine == engine
    assert step.details[0] == f"backend {engine}, calibrated on 4 example batch(es)"
    assert "conv1: Conv2d -> intrinsic.quantized.ConvReLU2d" in step.details
    assert "bn1: BatchNorm2d fused into a neighbouring layer" in step.details
    assert "fc: Linear -> quantized.Linear" in step.details
    assert step.params_after == step.params_before - 2 * (16 + 32)  # batch-norm folded
    x = images()
    assert relative_error(quantized(x), model(x)) < INT8_TOLERANCE


@pytest.mark.skipif("qnnpack" not in backends(), reason="this torch has no qnnpack")
def test_static_int8_with_another_backend_restores_the_engine() -> None:
    engine = torch.backends.quantized.engine
    model = cnn()
    quantized, step = quantize_static_int8(model, [images()], backend="qnnpack")
    assert torch.backends.quantized.engine == engine
    assert step.details[0].startswith("backend qnnpack")
    assert relative_error(quantized(images()), model(images())) < INT8_TOLERANCE


class _DataDependent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) if x.sum() > 0 else x


def test_untraceable_model_is_one_clear_error_pointing_to_dynamic() -> None:
    with pytest.raises(
        CompressionError,
        match=r"_DataDependent cannot be statically quantised: torch.fx could not trace it "
        r"\(TraceError: .*control flow\)\. Use dynamic quantisation \(quant:int8\)",
    ):
        quantize_static_int8(_DataDependent(), [torch.randn(2, 4)])


def test_static_int8_needs_batches_and_a_supported_backend() -> None:
    with pytest.raises(ConfigError, match=r"quant:int8-static\) needs example_batches"):
        quantize_static_int8(cnn(), [])
    with pytest.raises(ConfigError, match=r"backend 'tpu' is not supported.*accepted: .*x86"):
        quantize_static_int8(cnn(), [images()], backend="tpu")


def test_nothing_to_quantise_and_non_cpu_models_are_refused() -> None:
    with pytest.raises(CompressionError, match=r"no Linear, LSTM or GRU layer inside Sequential"):
        quantize_dynamic_int8(nn.Sequential(nn.Conv2d(3, 4, 3)))
    with pytest.raises(CompressionError, match=r"cannot be quantised again"):
        quantize_dynamic_int8(quantize_dynamic_int8(mlp())[0])
    on_meta = nn.Sequential(nn.Linear(4, 4, device="meta"))
    with pytest.raises(CompressionError, match=r"CPU only and Sequential is on meta"):
        quantize_dynamic_int8(on_meta)
