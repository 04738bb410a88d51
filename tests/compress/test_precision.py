import pytest
import torch

from tests.compress import (
    BF16_TOLERANCE,
    FP16_TOLERANCE,
    cnn,
    images,
    lstm_classifier,
    mlp,
    relative_error,
    state_copy,
    tokens,
    unchanged,
)
from wattprint.compress import CompressionError, cast_precision, input_dtype
from wattprint.compress.precision import runs_on
from wattprint.compress.quantize import quantize_dynamic_int8
from wattprint.errors import ConfigError


@pytest.mark.parametrize(
    ("dtype", "spec", "tolerance"),
    [(torch.float16, "cast:fp16", FP16_TOLERANCE), (torch.bfloat16, "cast:bf16", BF16_TOLERANCE)],
)
def test_cast_converts_floats_keeps_integers_and_stays_close(
    dtype: torch.dtype, spec: str, tolerance: float
) -> None:
    model = cnn()
    saved = state_copy(model)
    cast, step = cast_precision(model, dtype)
    assert unchanged(model, saved) and input_dtype(model) == torch.float32
    assert {p.dtype for p in cast.parameters()} == {dtype}
    assert cast.bn1.running_mean.dtype == dtype
    assert cast.bn1.num_batches_tracked.dtype == torch.int64
    assert input_dtype(cast) == dtype
    assert step.technique == spec
    assert step.details == (f"14 float32 tensors -> {dtype} on cpu",)  # 10 params, 4 BN stats
    x = images()
    assert relative_error(cast(x.to(input_dtype(cast))), model(x)) < tolerance


@pytest.mark.parametrize(
    ("dtype", "tolerance"), [(torch.float16, FP16_TOLERANCE), (torch.bfloat16, BF16_TOLERANCE)]
)
def test_mlp_and_lstm_run_in_half_precision_on_cpu(dtype: torch.dtype, tolerance: float) -> None:
    # This torch runs fp16 and bf16 Linear, Conv2d and LSTM on CPU, so nothing is refused.
    assert runs_on(torch.device("cpu"), dtype) is None
    model, x = mlp(), torch.randn(16, 32)
    assert relative_error(cast_precision(model, dtype)[0](x.to(dtype)), model(x)) < tolerance
    lstm, ids = lstm_classifier(), tokens()
    assert relative_error(cast_precision(lstm, dtype)[0](ids), lstm(ids)) < tolerance


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_a_device_that_cannot_run_the_dtype_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"torch.float16 does not run on cuda with torch"):
        cast_precision(mlp(), torch.float16, device="cuda")


def test_bad_dtype_and_quantised_models_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"cast dtype torch.float64: accepted: torch.float16"):
        cast_precision(mlp(), torch.float64)
    quantized, _ = quantize_dynamic_int8(mlp())
    assert input_dtype(quantized) == torch.float32
    with pytest.raises(CompressionError, match=r"Sequential is int8-quantised"):
        cast_precision(quantized, torch.float16)
