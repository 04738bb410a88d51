"""The scaling experiments (after Gitzel et al.): how training energy grows with depth,
width, layer type, data and epochs, and what training costs over plain inference.

Every experiment is a set of ordinary benchmark runs (``wattprint.bench.runner``) of small
CIFAR-10 models, labelled ``experiment`` / ``variable`` / ``value``:

* ``deep_vs_wide``: MLPs of depth 1, 2, 4, 8 whose width is chosen so that all have the
  same parameter count (on the image average-pooled to 8x8, so that the parameters sit
  in the hidden layers);
* ``dense_vs_conv``: an MLP and a CNN of the same parameter count;
* ``data_size``: one MLP trained on a quarter, half, three quarters and all of the data;
* ``epochs``: the same MLP trained for 1, 2, 3 (and 4) epochs;
* ``pretrained``: fine-tuning a zoo model from local pretrained weights against training
  it from scratch, when such weights exist on this machine (never downloaded).

``wattprint.bench.linearity`` fits and reports the results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from torch import nn

from wattprint.bench import zoo
from wattprint.bench.runner import BenchOptions, ModelRun, Progress, new_benchmark_id, run_model
from wattprint.bench.suites import SuiteOutcome
from wattprint.config import Settings

__all__ = [
    "ScalingPlan",
    "cnn",
    "cnn_params",
    "match_params",
    "mlp",
    "mlp_params",
    "run_scaling",
    "scaling_plan",
]

_INPUT = 3 * 32 * 32
_CLASSES = 10
#: The deep-vs-wide MLPs see the image pooled to 3x8x8, so that their parameters sit in
#: the hidden layers (at full resolution the input layer would hold nearly all of them
#: and every depth would get the same width).
_DEEP_WIDE_POOL = 4


def mlp_params(depth: int, width: int, pool: int = 1, classes: int = _CLASSES) -> int:
    """Parameters of :func:`mlp`: ``depth`` hidden layers of ``width`` units."""
    inputs = _INPUT // (pool * pool)
    hidden = (depth - 1) * (width * width + width)
    return inputs * width + width + hidden + width * classes + classes


def mlp(depth: int, width: int, pool: int = 1, classes: int = _CLASSES) -> nn.Module:
    """Average-pool the image by ``pool`` (1: not at all), flatten, ``depth`` x (Linear
    ``width`` + ReLU), Linear to the classes."""
    layers: list[nn.Module] = [nn.AvgPool2d(pool)] if pool > 1 else []
    layers.append(nn.Flatten())
    fan_in = _INPUT // (pool * pool)
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), nn.ReLU()]
        fan_in = width
    layers.append(nn.Linear(fan_in, classes))
    return nn.Sequential(*layers)


def cnn_params(channels: int, classes: int = _CLASSES) -> int:
    """Parameters of :func:`cnn` with base width ``channels``."""
    c = channels
    return (
        (27 * c + c)
        + (9 * c * 2 * c + 2 * c)
        + (9 * 2 * c * 4 * c + 4 * c)
        + 4 * c * classes
        + classes
    )


def cnn(channels: int, classes: int = _CLASSES) -> nn.Module:
    """Three 3x3 conv blocks (c, 2c, 4c channels) with pooling, global average pool, Linear."""
    c = channels
    return nn.Sequential(
        nn.Conv2d(3, c, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(c, 2 * c, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(2 * c, 4 * c, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4 * c, classes),
    )


def match_params(count: Callable[[int], int], target: int) -> int:
    """The size argument (≥ 1) whose parameter count ``count(k)`` is closest to ``target``
    (``count`` must grow with ``k``)."""
    k = 1
    while count(k + 1) <= target:
        k += 1
    return k + 1 if abs(count(k + 1) - target) < abs(count(k) - target) else k


@dataclass(frozen=True)
class ScalingPlan:
    """What the scaling suite runs."""

    params: int  # parameter budget of the equal-size comparisons
    depths: tuple[int, ...]
    dense_depth: int  # depth of the MLP set against the CNN
    train_sizes: tuple[int, ...]
    epochs: tuple[int, ...]


def scaling_plan(options: BenchOptions, quick: bool = False) -> ScalingPlan:
    """The default plan: 200k-parameter models, data at ¼…1 of ``train_size`` (10,000 by
    default), 1-4 epochs; ``quick``: 50k parameters and 1-3 epochs."""
    n = options.train_size or 10_000
    return ScalingPlan(
        params=50_000 if quick else 200_000,
        depths=(1, 2, 4, 8),
        dense_depth=2,
        train_sizes=tuple(sorted({max(1, n * k // 4) for k in (1, 2, 3, 4)})),
        epochs=(1, 2, 3) if quick else (1, 2, 3, 4),
    )


def _mlp_spec(depth: int, params: int, pool: int = 1) -> zoo.ModelSpec:
    width = match_params(lambda w: mlp_params(depth, w, pool), params)
    name = f"mlp_d{depth}_w{width}" + (f"_pool{pool}" if pool > 1 else "")
    return zoo.image_classifier_spec(name, lambda size, classes: mlp(depth, width, pool, classes))


def _cnn_spec(params: int) -> zoo.ModelSpec:
    channels = match_params(cnn_params, params)
    return zoo.image_classifier_spec(
        f"cnn_c{channels}", lambda size, classes: cnn(channels, classes)
    )


def _jobs(
    plan: ScalingPlan, options: BenchOptions
) -> list[tuple[zoo.ModelSpec, BenchOptions, dict[str, str]]]:
    """Every run of the plan: (model, options, labels)."""
    base = replace(options, train_size=max(plan.train_sizes))
    jobs: list[tuple[zoo.ModelSpec, BenchOptions, dict[str, str]]] = []
    for depth in plan.depths:
        labels = {"experiment": "deep_vs_wide", "variable": "depth", "value": str(depth)}
        jobs.append((_mlp_spec(depth, plan.params, _DEEP_WIDE_POOL), base, labels))
    for layer, spec in (
        ("dense", _mlp_spec(plan.dense_depth, plan.params)),
        ("conv", _cnn_spec(plan.params)),
    ):
        jobs.append(
            (spec, base, {"experiment": "dense_vs_conv", "variable": "layer", "value": layer})
        )
    sweep = _mlp_spec(plan.dense_depth, plan.params)
    for n in plan.train_sizes:
        labels = {"experiment": "data_size", "variable": "train_size", "value": str(n)}
        jobs.append((sweep, replace(options, train_size=n), labels))
    for epochs in plan.epochs:
        labels = {"experiment": "epochs", "variable": "epochs", "value": str(epochs)}
        jobs.append((sweep, replace(base, epochs=epochs), labels))
    return jobs


def _pretrained_jobs(
    options: BenchOptions, candidates: Sequence[str]
) -> tuple[list[tuple[zoo.ModelSpec, BenchOptions, dict[str, str]]], str | None]:
    """Pretrained vs scratch for the first candidate whose weights are on this machine,
    or the note saying why the experiment was skipped."""
    looked: list[str] = []
    for name in candidates:
        path = zoo.local_weights_path(name)
        if path.is_file():
            spec = zoo.get(name)
            return [
                (
                    spec,
                    replace(options, pretrained=init == "pretrained", size="full"),
                    {"experiment": "pretrained", "variable": "init", "value": init},
                )
                for init in ("pretrained", "scratch")
            ], None
        looked.append(str(path))
    return [], (
        "pretrained vs scratch skipped: no local torchvision weights (nothing is downloaded); "
        f"looked for {', '.join(looked)}"
    )


def run_scaling(
    options: BenchOptions,
    *,
    settings: Settings,
    quick: bool = False,
    progress: Progress | None = None,
    pretrained_models: Sequence[str] = ("mobilenet_v2", "resnet50"),
) -> SuiteOutcome:
    """Run every scaling experiment as one benchmark (suite ``scaling``)."""
    progress = progress or Progress()
    plan = scaling_plan(options, quick)
    jobs = _jobs(plan, options)
    extra, note = _pretrained_jobs(
        replace(options, train_size=max(plan.train_sizes)), pretrained_models
    )
    jobs += extra
    if note:
        progress.message(note)
    benchmark = new_benchmark_id("scaling")
    runs: list[ModelRun] = []
    for spec, opts, labels in jobs:
        opts = replace(opts, labels={**opts.labels, **labels})
        runs.append(
            run_model(
                spec,
                opts,
                settings=settings,
                benchmark=benchmark,
                suite="scaling",
                progress=progress,
            )
        )
    return SuiteOutcome(benchmark, "scaling", tuple(runs), (), (note,) if note else ())
