"""Each of the seven tasks fine-tuned end to end, offline, on CPU: a tiny model built from
a config with a tokenizer trained on the fly, a small local dataset with unnamed columns,
the real Trainer under the real tracker, the run read back from the real store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.finetune.fixtures import save_model_dir, write_dataset
from wattprint.config import Settings
from wattprint.finetune.runner import finetune
from wattprint.finetune.spec import FinetuneSpec
from wattprint.store.repository import Store

#: task -> (extra spec values, the final metrics it must report)
CASES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "text-classification": ({"peft": {"type": "lora", "r": 4}}, ("accuracy", "f1")),
    "causal-lm": ({"max_length": 32}, ("perplexity", "loss")),
    "masked-lm": ({"max_length": 32}, ("perplexity", "loss")),
    "token-classification": ({}, ("f1", "precision", "recall")),
    "question-answering": ({}, ("exact_match", "f1")),
    "translation": (
        {"source_lang": "en", "target_lang": "fr", "max_target_length": 16},
        ("bleu",),
    ),
    "summarization": (
        {"max_target_length": 16, "peft": {"type": "lora", "r": 4}},
        ("rouge1", "rougeL"),
    ),
}


@pytest.mark.parametrize("task", list(CASES))
def test_task_runs_end_to_end_and_is_stored(task: str, tmp_path: Path) -> None:
    extra, expected = CASES[task]
    model_dir = save_model_dir(task, tmp_path)
    data = write_dataset(task, tmp_path / "data", n=40)
    settings = Settings(dir=tmp_path / "wattprint")
    spec = FinetuneSpec.build(
        task=task,
        model=str(model_dir),
        dataset=str(data),
        epochs=2,
        learning_rate=5e-3,
        train_batch_size=8,
        eval_batch_size=8,
        max_length=extra.pop("max_length", 64),
        **extra,
    )
    result = finetune(spec, settings=settings)
    for name in expected:
        assert f"final_{name}" in result.metrics, result.metrics
    assert any("column" in n or "detected" in n for n in result.notes)  # unnamed columns found
    store = Store.from_settings(settings)
    store.sync()
    detail = store.get_run(result.run_id)
    assert detail.status == "finished"
    assert detail.project == "finetune"
    assert detail.labels["kind"] == "finetune" and detail.labels["task"] == task
    assert detail.labels["peft"] == spec.peft.type
    names = [w.name for w in store.windows(result.run_id)]
    assert names.count("epoch") == 2
    assert names.count("eval") >= 2  # the task's evaluation after each epoch is metered
    assert detail.energy_j > 0
    logged = {m.name for m in store.metrics(result.run_id)}
    assert {f"final_{name}" for name in expected} <= logged
    saved = {p.name for p in result.output_dir.iterdir()}
    if spec.peft.type == "lora":
        assert "adapter_config.json" in saved
        assert json.loads((result.output_dir / "adapter_config.json").read_text())["r"] == 4
    else:
        assert "config.json" in saved
    assert "tokenizer.json" in saved
