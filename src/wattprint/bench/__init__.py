"""Benchmark suite: model zoo, datasets with synthetic stand-ins, the train + inference
runner, the suites and scaling experiments, and stored results.

Imports lazily: ``wattprint.bench.results`` (reading stored benchmarks) needs no PyTorch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "BenchOptions",
    "Benchmark",
    "DataInfo",
    "ModelResult",
    "ModelSpec",
    "cifar10",
    "get",
    "librispeech",
    "list_benchmarks",
    "load_benchmark",
    "names",
    "run_model",
    "specs",
    "tokens",
]

if TYPE_CHECKING:
    from wattprint.bench.data import DataInfo, cifar10, librispeech, tokens
    from wattprint.bench.results import Benchmark, ModelResult, list_benchmarks, load_benchmark
    from wattprint.bench.runner import BenchOptions, run_model
    from wattprint.bench.zoo import ModelSpec, get, names, specs

_LAZY = {
    **dict.fromkeys(("DataInfo", "cifar10", "librispeech", "tokens"), "wattprint.bench.data"),
    **dict.fromkeys(
        ("Benchmark", "ModelResult", "list_benchmarks", "load_benchmark"),
        "wattprint.bench.results",
    ),
    **dict.fromkeys(("BenchOptions", "run_model"), "wattprint.bench.runner"),
    **dict.fromkeys(("ModelSpec", "get", "names", "specs"), "wattprint.bench.zoo"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wattprint.bench' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
