"""Benchmarks read back from the store: one ``ModelResult`` per run, from its windows,
metrics and labels.

A benchmark is the set of runs labelled with the same ``benchmark`` id (see
``wattprint.bench.runner``). Every figure here is derived from stored windows: training
energy is the sum of the ``epoch`` windows, serving energy the sum of the
``inference_batch`` windows (warm-up excluded), and the training overhead

    θ = (training energy per sample per epoch) / (inference energy per sample)

is the factor of the life-cycle model's ``T ≈ E·D·I·θ``. This module needs no
PyTorch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wattprint.analysis.stored import (
    Energy,
    component_ratios,
    last_values,
    pick_group,
    runs_by_label,
    window_energy,
)
from wattprint.bench.windows import BATCH_WINDOW, EPOCH_WINDOW

if TYPE_CHECKING:
    from wattprint.analysis.curves import EpochPoint
    from wattprint.store.records import ComponentTotal, RunDetail
    from wattprint.store.repository import Store

__all__ = [
    "Benchmark",
    "BenchmarkSummary",
    "Energy",
    "ModelResult",
    "list_benchmarks",
    "load_benchmark",
]


@dataclass(frozen=True)
class ModelResult:
    """One model of a benchmark: what it cost to train and to serve, and how good it got."""

    run_id: str
    run_name: str
    model: str
    family: str
    task: str
    dataset: str
    synthetic_data: bool
    data_reason: str
    device: str
    device_name: str
    amp: bool
    batch_size: int
    labels: Mapping[str, str]
    quality: str  # measured / estimated: the energy figures' provenance
    components: tuple[ComponentTotal, ...]  # what was metered, how, with which basis
    status: str
    error: str | None  # why a failed run failed
    params: int | None
    flops_per_sample: float | None
    epochs: tuple[EpochPoint, ...]
    train_samples: int | None  # per epoch
    train_energy: Energy | None
    train_duration_s: float
    inference_samples: int
    inference_energy: Energy | None
    inference_duration_s: float
    latency_p50_s: float | None
    latency_p95_s: float | None
    metric: str
    higher_is_better: bool
    final_quality: float | None  # the metric over the whole test split
    run_energy: Energy  # the whole run, data loading and FLOP counting included

    @property
    def train_samples_per_s(self) -> float | None:
        if not self.train_samples or self.train_duration_s <= 0:
            return None
        return self.train_samples * len(self.epochs) / self.train_duration_s

    @property
    def inference_samples_per_s(self) -> float | None:
        if not self.inference_samples or self.inference_duration_s <= 0:
            return None
        return self.inference_samples / self.inference_duration_s

    @property
    def energy_per_epoch(self) -> Energy | None:
        return self.train_energy.per(len(self.epochs)) if self.train_energy else None

    @property
    def inference_energy_per_sample(self) -> Energy | None:
        if self.inference_energy is None or not self.inference_samples:
            return None
        return self.inference_energy.per(self.inference_samples)

    @property
    def train_energy_per_sample_j(self) -> float | None:
        """Training energy per sample seen (one sample in one epoch)."""
        if self.train_energy is None or not self.train_samples or not self.epochs:
            return None
        return self.train_energy.j / (self.train_samples * len(self.epochs))

    @property
    def theta(self) -> float | None:
        """Training overhead θ: training energy per sample over inference energy per sample."""
        per_train = self.train_energy_per_sample_j
        per_inference = self.inference_energy_per_sample
        if per_train is None or per_inference is None or per_inference.j <= 0:
            return None
        return per_train / per_inference.j

    def summary(self) -> dict[str, Any]:
        """The figures people compare, as plain values (``--json`` output)."""
        per_inference = self.inference_energy_per_sample
        return {
            "run_id": self.run_id,
            "model": self.model,
            "family": self.family,
            "status": self.status,
            "error": self.error,
            "dataset": self.dataset,
            "data": "synthetic" if self.synthetic_data else "real",
            "data_reason": self.data_reason,
            "device": self.device,
            "device_name": self.device_name,
            "amp": self.amp,
            "batch_size": self.batch_size,
            "quality": self.quality,
            "params": self.params,
            "flops_per_sample": self.flops_per_sample,
            "epochs": len(self.epochs),
            "epoch_energy_j": [p.energy_j for p in self.epochs],
            "train_energy": self.train_energy,
            "train_samples_per_s": self.train_samples_per_s,
            "inference_energy_per_sample": per_inference,
            "inference_samples_per_s": self.inference_samples_per_s,
            "latency_p50_s": self.latency_p50_s,
            "latency_p95_s": self.latency_p95_s,
            "theta": self.theta,
            "overhead_share": self.overhead_share,
            "metric": self.metric,
            "final_quality": self.final_quality,
            "labels": dict(self.labels),
        }

    @property
    def overhead_share(self) -> float | None:
        """Share of training energy beyond a plain forward pass over the same samples
        (``1 - 1/θ``): the backward pass, the optimiser, and training-only work."""
        theta = self.theta
        return 1 - 1 / theta if theta else None


@dataclass(frozen=True)
class Benchmark:
    """All models of one benchmark, in the order they ran."""

    id: str
    suite: str
    started_at: float
    models: tuple[ModelResult, ...]

    @property
    def synthetic_data(self) -> bool:
        return any(m.synthetic_data for m in self.models)

    def summary(self) -> dict[str, Any]:
        """The benchmark as plain values (``--json`` output)."""
        return {
            "benchmark": self.id,
            "suite": self.suite,
            "started_at": self.started_at,
            "quality": self.quality,
            "synthetic_data": self.synthetic_data,
            "models": [m.summary() for m in self.models],
        }

    @property
    def quality(self) -> str:
        return "measured" if all(m.quality == "measured" for m in self.models) else "estimated"


@dataclass(frozen=True)
class BenchmarkSummary:
    """One line of the benchmark listing."""

    id: str
    suite: str
    started_at: float
    models: tuple[str, ...]
    energy_j: float
    status: str


def list_benchmarks(store: Store) -> list[BenchmarkSummary]:
    """Stored benchmarks, newest first."""
    store.sync()
    out = []
    for bench, runs in runs_by_label(store, "benchmark").items():
        statuses = {r.status for r in runs}
        out.append(
            BenchmarkSummary(
                id=bench,
                suite=runs[0].labels.get("suite", "?"),
                started_at=runs[0].started_at,
                models=tuple(r.labels.get("model", r.name) for r in runs),
                energy_j=sum(r.energy_j for r in runs),
                status=statuses.pop() if len(statuses) == 1 else "mixed",
            )
        )
    return sorted(out, key=lambda b: b.started_at, reverse=True)


def load_benchmark(store: Store, ref: str = "latest") -> Benchmark:
    """The benchmark ``ref`` names: its id, a unique prefix of it, or ``latest``."""
    store.sync()
    found = runs_by_label(store, "benchmark")
    bench = pick_group(found, ref, "benchmark", "run `wattprint bench` first")
    runs = found[bench]
    return Benchmark(
        id=bench,
        suite=runs[0].labels.get("suite", "?"),
        started_at=runs[0].started_at,
        models=tuple(_model_result(store, store.get_run(r.run_id)) for r in runs),
    )


def _model_result(store: Store, detail: RunDetail) -> ModelResult:
    from wattprint.analysis.curves import epoch_points

    labels = dict(detail.labels)
    ratios = component_ratios(detail)
    windows = store.windows(detail.run_id)
    points = tuple(epoch_points(store, detail.run_id, EPOCH_WINDOW))
    last = last_values(store, detail.run_id)
    train, train_s, _ = window_energy(windows, EPOCH_WINDOW, ratios)
    inference, inference_s, _ = window_energy(windows, BATCH_WINDOW, ratios)
    metric = labels.get("metric", "quality")

    def count(name: str) -> int | None:
        return int(last[name]) if name in last else None

    return ModelResult(
        run_id=detail.run_id,
        run_name=detail.name,
        model=labels.get("model", detail.name),
        family=labels.get("family", "?"),
        task=labels.get("task", ""),
        dataset=labels.get("dataset", "?"),
        synthetic_data=labels.get("data") != "real",
        data_reason=labels.get("data_reason", "not recorded"),
        device=labels.get("device", "?"),
        device_name=labels.get("device_name", "?"),
        amp=labels.get("amp") == "true",
        batch_size=int(labels.get("batch_size", "0")),
        labels=labels,
        quality=detail.quality,
        components=tuple(detail.components),
        status=detail.status,
        error=detail.error,
        params=count("params"),
        flops_per_sample=last.get("flops_per_sample"),
        epochs=points,
        train_samples=count("train_samples"),
        train_energy=train,
        train_duration_s=train_s,
        inference_samples=count("inference_samples") or 0,
        inference_energy=inference,
        inference_duration_s=inference_s,
        latency_p50_s=last.get("latency_p50_s"),
        latency_p95_s=last.get("latency_p95_s"),
        metric=metric,
        higher_is_better=labels.get("higher_is_better", "true") == "true",
        final_quality=last.get(f"test_{metric}"),
        run_energy=Energy(detail.energy_j, detail.energy_low_j, detail.energy_high_j),
    )
