"""A plain PyTorch loop, with the same windows and metric names as the callbacks::

    with EpochTracker(project="demo") as loop:          # run + ``train`` window
        for epoch in range(3):
            with loop.epoch():                          # ``epoch`` window
                for batch in loader:
                    with loop.step():                   # ``step`` window (optional)
                        loss = train_step(batch)
                    loop.log(loss=loss.item())          # at the global step
                with loop.eval():                       # ``eval`` window
                    loop.log(val_accuracy=evaluate())

or, into a tracker you already run, ``for epoch in tracked_epochs(tracker, 3): ...``.

Window edges synchronise the GPU when CUDA is in use. An exception inside ``with
EpochTracker(...)`` marks the run ``failed`` and propagates; wattprint's own failures
are logged once and never raised into the loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from wattprint.errors import WattprintError
from wattprint.integrations._common import EPOCH, EVAL, STEP, RunRecorder, RunScope, StopDriver

if TYPE_CHECKING:
    from wattprint.analysis.stopping import EnergyAwareStopper, StopDecision
    from wattprint.tracking.results import Measurement
    from wattprint.tracking.tracker import Tracker

__all__ = ["EpochTracker", "tracked_epochs"]


class EpochTracker(RunScope):
    """Windows and metrics for a hand-written training loop.

    ``tracker``: an existing ``Tracker`` (started on ``__enter__`` if it was not, and
    then stopped on ``__exit__``); otherwise ``options`` (``project``, ``run``,
    ``meters``, any ``Settings`` field) make a new one. ``epoch`` counts completed
    epochs and ``global_step`` completed ``step()`` blocks.

    ``stopper``: an ``EnergyAwareStopper`` fed at each epoch's end with the epoch's
    energy and the last value of its ``monitor`` logged during the epoch; the loop
    checks ``should_stop`` (``decision`` says why).

    ``total_epochs`` (default: the stopper's): the whole training is predicted after
    each epoch and logged as ``predicted_energy_j`` (with its range).
    """

    def __init__(
        self,
        tracker: Tracker | None = None,
        *,
        stopper: EnergyAwareStopper | None = None,
        total_epochs: int | None = None,
        **options: Any,
    ) -> None:
        self._recorder = RunRecorder("torch loop", tracker, options)
        if total_epochs is None and stopper is not None:
            total_epochs = stopper.total_epochs
        if total_epochs is not None and (
            isinstance(total_epochs, bool) or not isinstance(total_epochs, int) or total_epochs < 1
        ):
            raise WattprintError(f"total_epochs={total_epochs!r}: accepted: an int >= 1")
        self._recorder.total_epochs = total_epochs
        self.epoch_count = 0
        self.global_step = 0
        self._driver = StopDriver(stopper) if stopper is not None else None
        self._epoch_metrics: dict[str, object] = {}
        if self._driver is not None:
            self._recorder.epoch_listeners.append(self._on_epoch)

    @property
    def should_stop(self) -> bool:
        """The stopper asked to stop after the last epoch."""
        return self._driver is not None and self._driver.should_stop

    @property
    def decision(self) -> StopDecision | None:
        """The stopper's last decision (``None`` without a stopper or before an epoch)."""
        return self._driver.decision if self._driver is not None else None

    def _on_epoch(self, measurement: Measurement) -> None:
        if self._driver is not None:
            self._driver.measurement(self._recorder.tracker, measurement)

    def __enter__(self) -> EpochTracker:
        with self._recorder.guard("__enter__"):
            self._recorder.begin_run()
        return self

    @contextmanager
    def epoch(self) -> Iterator[int]:
        """An ``epoch`` window; yields the epoch's index (0, 1, …). At its end ``epoch``
        (epochs completed) is logged at the global step."""
        with self._recorder.guard("epoch"):
            self._epoch_metrics = {}
            if self._driver is not None:
                self._driver.reset()
            self._recorder.begin(EPOCH)
        try:
            yield self.epoch_count
        finally:
            self.epoch_count += 1
            with self._recorder.guard("epoch"):
                self._recorder.log(self.global_step, {"epoch": self.epoch_count})
                if self._driver is not None:
                    self._driver.metrics(self._epoch_metrics, self.global_step)
                self._recorder.end(EPOCH)

    @contextmanager
    def step(self) -> Iterator[int]:
        """A ``step`` window; yields the global step (0, 1, …), counted up at its end."""
        with self._recorder.guard("step"):
            self._recorder.begin(STEP)
        try:
            yield self.global_step
        finally:
            self.global_step += 1
            with self._recorder.guard("step"):
                self._recorder.end(STEP)

    @contextmanager
    def eval(self) -> Iterator[None]:
        """An ``eval`` window around a validation pass."""
        with self._recorder.guard("eval"):
            self._recorder.begin(EVAL)
        try:
            yield
        finally:
            with self._recorder.guard("eval"):
                self._recorder.end(EVAL)

    def log(self, step: int | None = None, **metrics: object) -> None:
        """Log numeric ``metrics`` at ``step`` (default: the global step)."""
        with self._recorder.guard("log"):
            self._epoch_metrics.update(metrics)
            self._recorder.log(self.global_step if step is None else step, metrics)


def tracked_epochs(tracker: Tracker, epochs: int) -> Iterator[int]:
    """``for epoch in tracked_epochs(tracker, 3):`` — each iteration in an ``epoch``
    window of the running ``tracker``, with ``epoch`` (completed) logged at its end.

    The tracker's lifecycle stays the caller's: no ``train`` window, nothing stopped.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise WattprintError(f"epochs={epochs!r} is not a count; pass an int >= 0")
    if not tracker.running:
        raise WattprintError(
            "tracked_epochs() needs a running tracker; call tracker.start() or use `with`"
        )
    return _epochs(tracker, epochs)


def _epochs(tracker: Tracker, epochs: int) -> Iterator[int]:
    loop = EpochTracker(tracker)
    loop._recorder.tracker = tracker  # adopt without opening ``train``
    for _ in range(epochs):
        with loop.epoch() as index:
            yield index
