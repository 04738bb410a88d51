import pytest
import torch
from torch import nn

from tests.compress import cnn, images, mlp, state_copy, unchanged
from wattprint.compress import CompressionError, prune_structured, prune_unstructured
from wattprint.compress.quantize import quantize_dynamic_int8
from wattprint.errors import ConfigError


def _weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {
        name: module.weight.detach()
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear | nn.Conv2d)
    }


def _no_pruning_leftovers(model: nn.Module) -> None:
    keys = model.state_dict().keys()
    assert not [k for k in keys if k.endswith(("weight_orig", "weight_mask"))]
    assert all(not m._forward_pre_hooks for m in model.modules())
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Conv2d):
            assert isinstance(module.weight, nn.Parameter)


@pytest.mark.parametrize("amount", [0.3, 0.5, 0.9])
def test_unstructured_zeros_the_smallest_share_of_every_layer(amount: float) -> None:
    model = cnn()
    saved = state_copy(model)
    pruned, step = prune_unstructured(model, amount)
    assert unchanged(model, saved)
    _no_pruning_leftovers(pruned)
    for name, weight in _weights(pruned).items():
        original = _weights(model)[name]
        zero = weight == 0
        assert abs(int(zero.sum()) - amount * weight.numel()) <= 1, name
        # what is left is untouched, and no zeroed weight was larger than a kept one
        assert torch.equal(weight[~zero], original[~zero])
        assert original[zero].abs().max() <= original[~zero].abs().min()
    assert torch.equal(pruned.conv1.bias, model.conv1.bias)  # biases are not pruned
    assert step.technique == f"prune:{amount}"
    assert step.params_after == step.params_before
    assert step.nonzero_after < step.nonzero_before
    assert len(step.details) == 3 and step.details[0].startswith("conv1: ")


def test_global_unstructured_reaches_the_amount_over_all_layers() -> None:
    model = mlp()
    pruned, step = prune_unstructured(model, 0.6, scope="global")
    weights = _weights(pruned).values()
    total = sum(w.numel() for w in weights)
    zeros = sum(int((w == 0).sum()) for w in weights)
    assert abs(zeros - 0.6 * total) <= 1
    shares = sorted(float((w == 0).float().mean()) for w in weights)
    assert shares[-1] - shares[0] > 0.01  # ranked together, the layers differ
    assert step.technique == "prune-global:0.6"
    _no_pruning_leftovers(pruned)


def test_structured_zeros_whole_output_channels_of_smallest_norm() -> None:
    model = cnn()
    saved = state_copy(model)
    pruned, step = prune_structured(model, 0.5)
    assert unchanged(model, saved)
    _no_pruning_leftovers(pruned)
    for name, weight in _weights(pruned).items():
        rows = weight.flatten(1)
        original = _weights(model)[name].flatten(1)
        dead = (rows == 0).all(dim=1)
        assert int(dead.sum()) == round(0.5 * rows.shape[0]), name
        assert torch.equal(rows[~dead], original[~dead])  # kept channels are whole
        norms = original.norm(dim=1)
        assert norms[dead].max() <= norms[~dead].min()
    assert "conv2: 16/32 output channels zero" in step.details
    assert pruned(images()).shape == (8, 10)


def test_amount_outside_zero_one_is_rejected_naming_it() -> None:
    for amount in (0.0, 1.0, -0.2, 1.5, True):
        with pytest.raises(ConfigError, match=rf"pruning amount {amount!r} .*\(0, 1\)"):
            prune_unstructured(mlp(), amount)
    with pytest.raises(ConfigError, match=r"pruning scope 'all': accepted: layer, global"):
        prune_unstructured(mlp(), 0.5, scope="all")  # type: ignore[arg-type]


def test_tied_weights_are_skipped_and_said_so() -> None:
    model = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 4))
    model[1].weight = model[0].weight
    pruned, step = prune_unstructured(model, 0.5)
    assert pruned[1].weight is pruned[0].weight  # still tied
    assert int((pruned[0].weight == 0).sum()) == 0
    assert int((pruned[2].weight == 0).sum()) == 16
    assert step.skipped == (
        "0: weight shared with another layer (tied)",
        "1: weight shared with another layer (tied)",
    )


def test_a_quantised_model_has_nothing_to_prune() -> None:
    quantized, _ = quantize_dynamic_int8(mlp())
    with pytest.raises(CompressionError, match=r"Sequential has no Linear.*prune before"):
        prune_structured(quantized, 0.5)
