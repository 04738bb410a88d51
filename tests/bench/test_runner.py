"""One benchmark model trained and served under the real tracker, read back from the
real SQLite store."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from tests.bench.helpers import tiny_mlp_spec, tiny_options
from wattprint.bench import zoo
from wattprint.bench.results import load_benchmark
from wattprint.bench.runner import (
    BenchOptions,
    count_parameters,
    flops_per_sample,
    new_benchmark_id,
    resolve_device,
    run_model,
)
from wattprint.config import Settings
from wattprint.errors import ConfigError
from wattprint.store.repository import Store


def _settings(data_dir: Path) -> Settings:
    return Settings(dir=data_dir, project="bench")


def test_a_run_has_epoch_eval_and_per_batch_inference_windows(data_dir: Path) -> None:
    spec = tiny_mlp_spec()
    bench = new_benchmark_id("vision")
    made = run_model(
        spec, tiny_options(), settings=_settings(data_dir), benchmark=bench, suite="vision"
    )
    store = Store.from_settings(_settings(data_dir))
    store.sync()
    windows = store.windows(made.run_id)
    names = [w.name for w in windows]
    assert names.count("train_warmup") == 1 and names.index("train_warmup") < names.index("epoch")
    assert names.count("epoch") == 2
    assert names.count("eval") == 2
    assert names.count("inference") == 1
    # 40 test samples in batches of 16: 3 batches, after one warm-up pass on the first
    assert names.count("inference_warmup") == 1
    assert names.count("inference_batch") == 3
    parents = {w.name: w.parent for w in windows}
    assert parents["inference_batch"] == "inference"
    assert parents["epoch"] is None
    detail = store.get_run(made.run_id)
    assert detail.name == f"{bench}/tiny_mlp"
    assert detail.labels["benchmark"] == bench
    assert detail.labels["model"] == "tiny_mlp"
    assert detail.labels["data"] == "synthetic"
    assert "synthetic" in detail.labels["data_reason"]
    assert detail.labels["metric"] == "accuracy"
    assert detail.labels["device"] == "cpu"
    assert detail.status == "finished"


def test_results_are_derived_from_the_stored_windows(data_dir: Path) -> None:
    spec = tiny_mlp_spec()
    bench = new_benchmark_id("vision")
    run_model(spec, tiny_options(), settings=_settings(data_dir), benchmark=bench, suite="vision")
    store = Store.from_settings(_settings(data_dir))
    result = load_benchmark(store, bench).models[0]
    assert result.params == count_parameters(spec.build())
    assert result.params == 48 * 16 + 16 + 16 * 10 + 10
    assert result.flops_per_sample == pytest.approx(2 * (48 * 16 + 16 * 10))
    assert result.train_samples == 64
    assert result.inference_samples == 40
    assert len(result.epochs) == 2
    assert result.final_quality is not None and 0.0 <= result.final_quality <= 1.0
    assert "accuracy" in result.epochs[0].metrics and "train_loss" in result.epochs[0].metrics
    windows = store.windows(result.run_id)
    epoch_j = sum(w.total_energy_j for w in windows if w.name == "epoch")
    batch_j = sum(w.total_energy_j for w in windows if w.name == "inference_batch")
    assert result.train_energy is not None and result.inference_energy is not None
    assert result.train_energy.j == pytest.approx(epoch_j)
    assert result.inference_energy.j == pytest.approx(batch_j)
    assert result.train_energy.low_j <= result.train_energy.j <= result.train_energy.high_j
    theta = (epoch_j / (64 * 2)) / (batch_j / 40)
    assert result.theta == pytest.approx(theta)
    assert result.overhead_share == pytest.approx(1 - 1 / theta)
    assert result.latency_p50_s is not None and result.latency_p95_s is not None
    assert 0 < result.latency_p50_s <= result.latency_p95_s
    summary = result.summary()
    assert summary["theta"] == pytest.approx(theta)
    assert summary["data"] == "synthetic"


def test_a_zoo_model_with_token_data_runs_too(data_dir: Path) -> None:
    bench = new_benchmark_id("nlp")
    made = run_model(
        zoo.get("gpt2"),
        tiny_options(eval_size=0),
        settings=_settings(data_dir),
        benchmark=bench,
        suite="nlp",
    )
    store = Store.from_settings(_settings(data_dir))
    result = load_benchmark(store, bench[:12]).models[0]
    assert result.run_id == made.run_id
    assert result.family == "nlp"
    assert result.flops_per_sample is not None and result.flops_per_sample > 0
    assert "accuracy" not in result.epochs[0].metrics  # eval_size=0: no per-epoch eval
    assert [w.name for w in store.windows(made.run_id)].count("eval") == 0


def test_flops_per_sample_counts_a_linear_layer() -> None:
    spec = zoo.image_classifier_spec(
        "lin",
        lambda size, classes: torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(3072, classes)
        ),
    )
    model = spec.build()
    batch = {"inputs": torch.zeros(8, 3, 32, 32), "labels": torch.zeros(8, dtype=torch.long)}
    assert flops_per_sample(spec, model, batch) == 2 * 3072 * 10


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 0}, r"epochs=0: accepted: an integer >= 1"),
        ({"batch_size": -1}, r"batch_size=-1"),
        ({"train_size": 0}, r"train_size=0: accepted: an integer >= 1, or None"),
        ({"size": "huge"}, r"size='huge': accepted: full, tiny"),
        ({"lr": math.nan}, r"lr=nan: accepted: a positive number"),
        ({"device": "tpu"}, r"device='tpu': accepted: cpu, cuda, cuda:N"),
        ({"eval_size": -3}, r"eval_size=-3: accepted: an integer >= 0"),
    ],
)
def test_bad_options_are_one_clear_error(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BenchOptions(**changes)  # type: ignore[arg-type]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_refused() -> None:
    with pytest.raises(ConfigError, match="sees no CUDA device; use cpu"):
        resolve_device("cuda")


def test_amp_on_cpu_trains_in_bfloat16(data_dir: Path) -> None:
    bench = new_benchmark_id("vision")
    made = run_model(
        tiny_mlp_spec(),
        tiny_options(amp=True),
        settings=_settings(data_dir),
        benchmark=bench,
        suite="vision",
    )
    result = load_benchmark(Store.from_settings(_settings(data_dir)), bench).models[0]
    assert result.run_id == made.run_id
    assert result.amp is True
    assert result.labels["amp"] == "true"


def test_final_figures_are_not_the_last_epochs_metrics(data_dir: Path) -> None:
    bench = new_benchmark_id("vision")
    run_model(
        tiny_mlp_spec(),
        tiny_options(),
        settings=_settings(data_dir),
        benchmark=bench,
        suite="vision",
    )
    result = load_benchmark(Store.from_settings(_settings(data_dir)), bench).models[0]
    assert set(result.epochs[-1].metrics) == {"train_loss", "accuracy"}
    assert result.final_quality is not None and result.latency_p50_s is not None
