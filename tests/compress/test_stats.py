import io

import pytest
import torch
from torch import nn

from tests.compress import cnn, images, lstm_classifier, mlp
from wattprint.compress import model_stats, prune_unstructured
from wattprint.compress.quantize import quantize_dynamic_int8, quantize_static_int8
from wattprint.compress.stats import count_params, is_quantized, shared_parameter_ids


def test_float_model_counts_parameters_bytes_and_dtypes() -> None:
    model = nn.Sequential(nn.Linear(100, 50), nn.BatchNorm1d(50))
    with torch.no_grad():
        model[0].weight[:10] = 0.0  # 1,000 zeros
    stats = model_stats(model)
    assert stats.params == 5050 + 100  # BatchNorm: weight and bias; running stats are buffers
    assert stats.nonzero_params == 5150 - 1000 - 50  # and the BatchNorm bias starts at 0
    assert stats.sparsity == pytest.approx(1050 / 5150)
    assert stats.dtypes == {"float32": 5150}
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    assert stats.size_bytes == len(buffer.getvalue())


def test_dynamically_quantised_linear_still_counts_its_packed_parameters() -> None:
    quantized, _ = quantize_dynamic_int8(nn.Sequential(nn.Linear(100, 50)))
    assert list(quantized.parameters()) == []  # torch hides them in _packed_params
    stats = model_stats(quantized)
    assert stats.params == 5050
    assert stats.dtypes == {"qint8": 5000, "float32": 50}
    assert is_quantized(quantized)


def test_statically_quantised_cnn_counts_conv_and_linear_weights() -> None:
    model = cnn()
    quantized, _ = quantize_static_int8(model, [images()])
    stats = model_stats(quantized)
    batch_norm = 2 * (16 + 32)  # gamma and beta, folded into the convolutions
    assert stats.params == count_params(model)[0] - batch_norm
    assert stats.dtypes["qint8"] == 16 * 3 * 9 + 32 * 16 * 9 + 32 * 10
    assert stats.dtypes["float32"] == 16 + 32 + 10  # biases stay float


def test_quantised_lstm_counts_each_bias_once() -> None:
    # A packed RNN cell stores its biases twice (beside and inside its packed linears).
    model = lstm_classifier()
    quantized, _ = quantize_dynamic_int8(model)
    expected = sum(p.numel() for p in model.parameters())
    assert model_stats(quantized).params == expected == 50 * 16 + 4 * 32 * (16 + 32 + 2) + 132


def test_int8_and_fp16_shrink_the_saved_size() -> None:
    model = nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 256))
    fp32 = model_stats(model).size_bytes
    fp16 = model_stats(model.half()).size_bytes
    int8 = model_stats(quantize_dynamic_int8(model.float())[0]).size_bytes
    assert 0.45 < fp16 / fp32 < 0.55
    assert 0.2 < int8 / fp32 < 0.3


def test_pruned_zeros_stay_zero_through_int8() -> None:
    pruned, _ = prune_unstructured(mlp(), 0.5)
    nonzero = model_stats(pruned).nonzero_params
    quantized, _ = quantize_dynamic_int8(pruned)
    stats = model_stats(quantized)
    assert stats.params == model_stats(pruned).params
    # int8 rounding can zero a few more small weights, never revive a pruned one.
    assert nonzero - 50 < stats.nonzero_params <= nonzero


def test_tied_weights_count_once_and_are_reported_shared() -> None:
    model = nn.Sequential(nn.Linear(8, 8, bias=False), nn.Linear(8, 8, bias=False))
    model[1].weight = model[0].weight
    assert model_stats(model).params == 64
    assert shared_parameter_ids(model) == {id(model[0].weight)}
    assert shared_parameter_ids(mlp()) == set()
