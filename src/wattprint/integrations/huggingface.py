"""Hugging Face ``Trainer``: ``Trainer(..., callbacks=[WattprintCallback(project="demo")])``.

Windows: ``train`` (the whole ``trainer.train()``), ``epoch`` (one training epoch with
the evaluation that runs at its end), ``eval`` (each evaluation during training, from
the moment the trainer decides to evaluate to ``on_evaluate``), ``step`` (each
optimizer step, with ``steps=True``). Everything the trainer logs (``loss``,
``learning_rate``, ``grad_norm``, ``eval_*``, the final ``train_*`` summary) is logged
at the global step, and ``epoch`` (epochs completed) at each epoch end.

The ``Trainer`` does not tell callbacks about exceptions. Wrap the call to have a
failure recorded at once::

    callback = WattprintCallback(project="demo")
    trainer = Trainer(..., callbacks=[callback])
    with callback:
        trainer.train()

Without the ``with``, a run whose training never ended is marked ``failed`` when the
next training begins or when the interpreter exits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from wattprint.integrations._common import EPOCH, EVAL, STEP, RunRecorder, RunScope, StopDriver

if TYPE_CHECKING:
    from wattprint.analysis.stopping import EnergyAwareStopper, StopDecision
    from wattprint.tracking.results import Measurement
    from wattprint.tracking.tracker import Tracker

__all__ = ["EnergyAwareEarlyStopping", "WattprintCallback"]

_NOT_LOGGED = frozenset({"epoch"})  # logged once per epoch end, as epochs completed


class WattprintCallback(RunScope, TrainerCallback):
    """Records a ``Trainer.train()`` as a wattprint run.

    ``tracker``: an existing ``Tracker`` to record into (started here if it was not);
    otherwise ``options`` (``project``, ``run``, ``meters``, any ``Settings`` field) make
    a new tracker for each training. ``steps=True`` adds a ``step`` window per
    optimizer step.
    """

    def __init__(self, tracker: Tracker | None = None, *, steps: bool = False, **options: Any):
        self._recorder = RunRecorder("Hugging Face", tracker, options)
        self.steps = steps
        self._epoch_waits_for_eval = False

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        with self._recorder.guard("on_train_begin"):
            self._epoch_waits_for_eval = False
            epochs = int(state.num_train_epochs or 0)
            self._recorder.total_epochs = epochs if epochs > 0 and args.max_steps <= 0 else None
            self._recorder.begin_run()

    def on_train_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        with self._recorder.guard("on_train_end"):
            self._recorder.end_run()

    def on_epoch_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        with self._recorder.guard("on_epoch_begin"):
            self._recorder.begin(EPOCH)

    def on_epoch_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        with self._recorder.guard("on_epoch_end"):
            self._recorder.end(STEP)
            if state.epoch is not None:
                self._recorder.log(state.global_step, {"epoch": state.epoch})
            # The default flow callback, called before this one, has decided whether
            # the trainer evaluates now: the epoch then closes after its evaluation.
            if control.should_evaluate and self._recorder.is_open(EPOCH):
                self._recorder.begin(EVAL)
                self._epoch_waits_for_eval = True
            else:
                self._recorder.end(EPOCH)

    def on_step_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        if self.steps:
            with self._recorder.guard("on_step_begin"):
                self._recorder.begin(STEP)

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        with self._recorder.guard("on_step_end"):
            self._recorder.end(STEP)
            if control.should_evaluate:  # an evaluation every N steps, inside the epoch
                self._recorder.begin(EVAL)

    def on_evaluate(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        with self._recorder.guard("on_evaluate"):
            self._recorder.end(EVAL)
            if self._epoch_waits_for_eval:
                self._epoch_waits_for_eval = False
                self._recorder.end(EPOCH)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        with self._recorder.guard("on_log"):
            values = {k: v for k, v in (logs or {}).items() if k not in _NOT_LOGGED}
            self._recorder.log(state.global_step, values)


class EnergyAwareEarlyStopping(WattprintCallback):
    """Stops ``Trainer.train()`` (``control.should_training_stop = True``) when
    ``stopper`` says so, from each epoch window's energy and the last value of the
    ``monitor`` (e.g. ``eval_loss``) the trainer logged during the epoch.

    Give it the ``WattprintCallback`` of the same trainer as ``recording=`` to read that
    callback's epochs (it then records nothing itself); alone, it records the run like
    one (``tracker`` or ``options``).
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
        self._state: TrainerState | None = None
        self._control: TrainerControl | None = None
        self._seen = 0

    @property
    def decision(self) -> StopDecision | None:
        return self._driver.decision

    @property
    def tracker(self) -> Tracker | None:
        return self._host.tracker

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self._state, self._control = state, control
        self._seen = len(state.log_history)
        if self._host is self._recorder:
            super().on_train_begin(args, state, control, **kwargs)

    def _on_epoch(self, measurement: Measurement) -> None:
        state, control = self._state, self._control
        if state is None or control is None:
            return
        values: dict[str, object] = {}
        for entry in state.log_history[self._seen :]:
            values.update(entry)
        self._seen = len(state.log_history)
        self._driver.measurement(self._host.tracker, measurement)
        decision = self._driver.metrics(values, state.global_step)
        if decision is not None and decision.stop:
            control.should_training_stop = True
