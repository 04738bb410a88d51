"""Keras 3 on the torch backend: a small model fitted for real on CPU with the callback."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported anywhere

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from tests.fakes.sysfs import FakePowercap
from tests.integrations import PACKAGE, options, series, shape, stored
from wattprint.integrations.keras import WattprintCallback

TRAIN_J, EVAL_J = 1.0, 0.25  # per batch, on the fake counter
EPOCHS, BATCH, TRAIN_N, VAL_N = 3, 8, 32, 16
STEPS_PER_EPOCH = TRAIN_N // BATCH


class Meter(keras.layers.Layer):
    """Identity that advances the fake energy counter for each batch it sees."""

    def __init__(self, powercap: FakePowercap, fail_at: int | None = None) -> None:
        super().__init__()
        self.powercap, self.fail_at, self.train_batches = powercap, fail_at, 0

    def call(self, x: Any, training: bool | None = None) -> Any:
        if training:
            self.train_batches += 1
            if self.train_batches == self.fail_at:
                raise FloatingPointError("loss is nan (pretend)")
            self.powercap.advance(PACKAGE, TRAIN_J)
        elif training is not None:
            self.powercap.advance(PACKAGE, EVAL_J)
        return x


def _data(n: int, seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 8)).astype("float32"), rng.integers(0, 2, size=n)


def _model(powercap: FakePowercap, fail_at: int | None = None) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,)), Meter(powercap, fail_at), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _fit(model: keras.Model, callback: WattprintCallback) -> keras.callbacks.History:
    x, y = _data(TRAIN_N, 0)
    return model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=EPOCHS,
        validation_data=_data(VAL_N, 1),
        callbacks=[callback],
        shuffle=False,
        verbose=0,
    )


def test_fit_records_epochs_evals_and_metrics(data_dir: Path, powercap: FakePowercap) -> None:
    callback = WattprintCallback(**options(powercap, "keras"))
    history = _fit(_model(powercap), callback)

    status, windows, metrics = stored(data_dir, "keras")
    assert status == "finished"
    assert shape(windows) == [("eval", "epoch"), ("epoch", "train")] * EPOCHS + [("train", None)]
    eval_j = (VAL_N // BATCH) * EVAL_J
    by_name = {n: [w.energy_j["cpu:0"] for w in windows if w.name == n] for n in ("epoch", "eval")}
    assert by_name["eval"] == pytest.approx([eval_j] * EPOCHS)
    assert by_name["epoch"] == pytest.approx([STEPS_PER_EPOCH * TRAIN_J + eval_j] * EPOCHS)

    ends = [STEPS_PER_EPOCH * (e + 1) for e in range(EPOCHS)]
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    for name, values in history.history.items():
        assert series(metrics, name) == [
            (s, pytest.approx(v)) for s, v in zip(ends, values, strict=True)
        ]
    assert series(metrics, "epoch") == [(s, e + 1) for e, s in enumerate(ends)]
    assert series(metrics, "learning_rate") == [(s, pytest.approx(0.05)) for s in ends]


def test_steps_option_and_a_later_evaluate(data_dir: Path, powercap: FakePowercap) -> None:
    import wattprint
    from wattprint.meters.rapl import RaplMeter

    meters = [RaplMeter(powercap.root)]
    with wattprint.track(run="keras-own", meters=meters, sample_interval_s=3600.0) as tracker:
        callback = WattprintCallback(tracker, steps=True)
        model = _model(powercap)
        _fit(model, callback)
        x, y = _data(VAL_N, 1)
        result = model.evaluate(x, y, batch_size=BATCH, callbacks=[callback], verbose=0)
    _, windows, metrics = stored(data_dir, "keras-own")
    one_epoch = [("step", "epoch")] * STEPS_PER_EPOCH + [("eval", "epoch"), ("epoch", "train")]
    assert shape(windows) == [*one_epoch * EPOCHS, ("train", None), ("eval", None)]
    assert windows[-1].energy_j["cpu:0"] == pytest.approx((VAL_N // BATCH) * EVAL_J)
    steps = [w for w in windows if w.name == "step"]
    assert [w.energy_j["cpu:0"] for w in steps] == pytest.approx([TRAIN_J] * len(steps))
    assert [s for s, _ in series(metrics, "loss")][:3] == [1, 2, 3]
    assert series(metrics, "val_loss")[-1] == (EPOCHS * STEPS_PER_EPOCH, pytest.approx(result[0]))


def test_exception_in_fit_marks_the_run_failed(data_dir: Path, powercap: FakePowercap) -> None:
    callback = WattprintCallback(**options(powercap, "keras-nan"))
    with pytest.raises(FloatingPointError), callback:
        _fit(_model(powercap, fail_at=STEPS_PER_EPOCH + 2), callback)
    status, windows, _ = stored(data_dir, "keras-nan")
    assert status == "failed"
    assert shape(windows) == [
        ("eval", "epoch"),
        ("epoch", "train"),
        ("epoch", "train"),
        ("train", None),
    ]
    assert windows[2].energy_j["cpu:0"] == pytest.approx(1 * TRAIN_J)
