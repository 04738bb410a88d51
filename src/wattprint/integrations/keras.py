"""Keras 3 (any backend): ``model.fit(..., callbacks=[WattprintCallback(project="demo")])``.

Windows: ``train`` (the whole ``fit``), ``epoch`` (one epoch with its validation),
``eval`` (each validation pass, and each ``model.evaluate`` into a running tracker),
``step`` (each training batch, with ``steps=True``). At each epoch end the epoch's
logs (``loss``, compiled metrics, ``val_*``), ``learning_rate`` and ``epoch`` (epochs
completed) are logged at the global step (the optimizer's iteration count).

Keras does not tell callbacks about exceptions; ``with callback: model.fit(...)``
records a failure at once, otherwise an unfinished run is marked ``failed`` when the
next ``fit`` begins or the interpreter exits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras

from wattprint.integrations._common import (
    EPOCH,
    EVAL,
    STEP,
    RunRecorder,
    RunScope,
    StopDriver,
    as_number,
)

if TYPE_CHECKING:
    from wattprint.analysis.stopping import EnergyAwareStopper, StopDecision
    from wattprint.tracking.results import Measurement
    from wattprint.tracking.tracker import Tracker

__all__ = ["EnergyAwareEarlyStopping", "WattprintCallback"]


class WattprintCallback(RunScope, keras.callbacks.Callback):  # type: ignore[misc]
    """Records a Keras ``fit`` as a wattprint run.

    ``tracker``: an existing ``Tracker`` to record into (started here if it was not);
    otherwise ``options`` (``project``, ``run``, ``meters``, any ``Settings`` field) make
    a new tracker for each ``fit``. ``steps=True`` adds a ``step`` window per training
    batch and logs the batch's running metrics.
    """

    def __init__(self, tracker: Tracker | None = None, *, steps: bool = False, **options: Any):
        super().__init__()
        self._recorder = RunRecorder("Keras", tracker, options)
        self.steps = steps
        self._fitting = False
        self._batches = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        with self._recorder.guard("on_train_begin"):
            self._fitting = True
            self._batches = 0
            epochs = (self.params or {}).get("epochs")
            self._recorder.total_epochs = epochs if isinstance(epochs, int) and epochs > 0 else None
            self._recorder.begin_run()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._fitting = False
        with self._recorder.guard("on_train_end"):
            self._recorder.end_run()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        with self._recorder.guard("on_epoch_begin"):
            self._recorder.begin(EPOCH)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        with self._recorder.guard("on_epoch_end"):
            values: dict[str, object] = dict(logs or {})
            lr = self._learning_rate()
            if lr is not None:
                values.setdefault("learning_rate", lr)
            values["epoch"] = epoch + 1
            self._recorder.log(self._global_step(), values)
            self._recorder.end(EPOCH)

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.steps:
            with self._recorder.guard("on_train_batch_begin"):
                self._recorder.begin(STEP)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._batches += 1
        if self.steps:
            with self._recorder.guard("on_train_batch_end"):
                self._recorder.end(STEP)
                self._recorder.log(self._global_step(), dict(logs or {}))

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        with self._recorder.guard("on_test_begin"):
            self._recorder.begin(EVAL)

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        with self._recorder.guard("on_test_end"):
            self._recorder.end(EVAL)
            if not self._fitting:  # ``model.evaluate`` on its own: named as in ``fit``
                values = {f"val_{k}": v for k, v in (logs or {}).items()}
                self._recorder.log(self._global_step(), values)

    def _optimizer(self) -> Any:
        model = getattr(self, "model", None)
        return getattr(model, "optimizer", None)

    def _global_step(self) -> int:
        """Optimizer steps taken (survives several ``fit`` calls); batches seen if none."""
        iterations = getattr(self._optimizer(), "iterations", None)
        number = as_number(_value(iterations)) if iterations is not None else None
        return int(number) if number is not None else self._batches

    def _learning_rate(self) -> float | None:
        rate = getattr(self._optimizer(), "learning_rate", None)
        return as_number(_value(rate)) if rate is not None else None


def _value(variable: Any) -> Any:
    """A Keras variable's value as NumPy (``float()`` of some backends' variables fails)."""
    numpy = getattr(variable, "numpy", None)
    return numpy() if callable(numpy) else variable


class EnergyAwareEarlyStopping(WattprintCallback):
    """Stops ``fit`` (``model.stop_training = True``) when ``stopper`` says so, from each
    epoch window's energy and the ``monitor`` (e.g. ``val_loss``) in the epoch's logs.

    Give it the ``WattprintCallback`` of the same ``fit`` as ``recording=`` to read that
    callback's epochs (it then records nothing itself; either order in ``callbacks``);
    alone, it records the run like one (``tracker`` or ``options``).
    """

    def __init__(
        self,
        stopper: EnergyAwareStopper,
        tracker: Tracker | None = None,
        *,
        recording: WattprintCallback | None = None,
        steps: bool = False,
        **options: Any,
    ):
        super().__init__(tracker, steps=steps, **options)
        self._driver = StopDriver(stopper)
        self._host: RunRecorder = recording._recorder if recording is not None else self._recorder
        self._host.epoch_listeners.append(self._on_epoch)

    @property
    def decision(self) -> StopDecision | None:
        return self._driver.decision

    @property
    def tracker(self) -> Tracker | None:
        return self._host.tracker

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        with self._recorder.guard("on_epoch_begin"):
            self._driver.reset()
        super().on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        with self._recorder.guard("on_epoch_end"):
            self._apply(self._driver.metrics(dict(logs or {}), None))
        super().on_epoch_end(epoch, logs)

    def _on_epoch(self, measurement: Measurement) -> None:
        self._apply(self._driver.measurement(self._host.tracker, measurement))

    def _apply(self, decision: StopDecision | None) -> None:
        model = getattr(self, "model", None)
        if decision is not None and decision.stop and model is not None:
            model.stop_training = True
