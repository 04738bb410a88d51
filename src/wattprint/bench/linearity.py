"""What the scaling experiments show: straight-line fits of training energy against
epochs and against samples, the equal-size comparisons, and the training overhead.

Reads a stored ``scaling`` benchmark (``wattprint.bench.results``); needs no PyTorch.
A fit reports its slope, intercept and R² (1 is a perfect line); the slope of energy
against epochs is the energy of one more epoch, the intercept what a run costs besides.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from wattprint.bench.results import Benchmark, ModelResult
from wattprint.errors import ConfigError

__all__ = ["EXPERIMENTS", "LinearFit", "ScalingAnalysis", "analyse_scaling", "fit_line"]

EXPERIMENTS: tuple[str, ...] = (
    "deep_vs_wide",
    "dense_vs_conv",
    "data_size",
    "epochs",
    "pretrained",
)


@dataclass(frozen=True)
class LinearFit:
    """``y ≈ slope·x + intercept`` over ``n`` points, with its coefficient of determination."""

    x: str
    y: str
    slope: float
    intercept: float
    r2: float
    n: int


def fit_line(
    x_name: str, y_name: str, xs: Sequence[float], ys: Sequence[float]
) -> LinearFit | None:
    """Least-squares line through the points; ``None`` with fewer than two distinct xs."""
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} xs for {len(ys)} ys")
    if len(set(xs)) < 2:
        return None
    slope, intercept = statistics.linear_regression(xs, ys)
    mean = statistics.fmean(ys)
    total = sum((y - mean) ** 2 for y in ys)
    residual = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys, strict=True))
    r2 = 1.0 - residual / total if total > 0 else 1.0
    return LinearFit(x_name, y_name, slope, intercept, r2, len(xs))


@dataclass(frozen=True)
class ScalingAnalysis:
    """The scaling benchmark, experiment by experiment (runs sorted by their variable)."""

    benchmark: Benchmark
    experiments: dict[str, tuple[ModelResult, ...]]
    epochs_fit: LinearFit | None  # training energy (J) vs epochs
    samples_fit: LinearFit | None  # training energy (J) vs samples seen (size x epochs)

    def runs(self, experiment: str) -> tuple[ModelResult, ...]:
        return self.experiments.get(experiment, ())

    @property
    def overhead(self) -> tuple[ModelResult, ...]:
        """Every run with a θ, for the training-overhead table."""
        return tuple(m for ms in self.experiments.values() for m in ms if m.theta is not None)


def _value(m: ModelResult) -> float:
    try:
        return float(m.labels.get("value", "nan"))
    except ValueError:
        return 0.0  # categorical values (layer, init) keep their run order


def _points(runs: Sequence[ModelResult], x: str) -> tuple[list[float], list[float]]:
    xs: list[float] = []
    ys: list[float] = []
    for m in runs:
        if m.train_energy is None or m.train_samples is None:
            continue
        seen = m.train_samples * len(m.epochs)
        xs.append(float(len(m.epochs)) if x == "epochs" else float(seen))
        ys.append(m.train_energy.j)
    return xs, ys


def analyse_scaling(benchmark: Benchmark) -> ScalingAnalysis:
    """Group a scaling benchmark's runs by experiment and fit the two sweeps."""
    if benchmark.suite != "scaling":
        raise ConfigError(f"benchmark {benchmark.id} is a {benchmark.suite!r} suite, not 'scaling'")
    grouped: dict[str, list[ModelResult]] = {}
    for m in benchmark.models:
        if m.status == "finished":
            grouped.setdefault(m.labels.get("experiment", "other"), []).append(m)
    experiments = {k: tuple(sorted(v, key=_value)) for k, v in grouped.items()}
    epochs = _points(experiments.get("epochs", ()), "epochs")
    samples = _points(experiments.get("data_size", ()) + experiments.get("epochs", ()), "samples")
    return ScalingAnalysis(
        benchmark=benchmark,
        experiments=experiments,
        epochs_fit=fit_line("epochs", "training energy (J)", *epochs),
        samples_fit=fit_line("samples seen", "training energy (J)", *samples),
    )
