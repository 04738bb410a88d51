"""PyTorch Lightning: ``Trainer(callbacks=[WattprintCallback(project="demo")])``.

Windows: ``train`` (the whole ``fit``), ``epoch`` (one training epoch with its
end-of-epoch validation), ``eval`` (each validation pass; the sanity check is not
one), ``step`` (each training batch, with ``steps=True``). At each epoch end the
trainer's ``callback_metrics`` (what the module ``self.log``-ged, validation included),
``learning_rate`` and ``epoch`` (epochs completed) are logged at the global step.
An exception during ``fit`` marks the run ``failed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

try:
    from lightning.pytorch import LightningModule, Trainer
    from lightning.pytorch.callbacks import Callback
except ImportError:  # the standalone ``pytorch_lightning`` distribution
    from pytorch_lightning import LightningModule, Trainer  # type: ignore[assignment]
    from pytorch_lightning.callbacks import Callback  # type: ignore[assignment]

from wattprint.integrations._common import EPOCH, EVAL, STEP, RunRecorder, RunScope, StopDriver

if TYPE_CHECKING:
    from wattprint.analysis.stopping import EnergyAwareStopper, StopDecision
    from wattprint.tracking.results import Measurement
    from wattprint.tracking.tracker import Tracker

__all__ = ["EnergyAwareEarlyStopping", "WattprintCallback"]


class WattprintCallback(RunScope, Callback):
    """Records a Lightning ``fit`` as a wattprint run.

    ``tracker``: an existing ``Tracker`` to record into (started here if it was not);
    otherwise ``options`` (``project``, ``run``, ``meters``, any ``Settings`` field) make
    a new tracker for each ``fit``. ``steps=True`` adds a ``step`` window per training
    batch and logs each batch's ``loss``.
    """

    def __init__(self, tracker: Tracker | None = None, *, steps: bool = False, **options: Any):
        super().__init__()
        self._recorder = RunRecorder("Lightning", tracker, options)
        self.steps = steps

    # -------------------------------------------------------------- fit lifecycle
    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        with self._recorder.guard("on_fit_start"):
            epochs = trainer.max_epochs
            self._recorder.total_epochs = epochs if epochs and epochs > 0 else None
            self._recorder.begin_run()

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        with self._recorder.guard("on_fit_end"):
            self._recorder.end_run()

    def on_exception(
        self, trainer: Trainer, pl_module: LightningModule, exception: BaseException
    ) -> None:
        with self._recorder.guard("on_exception"):
            self._recorder.fail(exception)

    # --------------------------------------------------------------------- epochs
    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        with self._recorder.guard("on_train_epoch_start"):
            self._recorder.begin(EPOCH)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        with self._recorder.guard("on_train_epoch_end"):
            values: dict[str, object] = dict(trainer.callback_metrics)
            lr = _learning_rate(trainer)
            if lr is not None:
                values.setdefault("learning_rate", lr)
            values["epoch"] = trainer.current_epoch + 1
            self._recorder.log(trainer.global_step, values)
            self._recorder.end(EPOCH)

    # ---------------------------------------------------------------------- steps
    def on_train_batch_start(
        self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self.steps:
            with self._recorder.guard("on_train_batch_start"):
                self._recorder.begin(STEP)

    def on_train_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if self.steps:
            with self._recorder.guard("on_train_batch_end"):
                self._recorder.end(STEP)
                loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
                self._recorder.log(trainer.global_step, {"loss": loss})

    # ----------------------------------------------------------------- validation
    def on_validation_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            with self._recorder.guard("on_validation_start"):
                self._recorder.begin(EVAL)

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            with self._recorder.guard("on_validation_end"):
                self._recorder.end(EVAL)
                if not trainer.training and trainer.state.fn == "validate":
                    # ``trainer.validate`` into a running tracker: its metrics now
                    self._recorder.log(trainer.global_step, dict(trainer.callback_metrics))


def _learning_rate(trainer: Trainer) -> float | None:
    for optimizer in trainer.optimizers:
        for group in optimizer.param_groups:
            return float(group["lr"])
    return None


class EnergyAwareEarlyStopping(WattprintCallback):
    """Stops a ``fit`` (``trainer.should_stop = True``) when ``stopper`` says so, from
    each epoch window's energy and the ``monitor`` in ``trainer.callback_metrics``.

    With a ``WattprintCallback`` in the same trainer it reads that callback's epochs and
    records nothing itself; alone, it records the run like one (``tracker`` or
    ``options``, as for ``WattprintCallback``).
    """

    def __init__(
        self,
        stopper: EnergyAwareStopper,
        tracker: Tracker | None = None,
        *,
        steps: bool = False,
        **options: Any,
    ):
        super().__init__(tracker, steps=steps, **options)
        self._driver = StopDriver(stopper)
        self._host: RunRecorder = self._recorder
        self._trainer: Trainer | None = None

    @property
    def decision(self) -> StopDecision | None:
        return self._driver.decision

    @property
    def tracker(self) -> Tracker | None:
        return self._host.tracker

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._trainer = trainer
        other = next(
            (
                c
                for c in trainer.callbacks  # type: ignore[attr-defined]
                if isinstance(c, WattprintCallback) and not isinstance(c, EnergyAwareEarlyStopping)
            ),
            None,
        )
        self._host = other._recorder if other is not None else self._recorder
        with self._recorder.guard("on_fit_start"):
            if self._on_epoch not in self._host.epoch_listeners:
                self._host.epoch_listeners.append(self._on_epoch)
        if other is None:
            super().on_fit_start(trainer, pl_module)

    def _on_epoch(self, measurement: Measurement) -> None:
        trainer = self._trainer
        if trainer is None:
            return
        self._driver.measurement(self._host.tracker, measurement)
        decision = self._driver.metrics(dict(trainer.callback_metrics), trainer.global_step)
        if decision is not None and decision.stop:
            trainer.should_stop = True
