"""The benchmark suites: which models run, with which options, as one stored benchmark.

``run_suite("vision", options)`` trains and serves every vision model of the zoo one
after another, each in its own tracked run labelled with the same benchmark id. A model
that fails (out of memory, a missing dependency) is recorded as a failed run and the
suite goes on; the outcome lists the failures.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wattprint.bench import zoo
from wattprint.bench.runner import BenchOptions, ModelRun, Progress, new_benchmark_id, run_model
from wattprint.config import Settings
from wattprint.errors import ConfigError

__all__ = [
    "MODEL_SUITES",
    "SUITES",
    "SuiteOutcome",
    "quick_options",
    "run_suite",
    "suite_models",
    "suite_options",
]

log = logging.getLogger("wattprint")

MODEL_SUITES: tuple[str, ...] = ("vision", "audio", "nlp", "all")
SUITES: tuple[str, ...] = (*MODEL_SUITES, "scaling")


@dataclass(frozen=True)
class SuiteOutcome:
    """A finished suite: its benchmark id, the runs made, and the models that failed."""

    benchmark: str
    suite: str
    runs: tuple[ModelRun, ...]
    failures: tuple[tuple[str, str], ...]  # (model, error)
    notes: tuple[str, ...] = ()  # experiments skipped and why


def quick_options(options: BenchOptions) -> BenchOptions:
    """``--quick``: tiny sizes, 2 epochs over 256 samples, inference over 256 samples —
    every model of the vision suite trains and serves in seconds on a laptop CPU."""
    return replace(
        options,
        size="tiny",
        epochs=2,
        train_size=256,
        test_size=256,
        eval_size=64,
        batch_size=32,
    )


def suite_options(
    *,
    device: str | None = None,
    data_root: Path | None = None,
    quick: bool = False,
    amp: bool = False,
    pretrained: bool = False,
    labels: Mapping[str, str] | None = None,
    **given: Any,
) -> BenchOptions:
    """The options ``wattprint bench`` and benchmark jobs run with: 3 epochs on CUDA when
    available, the ``quick`` sizes when asked, then each of ``given`` (``epochs``,
    ``batch_size``, ``size``, ``train_size``, ``test_size``) that is not ``None``."""
    import torch

    chosen = device or ("cuda" if torch.cuda.is_available() else "cpu")
    options = BenchOptions(device=chosen, data_root=data_root, epochs=3)
    if quick:
        options = quick_options(options)
    return replace(
        options,
        amp=amp,
        pretrained=pretrained,
        labels=dict(labels or {}),
        **{k: v for k, v in given.items() if v is not None},
    )


def suite_models(suite: str, models: Sequence[str] = ()) -> list[zoo.ModelSpec]:
    """The specs a model suite runs: all of its family, or the ``models`` named (which
    must belong to it; ``all`` accepts any)."""
    if suite not in MODEL_SUITES:
        raise ConfigError(f"suite={suite!r}: accepted: {', '.join(SUITES)}")
    family = None if suite == "all" else suite
    available = zoo.names(family)
    if not models:
        return [zoo.get(n) for n in available]
    unknown = [m for m in models if m not in available]
    if unknown:
        raise ConfigError(
            f"model(s) {', '.join(map(repr, unknown))} not in suite {suite!r}; accepted: "
            f"{', '.join(available)}"
        )
    return [zoo.get(m) for m in dict.fromkeys(models)]


def run_suite(
    suite: str,
    options: BenchOptions,
    *,
    settings: Settings,
    models: Sequence[str] = (),
    progress: Progress | None = None,
) -> SuiteOutcome:
    """Run a model suite (``vision``, ``audio``, ``nlp``, ``all``) as one benchmark."""
    specs = suite_models(suite, models)
    progress = progress or Progress()
    benchmark = new_benchmark_id(suite)
    runs: list[ModelRun] = []
    failures: list[tuple[str, str]] = []
    for spec in specs:
        try:
            runs.append(
                run_model(
                    spec,
                    options,
                    settings=settings,
                    benchmark=benchmark,
                    suite=suite,
                    progress=progress,
                )
            )
        except ConfigError:
            raise  # bad options fail the whole suite at the first model, before work is lost
        except Exception as exc:  # one model failing must not lose the others' results
            message = f"{type(exc).__name__}: {exc}"
            log.warning("wattprint bench: %s failed: %s", spec.name, message)
            progress.message(f"{spec.name} failed: {message}")
            failures.append((spec.name, message))
    return SuiteOutcome(benchmark, suite, tuple(runs), tuple(failures))
