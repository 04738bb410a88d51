import pytest
import torch
from torch import nn

from tests.compress import (
    EXACT_TOLERANCE,
    cnn,
    images,
    mlp,
    relative_error,
    state_copy,
    transformer,
    unchanged,
)
from wattprint.compress import CompressionError, lowrank_factorize
from wattprint.compress.lowrank import choose_rank
from wattprint.compress.quantize import quantize_dynamic_int8
from wattprint.errors import ConfigError


def _rank_4(rows: int, cols: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(rows, 4, generator=g) @ torch.randn(4, cols, generator=g) / 8


def test_ratio_one_factorises_an_exactly_low_rank_linear_and_reproduces_it() -> None:
    model = mlp()
    with torch.no_grad():
        model[2].weight.copy_(_rank_4(64, 64))
    saved = state_copy(model)
    factorized, step = lowrank_factorize(model, 1.0)
    assert unchanged(model, saved)
    down, up = factorized[2]
    assert (down.in_features, down.out_features, down.bias) == (64, 4, None)
    assert (up.in_features, up.out_features) == (4, 64)
    assert torch.equal(up.bias, model[2].bias)
    assert step.details == ("2: Linear rank 4 of 64, 4096 -> 512 weights",)
    assert step.params_before - step.params_after == 4096 - 512
    assert step.skipped[0] == "0: rank 32 of 32 would not shrink it (3072 >= 2048 weights)"
    x = torch.randn(16, 32)
    assert relative_error(factorized(x), model(x)) < EXACT_TOLERANCE


def test_ratio_keeps_that_share_of_squared_singular_values_with_the_fewest() -> None:
    layer = nn.Linear(96, 48)
    factorized, _ = lowrank_factorize(nn.Sequential(layer), 0.6)
    down, up = factorized[0]
    weight = layer.weight.detach()
    lost = (up.weight @ down.weight - weight).square().sum() / weight.square().sum()
    assert lost <= 0.4 + 1e-5  # Eckart-Young: the squared error is the dropped energy
    s = torch.linalg.svdvals(weight)
    r = down.out_features
    assert (s[: r - 1].square().sum() / s.square().sum()) < 0.6  # one fewer is not enough


def test_fixed_rank_shrinks_every_layer_and_is_capped_at_full_rank() -> None:
    model = mlp()
    factorized, step = lowrank_factorize(model, 8)
    assert [m[0].out_features for m in factorized if isinstance(m, nn.Sequential)] == [8, 8, 8]
    assert step.params_after == step.params_before - (2048 + 4096 + 640) + 8 * (96 + 128 + 74)
    assert choose_rank(torch.ones(5), 100, (5, 7)) == 5


def test_conv2d_becomes_kxk_to_rank_then_1x1_with_the_same_geometry() -> None:
    conv = nn.Conv2d(16, 32, 3, stride=2, padding=2, dilation=2)
    with torch.no_grad():
        conv.weight.copy_(_rank_4(32, 16 * 9).reshape(32, 16, 3, 3))
    model = nn.Sequential(conv, nn.ReLU())
    factorized, step = lowrank_factorize(model, 1.0)
    down, up = factorized[0]
    assert (down.in_channels, down.out_channels, down.kernel_size) == (16, 4, (3, 3))
    assert (down.stride, down.padding, down.dilation, down.bias) == ((2, 2), (2, 2), (2, 2), None)
    assert (up.in_channels, up.out_channels, up.kernel_size) == (4, 32, (1, 1))
    assert torch.equal(up.bias, conv.bias)
    assert step.details == ("0: Conv2d rank 4 of 32, 4608 -> 704 weights",)
    x = torch.randn(2, 16, 15, 15)
    assert relative_error(factorized(x), model(x)) < EXACT_TOLERANCE


def test_small_cnn_grouped_convs_and_zero_weights_are_skipped_with_reasons() -> None:
    model = nn.Sequential(
        nn.Conv2d(8, 64, 3), nn.Conv2d(64, 64, 3, groups=4), nn.Flatten(), nn.LazyLinear(4)
    )
    model(torch.randn(1, 8, 8, 8))
    with torch.no_grad():
        model[3].weight.zero_()
    factorized, step = lowrank_factorize(model, 0.5)
    assert isinstance(factorized[0], nn.Sequential)
    assert factorized[1] is not model[1] and isinstance(factorized[1], nn.Conv2d)
    assert step.skipped == ("1: grouped convolution (groups=4)", "3: all weights are zero")
    tied = nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 64))
    tied[1].weight = tied[0].weight
    assert lowrank_factorize(tied, 2)[1].skipped[1] == "1: weight shared with another layer (tied)"
    small, step = lowrank_factorize(cnn(), 4)
    assert len(step.details) == 3
    assert small(images()).shape == (8, 10)


def test_layers_whose_weight_a_transformer_reads_directly_are_kept() -> None:
    model = transformer()
    factorized, step = lowrank_factorize(model, 4)
    assert step.details == ("1: Linear rank 4 of 32, 4096 -> 640 weights",)
    assert step.skipped == (
        "0.self_attn.out_proj: inside TransformerEncoderLayer, which reads its weight directly",
        "0.linear1: inside TransformerEncoderLayer, which reads its weight directly",
        "0.linear2: inside TransformerEncoderLayer, which reads its weight directly",
    )
    with torch.no_grad():  # the fast path, which would fail on a factorised linear1
        assert factorized(torch.randn(2, 5, 32)).shape == (2, 5, 128)


def test_bad_ranks_and_models_without_layers_are_refused() -> None:
    for rank in (0, -1, 1.5, 0.0, True, "4"):
        with pytest.raises(ConfigError, match=rf"low-rank rank {rank!r} is neither"):
            lowrank_factorize(mlp(), rank)  # type: ignore[arg-type]
    with pytest.raises(CompressionError, match=r"no Linear or Conv2d layer to factorise"):
        lowrank_factorize(quantize_dynamic_int8(mlp())[0], 0.9)
