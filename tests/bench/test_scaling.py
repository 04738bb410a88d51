"""The scaling experiments: equal-parameter models, the plan, local pretrained weights,
and a whole (tiny) scaling benchmark stored and analysed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from wattprint.bench import scaling, zoo
from wattprint.bench.linearity import analyse_scaling
from wattprint.bench.results import load_benchmark
from wattprint.bench.runner import BenchOptions, count_parameters
from wattprint.config import Settings
from wattprint.store.repository import Store


@pytest.mark.parametrize(("depth", "width", "pool"), [(1, 7, 1), (3, 20, 4), (8, 5, 2)])
def test_mlp_parameter_formula_matches_the_model(depth: int, width: int, pool: int) -> None:
    model = scaling.mlp(depth, width, pool)
    assert scaling.mlp_params(depth, width, pool) == count_parameters(model)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("channels", [1, 6, 23])
def test_cnn_parameter_formula_matches_the_model(channels: int) -> None:
    model = scaling.cnn(channels)
    assert scaling.cnn_params(channels) == count_parameters(model)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_equal_parameter_models_really_are_equal() -> None:
    target = 50_000
    counts = []
    for depth in (1, 2, 4, 8):
        width = scaling.match_params(lambda w, d=depth: scaling.mlp_params(d, w, 4), target)
        counts.append(scaling.mlp_params(depth, width, 4))
        # the next or previous width is not closer
        for other in (width - 1, width + 1):
            assert abs(scaling.mlp_params(depth, other, 4) - target) >= abs(counts[-1] - target)
    channels = scaling.match_params(scaling.cnn_params, target)
    counts.append(scaling.cnn_params(channels))
    assert all(abs(c - target) / target < 0.05 for c in counts), counts


def test_the_plan_follows_the_options() -> None:
    plan = scaling.scaling_plan(BenchOptions(train_size=400), quick=True)
    assert plan.train_sizes == (100, 200, 300, 400)
    assert plan.epochs == (1, 2, 3)
    assert plan.params == 50_000
    full = scaling.scaling_plan(BenchOptions())
    assert full.train_sizes[-1] == 10_000 and full.epochs == (1, 2, 3, 4)


def test_pretrained_experiment_runs_only_with_local_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    jobs, note = scaling._pretrained_jobs(BenchOptions(), ["mobilenet_v2"])
    assert jobs == []
    assert (
        note is not None and "mobilenet_v2-7ebf99e0.pth" in note and "nothing is downloaded" in note
    )
    path = zoo.local_weights_path("mobilenet_v2")
    path.parent.mkdir(parents=True)
    path.touch()
    jobs, note = scaling._pretrained_jobs(BenchOptions(), ["mobilenet_v2"])
    assert note is None
    assert [(spec.name, opts.pretrained, labels["value"]) for spec, opts, labels in jobs] == [
        ("mobilenet_v2", True, "pretrained"),
        ("mobilenet_v2", False, "scratch"),
    ]


def test_a_tiny_scaling_benchmark_is_stored_and_fitted(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-weights"))
    monkeypatch.setattr(
        scaling,
        "scaling_plan",
        lambda options, quick=False: scaling.ScalingPlan(
            params=2_000, depths=(1, 2), dense_depth=1, train_sizes=(16, 32), epochs=(1, 4)
        ),
    )
    settings = Settings(dir=data_dir, project="bench")
    options = BenchOptions(epochs=1, batch_size=16, test_size=32, eval_size=0)
    outcome = scaling.run_scaling(options, settings=settings)
    assert len(outcome.runs) == 2 + 2 + 2 + 2
    assert outcome.notes and "pretrained vs scratch skipped" in outcome.notes[0]
    analysis = analyse_scaling(load_benchmark(Store.from_settings(settings), outcome.benchmark))
    assert [m.labels["value"] for m in analysis.runs("deep_vs_wide")] == ["1", "2"]
    assert {m.labels["value"] for m in analysis.runs("dense_vs_conv")} == {"dense", "conv"}
    assert [m.train_samples for m in analysis.runs("data_size")] == [16, 32]
    assert [len(m.epochs) for m in analysis.runs("epochs")] == [1, 4]
    assert analysis.runs("pretrained") == ()
    assert analysis.epochs_fit is not None and analysis.epochs_fit.n == 2
    assert analysis.samples_fit is not None and analysis.samples_fit.n == 4
    assert analysis.epochs_fit.slope > 0  # 4 epochs of work against 1: clear of CPU-time noise
    assert all(m.theta is not None for m in analysis.overhead)
