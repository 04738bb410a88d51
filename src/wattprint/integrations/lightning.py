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

from wattprint.integrations._common import EPOCH, EVAL, STEP, RunRecorder, RunScope

if TYPE_CHECKING:
    from wattprint.tracking.tracker import Tracker

__all__ = ["WattprintCallback"]


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
