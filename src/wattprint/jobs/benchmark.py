"""A benchmark job's payload run through ``wattprint.bench`` (imports PyTorch)."""

from __future__ import annotations

from wattprint.bench.runner import BenchOptions, Progress
from wattprint.bench.scaling import run_scaling
from wattprint.bench.suites import SuiteOutcome, run_suite, suite_options
from wattprint.config import Settings
from wattprint.jobs.spec import BenchJob

__all__ = ["PrintProgress", "bench_options", "run_bench"]


def bench_options(bench: BenchJob, labels: dict[str, str]) -> BenchOptions:
    """The runner's options for ``bench``, as ``wattprint bench`` builds them;
    ``labels`` go on every run."""
    return suite_options(
        device=bench.device,
        data_root=bench.data_root,
        quick=bench.quick,
        amp=bench.amp,
        pretrained=bench.pretrained,
        labels=labels,
        **bench.model_dump(include={"epochs", "batch_size", "size", "train_size", "test_size"}),
    )


def run_bench(bench: BenchJob, settings: Settings, labels: dict[str, str]) -> SuiteOutcome:
    """Run the suite (or the scaling experiments) with progress lines on stdout."""
    options = bench_options(bench, labels)
    progress = PrintProgress()
    if bench.suite == "scaling":
        return run_scaling(options, settings=settings, quick=bench.quick, progress=progress)
    return run_suite(
        bench.suite, options, settings=settings, models=bench.models, progress=progress
    )


class PrintProgress(Progress):
    """Benchmark progress as plain lines (a job's log is a file, not a terminal)."""

    def start_model(self, name: str) -> None:
        print(f"model {name}", flush=True)

    def phase(self, description: str, total: int) -> None:
        print(f"{description} ({total} samples)", flush=True)

    def message(self, text: str) -> None:
        print(text, flush=True)
