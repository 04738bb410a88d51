"""A real stored benchmark for the benchmark report and plot tests.

Built once per test module by the real runner (two tiny NLP models trained and served
under the tracker, on synthetic tokens) plus a third run of the same benchmark that
fails inside the tracker, all in a temporary SQLite store. The energy sources are the
CPU and RAM models, so the energy is estimated (with a range) on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from wattprint.bench.results import Benchmark, load_benchmark
from wattprint.config import Settings
from wattprint.store.repository import Store

MODELS = ("distilbert", "gpt2")
FAILED = "broken"
FAILURE = "RuntimeError: out of memory (raised by the test)"


@dataclass(frozen=True)
class StoredBenchmark:
    store: Store
    benchmark: Benchmark
    folder: Path


def store_benchmark(folder: Path) -> StoredBenchmark:
    """Run ``MODELS`` with the real runner, then a run labelled with the same benchmark
    that raises inside ``Tracker``; returns the store and the benchmark read back."""
    from wattprint.bench import zoo
    from wattprint.bench.runner import BenchOptions, new_benchmark_id, run_model
    from wattprint.tracking.tracker import Tracker

    settings = Settings(dir=folder, project="bench", sources=("cpu-model", "ram-model"))
    options = BenchOptions(
        size="tiny", epochs=2, train_size=64, test_size=48, eval_size=16, batch_size=16
    )
    bench = new_benchmark_id("nlp")
    for name in MODELS:
        run_model(zoo.get(name), options, settings=settings, benchmark=bench, suite="nlp")
    store = Store.from_settings(settings)
    labels = {**load_benchmark(store, bench).models[-1].labels, "model": FAILED}
    with (
        pytest.raises(RuntimeError),
        Tracker(settings.model_copy(update={"run": f"{bench}/{FAILED}"}), labels=labels),
    ):
        raise RuntimeError(FAILURE.split(": ", 1)[1])
    return StoredBenchmark(store, load_benchmark(store, bench), folder)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> StoredBenchmark:
    """One benchmark per test module: ``MODELS`` finished, ``FAILED`` failed."""
    return store_benchmark(tmp_path_factory.mktemp("bench-data"))
