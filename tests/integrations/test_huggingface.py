"""Hugging Face ``Trainer``: a tiny random BERT trained for real on CPU with the callback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"

import pytest
import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from tests.fakes.sysfs import FakePowercap
from tests.integrations import PACKAGE, options, series, shape, stored
from wattprint.integrations.huggingface import WattprintCallback

TRAIN_J, EVAL_J = 1.0, 0.25  # per forward pass, on the fake counter
EPOCHS, BATCH, TRAIN_N, EVAL_N = 2, 4, 16, 8
STEPS_PER_EPOCH = TRAIN_N // BATCH


class Tokens(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    def __init__(self, n: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(1, 100, (n, 12), generator=g)
        self.labels = torch.randint(0, 2, (n,), generator=g)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def _trainer(
    powercap: FakePowercap,
    tmp_path: Path,
    *callbacks: TrainerCallback,
    fail_at_forward: int | None = None,
    **args: Any,
) -> Trainer:
    torch.manual_seed(0)
    config = BertConfig(
        num_hidden_layers=2,
        hidden_size=64,
        num_attention_heads=2,
        intermediate_size=64,
        vocab_size=100,
        num_labels=2,
    )
    model = BertForSequenceClassification(config)
    calls = {"train": 0}

    def meter(module: torch.nn.Module, inputs: Any, output: Any) -> None:
        if module.training:
            calls["train"] += 1
            if calls["train"] == fail_at_forward:
                raise RuntimeError("loss exploded (pretend)")
        powercap.advance(PACKAGE, TRAIN_J if module.training else EVAL_J)

    model.register_forward_hook(meter)
    arguments = TrainingArguments(
        output_dir=str(tmp_path / "hf-out"),
        num_train_epochs=EPOCHS,
        per_device_train_batch_size=BATCH,
        per_device_eval_batch_size=BATCH,
        eval_strategy="epoch",
        logging_strategy="steps",
        logging_steps=2,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
        **args,
    )
    return Trainer(
        model=model,
        args=arguments,
        train_dataset=Tokens(TRAIN_N, 0),
        eval_dataset=Tokens(EVAL_N, 1),
        callbacks=list(callbacks),
    )


def test_train_records_epochs_evals_and_logged_metrics(
    data_dir: Path, tmp_path: Path, powercap: FakePowercap
) -> None:
    callback = WattprintCallback(**options(powercap, "hf"))
    trainer = _trainer(powercap, tmp_path, callback)
    trainer.train()

    status, windows, metrics = stored(data_dir, "hf")
    assert status == "finished"
    assert shape(windows) == [("eval", "epoch"), ("epoch", "train")] * EPOCHS + [("train", None)]
    evals = [w.energy_j["cpu:0"] for w in windows if w.name == "eval"]
    epochs = [w.energy_j["cpu:0"] for w in windows if w.name == "epoch"]
    eval_j = (EVAL_N // BATCH) * EVAL_J
    assert evals == pytest.approx([eval_j] * EPOCHS)
    assert epochs == pytest.approx([STEPS_PER_EPOCH * TRAIN_J + eval_j] * EPOCHS)

    # every number the trainer logged, at the step it logged it
    expected = [
        (entry["step"], name, pytest.approx(value))
        for entry in trainer.state.log_history
        for name, value in entry.items()
        if name not in {"epoch", "step"} and isinstance(value, int | float)
    ]
    ours = ("epoch", "predicted_energy_j", "predicted_energy_low_j", "predicted_energy_high_j")
    ours += ("predicted_duration_s",)
    logged = [(m.step, m.name, m.value) for m in metrics if m.name not in ours]
    assert sorted(logged, key=repr) == sorted(expected, key=repr)
    # the live prediction after each epoch but the last, from the epochs so far
    predicted = [v for _, v in series(metrics, "predicted_energy_j")]
    assert predicted == pytest.approx([epochs[0] * EPOCHS] + [epochs[0] * EPOCHS] * (EPOCHS - 2))
    names = {m.name for m in metrics}
    assert {"loss", "learning_rate", "eval_loss", "train_loss"} <= names
    ends = [STEPS_PER_EPOCH * (e + 1) for e in range(EPOCHS)]
    assert series(metrics, "epoch") == [(s, e + 1) for e, s in enumerate(ends)]
    assert [s for s, _ in series(metrics, "eval_loss")] == ends


def test_steps_option_and_eval_every_n_steps(
    data_dir: Path, tmp_path: Path, powercap: FakePowercap
) -> None:
    callback = WattprintCallback(steps=True, **options(powercap, "hf-steps"))
    trainer = _trainer(powercap, tmp_path, callback)
    trainer.args.eval_strategy = "steps"
    trainer.args.eval_steps = 3
    trainer.train()
    _, windows, _ = stored(data_dir, "hf-steps")
    # 8 steps; evaluations after steps 3 and 6, inside their epochs, and at the end (8)
    step, evaluation = ("step", "epoch"), ("eval", "epoch")
    first = [step] * 3 + [evaluation] + [step, ("epoch", "train")]
    second = [step] * 2 + [evaluation] + [step] * 2 + [evaluation, ("epoch", "train")]
    assert shape(windows) == [*first, *second, ("train", None)]
    steps = [w.energy_j["cpu:0"] for w in windows if w.name == "step"]
    assert steps == pytest.approx([TRAIN_J] * EPOCHS * STEPS_PER_EPOCH)


def test_exception_marks_the_run_failed(
    data_dir: Path, tmp_path: Path, powercap: FakePowercap
) -> None:
    callback = WattprintCallback(**options(powercap, "hf-boom"))
    trainer = _trainer(powercap, tmp_path, callback, fail_at_forward=6)
    with pytest.raises(RuntimeError, match="exploded"), callback:
        trainer.train()
    status, windows, _ = stored(data_dir, "hf-boom")
    assert status == "failed"
    assert shape(windows) == [
        ("eval", "epoch"),
        ("epoch", "train"),
        ("epoch", "train"),  # cut short in its second step
        ("train", None),
    ]
    assert windows[2].energy_j["cpu:0"] == pytest.approx(1 * TRAIN_J)


def test_unfinished_training_is_failed_when_the_next_one_begins(
    data_dir: Path, tmp_path: Path, powercap: FakePowercap
) -> None:
    callback = WattprintCallback(project="integrations", meters=options(powercap, "")["meters"])
    broken = _trainer(powercap, tmp_path, callback, fail_at_forward=2)
    with pytest.raises(RuntimeError):
        broken.train()  # no ``with``: the trainer does not tell callbacks
    first = callback.tracker
    assert first is not None and first.result is None
    _trainer(powercap, tmp_path, callback).train()
    assert first.result is not None and first.result.status == "failed"
    assert callback.tracker is not first
    assert callback.tracker is not None and callback.tracker.result is not None
    assert callback.tracker.result.status == "finished"
