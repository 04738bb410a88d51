"""Train and serve one benchmark model under the tracker.

For each model: count its parameters and forward FLOPs per sample, warm up with one
forward and backward pass (a ``train_warmup`` window, no update), train for N epochs
(one ``epoch`` window each, then an ``eval`` window scoring a slice of the test split),
then run inference over the whole test split (``wattprint.bench.inference``). Everything
lands in one run whose labels say which benchmark, model, dataset and settings it
belongs to; ``wattprint.bench.results`` reads it back. The figures derived from the run
(θ, energy per sample, …) are computed from the stored windows, never here.
"""

from __future__ import annotations

import math
import platform
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from wattprint.bench.inference import (
    autocast,
    batch_size_of,
    measure_inference,
    synchronize,
    to_device,
)
from wattprint.bench.windows import EPOCH_WINDOW, EVAL_WINDOW, TRAIN_WARMUP_WINDOW
from wattprint.bench.zoo import SIZES, Batch, ModelSpec
from wattprint.config import Settings
from wattprint.errors import ConfigError
from wattprint.tracking.tracker import Tracker

__all__ = [
    "BenchOptions",
    "ModelRun",
    "Progress",
    "count_parameters",
    "device_name",
    "flops_per_sample",
    "make_loader",
    "model_labels",
    "new_benchmark_id",
    "resolve_device",
    "run_model",
    "train_one_epoch",
    "warm_up",
]

#: Samples used to count FLOPs (one small batch is enough: the count is per sample).
_FLOP_SAMPLES = 4


class Progress:
    """What the runner reports while it works; the CLI draws Rich progress bars from it.
    The default does nothing, so library users get no output they did not ask for."""

    def start_model(self, name: str) -> None:
        """Work on the model ``name`` starts."""

    def phase(self, description: str, total: int) -> None:
        """A new phase of ``total`` samples starts (training epoch, eval, inference)."""

    def advance(self, samples: int) -> None:
        """``samples`` more samples are done in the current phase."""

    def message(self, text: str) -> None:
        """A line worth showing (a skipped model, a fallback taken)."""


@dataclass(frozen=True)
class BenchOptions:
    """How to run each model of a benchmark."""

    epochs: int = 1
    batch_size: int = 64
    device: str = "cpu"
    amp: bool = False
    size: str = "full"
    train_size: int | None = None
    test_size: int | None = None
    eval_size: int = 512  # test samples scored after each epoch; 0: none
    data_root: Path | None = None
    lr: float = 1e-3
    seed: int = 0
    warmup_batches: int = 1
    num_workers: int = 0
    pretrained: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)  # added to every run's labels

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name}={value!r}: accepted: an integer >= 1")
        for name in ("eval_size", "warmup_batches", "num_workers", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name}={value!r}: accepted: an integer >= 0")
        for name in ("train_size", "test_size"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"{name}={value!r}: accepted: an integer >= 1, or None")
        if self.size not in SIZES:
            raise ConfigError(f"size={self.size!r}: accepted: {', '.join(SIZES)}")
        if not (isinstance(self.lr, float | int) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"lr={self.lr!r}: accepted: a positive number")
        resolve_device(self.device)


@dataclass(frozen=True)
class ModelRun:
    """What ``run_model`` did: the stored run, and a few figures for progress lines."""

    run_id: str
    run_name: str
    model: str
    energy_j: float
    duration_s: float
    synthetic_data: bool


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda`` or ``cuda:N``, checked against what this machine has."""
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device={name!r}: accepted: cpu, cuda, cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"device={name!r}: accepted: cpu, cuda, cuda:N")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device={name!r}: this PyTorch sees no CUDA device; use cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(
                f"device={name!r}: only {torch.cuda.device_count()} CUDA device(s) visible"
            )
    return device


def new_benchmark_id(suite: str) -> str:
    """A readable, unique benchmark id: ``<suite>-YYYYmmdd-HHMMSS-<6 hex>``."""
    return f"{suite}-{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (shared tensors, such as tied embeddings, counted once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def flops_per_sample(spec: ModelSpec, model: nn.Module, batch: Batch) -> float | None:
    """Forward FLOPs per sample, counted by ``torch.utils.flop_counter`` (matmuls,
    convolutions, attention; not element-wise ops nor FFTs). ``None`` if it cannot count."""
    from torch.utils.flop_counter import FlopCounterMode

    n = min(batch_size_of(batch), _FLOP_SAMPLES)
    small = {k: v[:n] for k, v in batch.items()}
    was_training = model.training
    model.eval()
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            spec.forward(model, small)
        total = counter.get_total_flops()
    except Exception:  # an op the counter cannot trace: report no count
        return None
    finally:
        model.train(was_training)
    return float(total) / n if total else None


def make_loader(
    spec: ModelSpec,
    dataset: Dataset[Any],
    options: BenchOptions,
    *,
    shuffle: bool,
    size: int | None = None,
) -> DataLoader[Any]:
    if size is not None and size < len(dataset):  # type: ignore[arg-type]
        dataset = Subset(dataset, range(size))
    generator = torch.Generator().manual_seed(options.seed)
    return DataLoader(
        dataset,
        batch_size=options.batch_size,
        shuffle=shuffle,
        collate_fn=spec.collate,
        num_workers=options.num_workers,
        generator=generator,
        pin_memory=options.device.startswith("cuda"),
    )


def model_labels(spec: ModelSpec, data: Any) -> dict[str, str]:
    """The labels that say which model ran on which data (and whether it was synthetic)."""
    return {
        "model": spec.name,
        "family": spec.family,
        "task": spec.task,
        "dataset": data.name,
        "data": "synthetic" if data.synthetic else "real",
        "data_reason": data.reason,
    }


def _labels(
    spec: ModelSpec,
    options: BenchOptions,
    benchmark: str,
    suite: str,
    data: Any,
) -> dict[str, str]:
    return {
        "benchmark": benchmark,
        "suite": suite,
        **model_labels(spec, data),
        "metric": spec.metric,
        "higher_is_better": "true" if spec.higher_is_better else "false",
        "device": options.device,
        "device_name": device_name(resolve_device(options.device)),
        "amp": "true" if options.amp else "false",
        "size": options.size,
        "pretrained": "true" if options.pretrained else "false",
        "batch_size": str(options.batch_size),
        "epochs": str(options.epochs),
        "torch": torch.__version__,
        **options.labels,
    }


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return str(torch.cuda.get_device_name(device))
    return platform.processor() or platform.machine() or "cpu"


def run_model(
    spec: ModelSpec,
    options: BenchOptions,
    *,
    settings: Settings,
    benchmark: str,
    suite: str,
    progress: Progress | None = None,
) -> ModelRun:
    """Train ``spec`` for ``options.epochs`` and serve its test split, in one tracked run."""
    progress = progress or Progress()
    progress.start_model(spec.name)
    device = resolve_device(options.device)
    torch.manual_seed(options.seed)
    train, test, data = spec.load_data(
        options.data_root,
        train_size=options.train_size,
        test_size=options.test_size,
        seed=options.seed,
    )
    model = spec.build(options.size, pretrained=options.pretrained)  # config errors: no run
    train_loader = make_loader(spec, train, options, shuffle=True)
    test_loader = make_loader(spec, test, options, shuffle=False)
    eval_loader = make_loader(spec, test, options, shuffle=False, size=options.eval_size)
    n_train, n_test = len(train), len(test)  # type: ignore[arg-type]
    run_settings = settings.model_copy(update={"run": f"{benchmark}/{spec.name}"})
    started = time.time()
    with Tracker(run_settings, labels=_labels(spec, options, benchmark, suite, data)) as tracker:
        model = model.to(device)  # from here on a failure (out of memory, …) is a failed run
        flops = flops_per_sample(spec, model, to_device(next(iter(test_loader)), device))
        optimizer = torch.optim.AdamW(model.parameters(), lr=options.lr)
        scaler = torch.amp.GradScaler("cuda", enabled=options.amp and device.type == "cuda")
        values: dict[str, float] = {
            "params": count_parameters(model),
            "train_samples": n_train,
            "test_samples": n_test,
        }
        if flops is not None:
            values["flops_per_sample"] = flops
        tracker.log(step=None, **values)
        with tracker.window(TRAIN_WARMUP_WINDOW):
            warm_up(spec, model, next(iter(train_loader)), device, options.amp)
        for epoch in range(1, options.epochs + 1):
            progress.phase(f"{spec.name}: epoch {epoch}/{options.epochs}", n_train)
            with tracker.window(EPOCH_WINDOW):
                loss = train_one_epoch(
                    spec,
                    model,
                    train_loader,
                    optimizer,
                    device,
                    amp=options.amp,
                    scaler=scaler,
                    progress=progress,
                )
            tracker.log(step=epoch, train_loss=loss)
            if options.eval_size:
                with tracker.window(EVAL_WINDOW):
                    quality = _evaluate(spec, model, eval_loader, device, options, progress, epoch)
                tracker.log(step=epoch, **{spec.metric: quality})
        progress.phase(f"{spec.name}: inference", n_test)
        stats = measure_inference(
            tracker,
            model,
            test_loader,
            spec.forward,
            device=device,
            score=spec.score,
            warmup=options.warmup_batches,
            amp=options.amp,
            on_batch=progress.advance,
        )
        final: dict[str, float] = {
            "inference_samples": stats.samples,
            "inference_warmup_samples": stats.warmup_samples,
        }
        if stats.quality is not None:
            final[f"test_{spec.metric}"] = stats.quality
        if stats.latency_p50_s is not None and stats.latency_p95_s is not None:
            final["latency_p50_s"] = stats.latency_p50_s
            final["latency_p95_s"] = stats.latency_p95_s
        tracker.log(step=None, **final)
    result = tracker.result
    return ModelRun(
        run_id=tracker.run_id,
        run_name=tracker.run_name,
        model=spec.name,
        energy_j=result.total_energy_j if result is not None else math.nan,
        duration_s=result.duration_s if result is not None else time.time() - started,
        synthetic_data=data.synthetic,
    )


def train_one_epoch(
    spec: ModelSpec,
    model: nn.Module,
    loader: DataLoader[Any],
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    *,
    amp: bool = False,
    scaler: torch.amp.GradScaler | None = None,
    progress: Progress | None = None,
    after_backward: Callable[[], None] | None = None,
    after_step: Callable[[], None] | None = None,
) -> float:
    """One pass over ``loader`` (the caller opens the window); returns the mean loss.
    ``after_backward``/``after_step`` let a caller touch gradients and weights (the
    compression lab keeps pruned weights at zero with them)."""
    scaler = scaler or torch.amp.GradScaler("cuda", enabled=False)
    loss_sum, seen = 0.0, 0
    model.train()
    for batch in loader:
        on_device = to_device(batch, device)
        optimizer.zero_grad(set_to_none=True)
        with autocast(device, amp):
            loss = spec.loss(model, on_device)
        scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
        if after_backward is not None:
            after_backward()
        scaler.step(optimizer)
        scaler.update()
        if after_step is not None:
            after_step()
        n = batch_size_of(batch)
        loss_sum += float(loss.detach()) * n
        seen += n
        if progress is not None:
            progress.advance(n)
    synchronize(device)
    return loss_sum / max(seen, 1)


def warm_up(
    spec: ModelSpec, model: nn.Module, batch: Batch, device: torch.device, amp: bool
) -> None:
    """One forward and backward pass, no update: lazy imports, allocator growth and kernel
    selection happen here, in their own window, not in the first epoch."""
    model.train()
    with autocast(device, amp):
        loss = spec.loss(model, to_device(batch, device))
    loss.backward()  # type: ignore[no-untyped-call]
    model.zero_grad(set_to_none=True)
    synchronize(device)


def _evaluate(
    spec: ModelSpec,
    model: nn.Module,
    loader: DataLoader[Any],
    device: torch.device,
    options: BenchOptions,
    progress: Progress,
    epoch: int,
) -> float:
    """The metric over ``loader`` (a slice of the test split), sample-weighted."""
    progress.phase(f"{spec.name}: eval {epoch}/{options.epochs}", len(loader.dataset))  # type: ignore[arg-type]
    total, seen = 0.0, 0
    model.eval()
    try:
        with torch.inference_mode():
            for batch in loader:
                on_device = to_device(batch, device)
                with autocast(device, options.amp):
                    outputs = spec.forward(model, on_device)
                n = batch_size_of(batch)
                total += spec.score(outputs, on_device) * n
                seen += n
                progress.advance(n)
    finally:
        model.train()
    return total / max(seen, 1)
