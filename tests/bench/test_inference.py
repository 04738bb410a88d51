"""Per-batch inference windows against a fake RAPL counter: exact joules per batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import wattprint
from tests.fakes.sysfs import FakePowercap
from wattprint.bench.inference import measure_inference
from wattprint.meters.rapl import RaplMeter


def _batches(sizes: list[int]) -> list[dict[str, torch.Tensor]]:
    return [
        {"inputs": torch.full((n, 2), float(i)), "labels": torch.zeros(n)}
        for i, n in enumerate(sizes)
    ]


def test_warmup_is_excluded_and_energy_is_the_counter_difference(
    data_dir: Path, powercap: FakePowercap
) -> None:
    model = nn.Linear(2, 1)
    joules = iter([5.0, 2.0, 3.0, 4.0, 1.0])  # the warm-up pass, then one per batch

    def forward(m: nn.Module, batch: dict[str, torch.Tensor]) -> Any:
        powercap.advance("intel-rapl:0", next(joules))
        return m(batch["inputs"])

    def score(outputs: Any, batch: dict[str, torch.Tensor]) -> float:
        return float(batch["inputs"][0, 0])  # the batch index: checks the weighting

    model.train()
    with wattprint.track(meters=[RaplMeter(powercap.root)]) as tracker:
        stats = measure_inference(
            tracker, model, _batches([8, 8, 8, 4]), forward, device=torch.device("cpu"), score=score
        )
    assert model.training  # the mode is restored
    assert stats.warmup_samples == 8
    assert stats.samples == 28
    assert stats.batches == 4
    assert stats.energy_j == pytest.approx(10.0)
    assert stats.energy_per_sample_j == pytest.approx(10.0 / 28)
    assert stats.measured
    assert stats.energy_low_j == stats.energy_j == stats.energy_high_j
    assert len(stats.latencies_s) == 4
    assert stats.latency_p50_s is not None and stats.latency_p95_s is not None
    assert (
        min(stats.latencies_s)
        <= stats.latency_p50_s
        <= stats.latency_p95_s
        <= max(stats.latencies_s)
    )
    assert stats.samples_per_s is not None and stats.samples_per_s > 0
    # quality is sample-weighted over the batches: (0*8+1*8+2*8+3*4)/28
    assert stats.quality == pytest.approx(36 / 28)
    names = [m.name for m in tracker.result.windows] if tracker.result else []
    assert names.count("inference_batch") == 4
    assert names.count("inference_warmup") == 1
    assert names[-1] == "inference"


def test_no_warmup_and_no_batches(data_dir: Path, powercap: FakePowercap) -> None:
    model = nn.Linear(2, 1)
    with wattprint.track(meters=[RaplMeter(powercap.root)]) as tracker:
        every = measure_inference(
            tracker,
            model,
            _batches([4, 4]),
            lambda m, b: m(b["inputs"]),
            device=torch.device("cpu"),
            warmup=0,
        )
        empty = measure_inference(
            tracker, model, [], lambda m, b: m(b["inputs"]), device=torch.device("cpu")
        )
    assert every.samples == 8 and every.warmup_samples == 0 and every.quality is None
    assert empty.samples == 0
    assert empty.energy_per_sample_j is None and empty.samples_per_s is None
    assert empty.latency_p50_s is None
    assert not empty.measured
    with pytest.raises(ValueError, match="warmup=-1"):
        measure_inference(
            tracker, model, [], lambda m, b: None, device=torch.device("cpu"), warmup=-1
        )
