"""Small models and options that make benchmark tests take well under a second a run."""

from __future__ import annotations

from torch import nn

from wattprint.bench import zoo
from wattprint.bench.runner import BenchOptions


def tiny_mlp_spec(name: str = "tiny_mlp") -> zoo.ModelSpec:
    """A CIFAR-10 classifier small enough to train on 64 images in milliseconds."""
    return zoo.image_classifier_spec(
        name,
        lambda size, classes: nn.Sequential(
            nn.AvgPool2d(8), nn.Flatten(), nn.Linear(48, 16), nn.ReLU(), nn.Linear(16, classes)
        ),
    )


def tiny_options(**changes: object) -> BenchOptions:
    base: dict[str, object] = {
        "epochs": 2,
        "batch_size": 16,
        "train_size": 64,
        "test_size": 40,
        "eval_size": 16,
        "size": "tiny",
    }
    base.update(changes)
    return BenchOptions(**base)  # type: ignore[arg-type]
