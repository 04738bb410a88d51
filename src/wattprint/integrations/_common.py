"""What every training integration shares: the run's lifecycle, window edges that
synchronise the GPU, metric conversion and the guard that keeps wattprint's own
failures out of the user's training.

Window names (the same in every framework):

* ``train`` — one whole training call (``fit`` / ``train``); the run's phase window.
* ``epoch`` — one training epoch, including the validation that runs at its end;
  parent ``train``.
* ``eval`` — one validation / evaluation pass; parent ``epoch`` when it runs inside
  training.
* ``step`` — one training step (optimizer step / batch), opt-in; parent ``epoch``.
"""

from __future__ import annotations

import atexit
import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from wattprint.errors import WattprintError

if TYPE_CHECKING:
    from wattprint.analysis.stopping import EnergyAwareStopper, StopDecision
    from wattprint.tracking.results import Measurement
    from wattprint.tracking.tracker import Tracker

log = logging.getLogger("wattprint")

TRAIN = "train"
EPOCH = "epoch"
EVAL = "eval"
STEP = "step"


def synchronize_device() -> None:
    """Wait for queued GPU work, so that a window edge is where the work really ended.

    Only when CUDA is in use in this process: torch already imported (never imported
    here), a CUDA device present and a CUDA context initialised. On a CPU run nothing
    is called, and a CPU training on a GPU machine does not create a CUDA context.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return
    cuda = torch.cuda
    if cuda.is_available() and cuda.is_initialized():
        cuda.synchronize()


def as_number(value: object) -> float | None:
    """``value`` as a float when it is one number (int, float, NumPy or 0-d tensor),
    else ``None``; booleans and strings are not metrics."""
    if isinstance(value, bool | str | bytes) or value is None:
        return None
    detach = getattr(value, "detach", None)  # a loss tensor still attached to its graph
    try:
        if callable(detach):
            value = detach()
        return float(value)  # type: ignore[arg-type]  # tensors and NumPy scalars convert
    except (TypeError, ValueError, RuntimeError):
        return None


def numeric_metrics(
    values: Mapping[str, object], skip: frozenset[str] = frozenset()
) -> dict[str, float]:
    """The entries of ``values`` that are single numbers, minus the names in ``skip``."""
    out: dict[str, float] = {}
    for name, value in values.items():
        number = as_number(value)
        if number is not None and name not in skip:
            out[str(name)] = number
    return out


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class RunRecorder:
    """Drives a tracker from a framework's hooks.

    With ``tracker`` given, that tracker is used (started here if it was not yet, and
    then stopped here at the end of training); otherwise a fresh one is made from
    ``options`` (``wattprint.track`` arguments: ``project``, ``run``, ``meters``, …)
    for each training call. Options are validated when the recorder is made, so a bad
    option is one clear error at construction, never in the middle of training.
    """

    def __init__(self, framework: str, tracker: Tracker | None, options: Mapping[str, Any]) -> None:
        if tracker is not None and options:
            names = ", ".join(sorted(options))
            raise WattprintError(
                f"pass either tracker= or tracker options ({names}), not both: "
                "options configure the tracker the callback creates"
            )
        self.framework = framework
        self._given = tracker
        self._options = dict(options)
        self._next: Tracker | None = self._new_tracker() if tracker is None else None
        self.tracker: Tracker | None = None  # the tracker of the current or last training
        self._owned = False
        self._open: list[str] = []
        self._warned = False
        self.epoch_listeners: list[Callable[[Measurement], None]] = []
        self.total_epochs: int | None = None  # set by the framework adapter when known
        self._epochs: list[tuple[float, float]] = []  # (energy J, duration s) of each epoch

    # ----------------------------------------------------------------- lifecycle
    def begin_run(self) -> None:
        """Training begins: start (or adopt) the tracker and open ``train``."""
        if self.tracker is not None and self._open:
            self.end_run("failed", "a new training began before the previous one ended")
        if self._given is not None:
            tracker = self._given
            if tracker.result is not None:
                raise WattprintError(
                    f"the tracker given (run {tracker.run_name!r}) was already stopped; "
                    "pass a new Tracker, or none to let the callback make one per training"
                )
            self._owned = not tracker.running
        else:
            tracker = self._next if self._next is not None else self._new_tracker()
            self._next = None
            self._owned = True
        self.tracker = tracker
        self._epochs = []
        if self._owned:
            tracker.start()
            atexit.register(self._at_exit)
        self.begin(TRAIN)

    def end_run(self, status: str = "finished", error: str | None = None) -> None:
        """Training ended (or failed): close the windows opened here, stop an owned tracker."""
        tracker = self.tracker
        if tracker is None:
            return
        if self._open and tracker.running:
            synchronize_device()
            for name in reversed(self._open):
                tracker.end_window(name)
        self._open.clear()
        if self._owned and tracker.result is None:
            self._owned = False
            atexit.unregister(self._at_exit)
            tracker.stop(status, error=error)

    def fail(self, exc: BaseException) -> None:
        """The framework reports that training raised ``exc``: the run is ``failed``."""
        self.end_run("failed", describe(exc))

    def _at_exit(self) -> None:
        """The interpreter exits while training never reached its end: failed."""
        last = getattr(sys, "last_value", None)
        error = describe(last) if last is not None else "training never reached its end"
        with self.guard("exit"):
            self.end_run("failed", error)

    def _new_tracker(self) -> Tracker:
        from wattprint.tracking.api import track

        return track(**self._options)

    # ------------------------------------------------------------------- windows
    @property
    def running(self) -> bool:
        return self.tracker is not None and self.tracker.running

    def is_open(self, name: str) -> bool:
        return name in self._open

    def begin(self, name: str) -> None:
        """Open window ``name`` unless it is open already or no run is going on."""
        tracker = self.tracker
        if tracker is None or name in self._open or not tracker.running:
            return
        synchronize_device()
        tracker.begin_window(name)
        self._open.append(name)

    def end(self, name: str) -> None:
        """Close window ``name`` if it was opened here and is still open."""
        tracker = self.tracker
        if tracker is None or name not in self._open:
            return
        self._open.remove(name)
        if tracker.running:
            synchronize_device()
            measurement = tracker.end_window(name)
            if name == EPOCH:
                self._epochs.append((measurement.total_energy_j, measurement.duration_s))
                with self.guard("prediction"):
                    self._predict(tracker)
                for listener in list(self.epoch_listeners):
                    with self.guard("early stopping"):
                        listener(measurement)

    def _predict(self, tracker: Tracker) -> None:
        """The live prediction of the whole training from the epochs so far: logged as
        ``predicted_energy_j`` (and its range, and ``predicted_duration_s``) so reports
        can set it against the actual, and said once per epoch on the log."""
        total = self.total_epochs
        done = len(self._epochs)
        if not total or done >= total:
            return
        from wattprint.analysis.prediction import predict_training

        p = predict_training([e for e, _ in self._epochs], [d for _, d in self._epochs], total)
        tracker.log(
            predicted_energy_j=p.energy_j,
            predicted_energy_low_j=p.low_j,
            predicted_energy_high_j=p.high_j,
            predicted_duration_s=p.duration_s,
        )
        log.info(
            "wattprint: epoch %d/%d: whole training predicted at %.4g kWh (%.4g-%.4g), %.0f s",
            done,
            total,
            p.energy_j / 3.6e6,
            p.low_j / 3.6e6,
            p.high_j / 3.6e6,
            p.duration_s,
        )

    def log(self, step: int | None, values: Mapping[str, object]) -> None:
        """Log the numeric entries of ``values`` at ``step`` (others are skipped)."""
        numbers = numeric_metrics(values)
        if numbers and self.running:
            assert self.tracker is not None
            self.tracker.log(step=step, **numbers)

    # --------------------------------------------------------------------- guard
    @contextmanager
    def guard(self, hook: str) -> Iterator[None]:
        """Run a hook's body; wattprint's own failure is logged once and swallowed."""
        try:
            yield
        except Exception as exc:
            if not self._warned:
                self._warned = True
                log.warning(
                    "wattprint: %s callback failed in %s (%s); training goes on, "
                    "its energy record may be incomplete",
                    self.framework,
                    hook,
                    describe(exc),
                )
            else:
                log.debug("wattprint: %s callback failed in %s: %s", self.framework, hook, exc)


class RunScope:
    """Mixin: ``with callback: trainer.train()`` marks the run ``failed`` when training
    raises, for frameworks that do not report exceptions to callbacks."""

    _recorder: RunRecorder

    @property
    def tracker(self) -> Tracker | None:
        """The tracker of the current (or last) training; ``None`` before the first."""
        return self._recorder.tracker

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._recorder.guard("__exit__"):
            if exc is not None:
                self._recorder.fail(exc)
            else:
                self._recorder.end_run()


STOP_SOURCE = "early-stopping"


class StopDriver:
    """Feeds an ``EnergyAwareStopper`` from a recorder's ``epoch`` windows and writes its
    decisions into the run: on a stop the metric ``wattprint_stop=1`` and an
    ``early-stopping`` event with the reason (the live prediction is the recorder's).

    The epoch's measurement and the monitored metric may arrive in either order (the
    framework calls callbacks in list order); the decision is taken when both are in.
    """

    def __init__(self, stopper: EnergyAwareStopper) -> None:
        from wattprint.analysis.stopping import EnergyAwareStopper

        if not isinstance(stopper, EnergyAwareStopper):
            raise WattprintError(
                f"stopper={stopper!r}: accepted: a wattprint.analysis.stopping.EnergyAwareStopper"
            )
        self.stopper = stopper
        self.epoch = 0
        self.decision: StopDecision | None = None
        self._measurement: Measurement | None = None
        self._metric: tuple[float | None] | None = None
        self._tracker: Tracker | None = None
        self._step: int | None = None

    @property
    def should_stop(self) -> bool:
        return self.decision is not None and self.decision.stop

    def reset(self) -> None:
        self._measurement, self._metric = None, None

    def measurement(self, tracker: Tracker | None, measurement: Measurement) -> StopDecision | None:
        self._tracker, self._measurement = tracker, measurement
        return self._decide()

    def metrics(self, values: Mapping[str, object], step: int | None = None) -> StopDecision | None:
        self._metric = (as_number(values.get(self.stopper.monitor)),)
        self._step = step
        return self._decide()

    def _decide(self) -> StopDecision | None:
        m, metric = self._measurement, self._metric
        if m is None or metric is None:
            return None
        self.reset()
        self.epoch += 1
        decision = self.stopper.update(self.epoch, m.total_energy_j, m.duration_s, metric[0])
        self.decision = decision
        tracker = self._tracker
        if tracker is not None and tracker.running and decision.stop:
            tracker.log(step=self._step, wattprint_stop=1.0)
            tracker.note(STOP_SOURCE, f"stopped after epoch {decision.epoch}: {decision.reason}")
        if decision.stop:
            log.info(
                "wattprint: early stopping after epoch %d: %s", decision.epoch, decision.reason
            )
        return decision
