"""Tracked inference: one measurement window per batch, warm-up batches kept apart.

The benchmark runner and the compression lab measure serving cost the same way: the
model runs batch by batch under ``torch.inference_mode``; each batch (fetched from the
loader, copied to the device and run forward, with the device synchronised before the
window closes; fetching is inside, as it is inside a training epoch, so that θ compares
like with like) is one window named ``inference_batch``. Before them the first batch is
run ``warmup`` times more in windows named ``inference_warmup``, counted in no figure
(lazy initialisation, allocator growth and kernel selection are not the steady-state
cost). The quality metric is computed outside the windows.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from wattprint.bench.windows import BATCH_WINDOW, INFERENCE_WINDOW, WARMUP_WINDOW
from wattprint.tracking.tracker import Tracker

__all__ = [
    "InferenceStats",
    "autocast",
    "batch_size_of",
    "measure_inference",
    "synchronize",
    "to_device",
]


Batch = dict[str, Tensor]


class Batches(Protocol):
    """What yields the batches: a ``DataLoader``, a list; its length is the batch count,
    so that fetching the next batch can happen inside that batch's window."""

    def __iter__(self) -> Iterator[Batch]: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class InferenceStats:
    """Steady-state inference over every batch of a dataset (the warm-up passes before
    it are in no figure but ``warmup_samples``)."""

    batches: int
    samples: int
    warmup_samples: int
    energy_j: float
    energy_low_j: float
    energy_high_j: float
    duration_s: float
    latencies_s: tuple[float, ...]  # per measured batch
    quality: float | None  # the metric over all samples, when a scorer was given
    measured: bool  # every component behind ``energy_j`` was measured, not estimated

    @property
    def energy_per_sample_j(self) -> float | None:
        return self.energy_j / self.samples if self.samples else None

    @property
    def samples_per_s(self) -> float | None:
        return self.samples / self.duration_s if self.duration_s > 0 else None

    @property
    def latency_p50_s(self) -> float | None:
        return _percentile(self.latencies_s, 50)

    @property
    def latency_p95_s(self) -> float | None:
        return _percentile(self.latencies_s, 95)


def _percentile(values: tuple[float, ...], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def to_device(batch: Batch, device: torch.device) -> Batch:
    """The batch with every tensor on ``device`` (asynchronous copies where possible)."""
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def batch_size_of(batch: Batch) -> int:
    """Number of samples in a batch: the first dimension of its first tensor."""
    return int(next(iter(batch.values())).shape[0])


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels so a window's end is the work's end (CUDA only)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager[Any]:
    """Mixed precision as PyTorch recommends per device: float16 on CUDA, bfloat16 on CPU."""
    if not enabled:
        return contextlib.nullcontext()
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    return torch.autocast(device_type=device.type, dtype=dtype)


def measure_inference(
    tracker: Tracker,
    model: nn.Module,
    batches: Batches,
    forward: Callable[[nn.Module, Batch], Any],
    *,
    device: torch.device,
    score: Callable[[Any, Batch], float] | None = None,
    warmup: int = 1,
    amp: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> InferenceStats:
    """Run ``model`` over ``batches`` inside an ``inference`` window, one window per batch.

    ``forward(model, batch)`` is what is metered; ``score(outputs, batch)`` (optional) is
    averaged over samples outside the windows. ``on_batch(n)`` is called after each batch
    with its sample count (progress bars).
    """
    if warmup < 0:
        raise ValueError(f"warmup={warmup!r}: must be >= 0")
    was_training = model.training
    model.eval()
    samples = warm_samples = 0
    energy = low = high = duration = 0.0
    latencies: list[float] = []
    measured = True
    scored = 0.0
    try:
        with tracker.window(INFERENCE_WINDOW), torch.inference_mode():
            if len(batches) and warmup:
                first = to_device(next(iter(batches)), device)
                for _ in range(warmup):
                    with tracker.window(WARMUP_WINDOW), autocast(device, amp):
                        forward(model, first)
                        synchronize(device)
                warm_samples = batch_size_of(first) * warmup
            iterator = iter(batches)
            for _ in range(len(batches)):
                tracker.begin_window(BATCH_WINDOW)
                batch = next(iterator)
                on_device = to_device(batch, device)
                with autocast(device, amp):
                    outputs = forward(model, on_device)
                synchronize(device)
                m = tracker.end_window(BATCH_WINDOW)
                n = batch_size_of(batch)
                samples += n
                energy += m.total_energy_j
                low += m.total_low_j
                high += m.total_high_j
                duration += m.duration_s
                latencies.append(m.duration_s)
                measured = measured and m.quality == "measured"
                if score is not None:
                    scored += score(outputs, on_device) * n
                if on_batch is not None:
                    on_batch(n)
    finally:
        model.train(was_training)
    return InferenceStats(
        batches=len(latencies),
        samples=samples,
        warmup_samples=warm_samples,
        energy_j=energy,
        energy_low_j=low,
        energy_high_j=high,
        duration_s=duration,
        latencies_s=tuple(latencies),
        quality=scored / samples if score is not None and samples else None,
        measured=measured and samples > 0,
    )
