"""PyTorch Lightning: a tiny LightningModule trained for real on CPU with the callback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import lightning.pytorch as pl
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import wattprint
from tests.fakes.sysfs import FakePowercap
from tests.integrations import PACKAGE, options, series, shape, stored
from wattprint.analysis.stopping import EnergyAwareStopper
from wattprint.integrations.lightning import EnergyAwareEarlyStopping, WattprintCallback
from wattprint.meters.rapl import RaplMeter

TRAIN_J, VAL_J = 1.0, 0.25  # per batch, on the fake counter
EPOCHS, TRAIN_BATCHES, VAL_BATCHES = 3, 4, 2


class Tiny(pl.LightningModule):
    def __init__(self, powercap: FakePowercap, fail_at: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(8, 2)
        self.powercap = powercap
        self.fail_at = fail_at

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.fail_at == (self.current_epoch, batch_idx):
            raise RuntimeError("CUDA out of memory (pretend)")
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.layer(x), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        self.powercap.advance(PACKAGE, TRAIN_J)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        logits = self.layer(x)
        self.log("val_loss", torch.nn.functional.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean())
        self.powercap.advance(PACKAGE, VAL_J)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.05)


class Snapshot(pl.Callback):
    """What Lightning itself reports at each epoch end (runs after the wattprint one)."""

    def __init__(self) -> None:
        self.epochs: list[tuple[int, dict[str, float]]] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        values = {k: float(v) for k, v in trainer.callback_metrics.items()}
        self.epochs.append((trainer.global_step, values))


def _loader(n_batches: int, seed: int) -> DataLoader[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_batches * 8, 8, generator=g)
    y = torch.randint(0, 2, (n_batches * 8,), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=8)


def _fit(module: Tiny, *callbacks: pl.Callback, epochs: int = EPOCHS) -> pl.Trainer:
    trainer = pl.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=list(callbacks),
    )
    trainer.fit(module, _loader(TRAIN_BATCHES, 0), _loader(VAL_BATCHES, 1))
    return trainer


def test_fit_records_epochs_evals_and_metrics(data_dir: Path, powercap: FakePowercap) -> None:
    snapshot = Snapshot()
    callback = WattprintCallback(**options(powercap, "pl"))
    _fit(Tiny(powercap), callback, snapshot)

    status, windows, metrics = stored(data_dir, "pl")
    assert status == "finished"
    # the sanity check's validation is in ``train`` but is no ``eval`` window
    assert shape(windows) == [("eval", "epoch"), ("epoch", "train")] * EPOCHS + [("train", None)]
    epoch_j = TRAIN_BATCHES * TRAIN_J + VAL_BATCHES * VAL_J
    by_name = {n: [w.energy_j["cpu:0"] for w in windows if w.name == n] for n in ("epoch", "eval")}
    assert by_name["epoch"] == pytest.approx([epoch_j] * EPOCHS)
    assert by_name["eval"] == pytest.approx([VAL_BATCHES * VAL_J] * EPOCHS)
    train = windows[-1]
    assert train.energy_j["cpu:0"] == pytest.approx(EPOCHS * epoch_j + 2 * VAL_J)

    steps = [TRAIN_BATCHES * (e + 1) for e in range(EPOCHS)]
    assert [s for s, _ in snapshot.epochs] == steps
    assert series(metrics, "epoch") == [(s, e + 1) for e, s in enumerate(steps)]
    assert series(metrics, "learning_rate") == [(s, pytest.approx(0.05)) for s in steps]
    for name in ("train_loss", "val_loss", "val_acc"):
        reported = [(step, pytest.approx(values[name])) for step, values in snapshot.epochs]
        assert series(metrics, name) == reported
    assert callback.tracker is not None and callback.tracker.result is not None


def test_steps_option_adds_step_windows_and_losses(data_dir: Path, powercap: FakePowercap) -> None:
    _fit(Tiny(powercap), WattprintCallback(steps=True, **options(powercap, "pl-steps")))
    _, windows, metrics = stored(data_dir, "pl-steps")
    one_epoch = [("step", "epoch")] * TRAIN_BATCHES + [("eval", "epoch"), ("epoch", "train")]
    assert shape(windows) == one_epoch * EPOCHS + [("train", None)]
    steps = [w for w in windows if w.name == "step"]
    assert [w.energy_j["cpu:0"] for w in steps] == pytest.approx([TRAIN_J] * len(steps))
    assert [s for s, _ in series(metrics, "loss")] == list(range(1, EPOCHS * TRAIN_BATCHES + 1))


def test_exception_in_training_marks_the_run_failed(data_dir: Path, powercap: FakePowercap) -> None:
    with pytest.raises(RuntimeError, match="out of memory"):
        _fit(Tiny(powercap, fail_at=(1, 2)), WattprintCallback(**options(powercap, "pl-oom")))
    status, windows, _ = stored(data_dir, "pl-oom")
    assert status == "failed"
    assert shape(windows) == [
        ("eval", "epoch"),
        ("epoch", "train"),
        ("epoch", "train"),  # the second epoch, cut short after two batches
        ("train", None),
    ]
    assert windows[2].energy_j["cpu:0"] == pytest.approx(2 * TRAIN_J)


def test_given_tracker_spans_fit_and_validate(data_dir: Path, powercap: FakePowercap) -> None:
    with wattprint.track(
        run="pl-own", meters=[RaplMeter(powercap.root)], sample_interval_s=3600.0
    ) as tracker:
        callback = WattprintCallback(tracker)
        trainer = _fit(Tiny(powercap), callback)
        assert tracker.result is None  # the caller's tracker is the caller's to stop
        trainer.validate(trainer.lightning_module, _loader(VAL_BATCHES, 1), verbose=False)
        reported = float(trainer.callback_metrics["val_loss"])
    _, windows, metrics = stored(data_dir, "pl-own")
    assert shape(windows)[-2:] == [("train", None), ("eval", None)]
    assert windows[-1].energy_j["cpu:0"] == pytest.approx(VAL_BATCHES * VAL_J)
    assert series(metrics, "val_loss")[-1] == (EPOCHS * TRAIN_BATCHES, pytest.approx(reported))


def test_energy_budget_stops_the_fit_before_it_is_exceeded(
    data_dir: Path, powercap: FakePowercap
) -> None:
    """Each epoch costs 4.5 J on the fake counter; with a 12 J budget the fit stops after
    epoch 2 (9 J spent + 4.5 J for the next would exceed it), not after epoch 1."""
    stopper = EnergyAwareStopper(monitor="val_loss", energy_budget_j=12.0, total_epochs=5)
    callback = EnergyAwareEarlyStopping(stopper, **options(powercap, "pl-budget"))
    trainer = _fit(Tiny(powercap), callback, epochs=5)
    assert trainer.current_epoch == 2
    assert callback.decision is not None and callback.decision.stop
    assert "budget" in callback.decision.reason
    status, windows, metrics = stored(data_dir, "pl-budget")
    assert status == "finished"
    assert sum(w.name == "epoch" for w in windows) == 2
    assert series(metrics, "wattprint_stop") == [(series(metrics, "epoch")[-1][0], 1.0)]
    predicted = [v for _, v in series(metrics, "predicted_energy_j")]
    assert predicted and predicted[0] == pytest.approx(5 * 4.5)
