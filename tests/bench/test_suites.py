"""Suites: which models run, quick options, and a failing model not losing the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.helpers import tiny_options
from wattprint.bench import suites, zoo
from wattprint.bench.results import load_benchmark
from wattprint.config import Settings
from wattprint.errors import ConfigError
from wattprint.store.repository import Store


def test_suite_models_and_errors() -> None:
    assert [s.name for s in suites.suite_models("vision")] == zoo.names("vision")
    assert len(suites.suite_models("all")) == len(zoo.names())
    assert [s.name for s in suites.suite_models("audio", ["wav2letter", "wav2letter"])] == [
        "wav2letter"
    ]
    with pytest.raises(ConfigError, match=r"'gpt2'.* not in suite 'vision'; accepted: resnet50"):
        suites.suite_models("vision", ["gpt2"])
    with pytest.raises(
        ConfigError, match=r"suite='speech': accepted: vision, audio, nlp, all, scaling"
    ):
        suites.suite_models("speech")


def test_quick_options_are_small() -> None:
    quick = suites.quick_options(tiny_options(epochs=5, train_size=None))
    assert (quick.size, quick.epochs, quick.train_size, quick.test_size) == ("tiny", 2, 256, 256)


def test_a_failing_model_is_recorded_and_the_suite_goes_on(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_get = zoo.get

    def broken(name: str) -> zoo.ModelSpec:
        spec = real_get(name)
        if name != "wav2letter":
            return spec

        def explode(model: object, batch: object) -> object:
            raise RuntimeError("CUDA out of memory (simulated)")

        return zoo.ModelSpec(**{**spec.__dict__, "loss_fn": explode})

    monkeypatch.setattr(zoo, "get", broken)
    settings = Settings(dir=data_dir, project="bench")
    outcome = suites.run_suite(
        "audio",
        tiny_options(train_size=4, test_size=4, eval_size=0, batch_size=2, epochs=1),
        settings=settings,
        models=["wav2letter", "deepspeech"],
    )
    assert outcome.failures == (("wav2letter", "RuntimeError: CUDA out of memory (simulated)"),)
    assert [r.model for r in outcome.runs] == ["deepspeech"]
    store = Store.from_settings(settings)
    bench = load_benchmark(store, outcome.benchmark)
    assert [(m.model, m.status) for m in bench.models] == [
        ("wav2letter", "failed"),
        ("deepspeech", "finished"),
    ]
    assert bench.models[0].epochs == ()  # it died in the warm-up pass, before any epoch
    assert bench.models[0].inference_energy is None
    assert bench.models[0].error is not None and "out of memory" in bench.models[0].error
    warmup = [w for w in store.windows(bench.models[0].run_id) if w.name == "train_warmup"]
    assert len(warmup) == 1  # closed at the failure, its energy kept
    assert bench.models[1].final_quality is not None  # CER of the barely trained model


def test_suite_options_apply_quick_then_what_is_given() -> None:
    options = suites.suite_options(
        device="cpu", quick=True, epochs=5, batch_size=None, labels={"job": "7"}
    )
    assert (options.device, options.size, options.epochs, options.batch_size) == (
        "cpu",
        "tiny",
        5,
        32,
    )
    assert options.labels == {"job": "7"}
    assert suites.suite_options(device="cpu").epochs == 3
