"""Benchmark suite: model zoo and datasets (offline, with synthetic stand-ins)."""

from wattprint.bench.data import DataInfo, cifar10, librispeech, tokens
from wattprint.bench.zoo import ModelSpec, get, names, specs

__all__ = ["DataInfo", "ModelSpec", "cifar10", "get", "librispeech", "names", "specs", "tokens"]
