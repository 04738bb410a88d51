"""The ``Tracker``: start/stop a run, named measurement windows, metric logging.

Windows are differences of two meter readings taken on the caller's thread; the
background sampler only polls meters that need it and records the time series.
Everything the tracker writes goes to the run's journal (see ``wattprint.store.journal``);
the store ingests it later. A failing meter or an unwritable journal is logged once
and recorded, never raised into the measured program.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from wattprint import __version__
from wattprint.config import Settings, load_settings
from wattprint.errors import ConfigError, WattprintError
from wattprint.meters.base import Component, Meter, SourceStatus
from wattprint.store.journal import JournalWriter, journal_path
from wattprint.tracking import context
from wattprint.tracking.distributed import RankInfo, detect_rank, rank_gpus, single_process
from wattprint.tracking.results import Measurement, RunResult, SourceEvent
from wattprint.tracking.sampler import Sampler
from wattprint.tracking.sinks import Sink

if TYPE_CHECKING:
    from wattprint.meters.process_tree import ProcessTree
    from wattprint.tracking.remote import RemoteShipper

log = logging.getLogger("wattprint")
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Source:
    """A meter and its health: a dropped meter keeps its last good reading."""

    meter: Meter
    last: dict[str, float] = field(default_factory=dict)
    alive: bool = True


@dataclass(frozen=True)
class _Mark:
    time: float
    reading: dict[str, float]
    parent: str | None


class Tracker:
    """Measures one run. Use as a context manager, a decorator, or with ``start``/``stop``.

    >>> with Tracker(project="demo") as t:  # doctest: +SKIP
    ...     t.begin_window("epoch"); work(); m = t.end_window("epoch")
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        meters: Sequence[Meter] | None = None,  # opened by the caller, who closes them
        statuses: Sequence[SourceStatus] = (),
        root_pid: int | None = None,
        command: str | None = None,
        sinks: Sequence[Sink] = (),
        rank: RankInfo | None = None,  # default: detected from torchrun's / SLURM's variables
        device: int | str | None = None,  # the rank's GPU among the visible ones, or "all"
        labels: Mapping[str, str] | None = None,  # stored with the run: benchmark, model, …
        **overrides: Any,
    ) -> None:
        overrides = {k: v for k, v in overrides.items() if v is not None}
        if settings is not None and overrides:
            # dict(), not model_dump(): the dump leaves out the token (a secret)
            settings = Settings.model_validate({**dict(settings), **overrides})
        self.settings = settings if settings is not None else load_settings(**overrides)
        self._injected_meters = tuple(meters) if meters is not None else None
        self.statuses: tuple[SourceStatus, ...] = tuple(statuses)
        self._explicit_root = root_pid is not None
        self._root_pid = root_pid if root_pid is not None else os.getpid()
        self._tree_root_reason = "the tracked process" if root_pid is None else "given root_pid"
        if device is not None:
            try:
                rank_gpus(single_process("check"), device, {})
            except (ValueError, TypeError) as exc:
                raise WattprintError(str(exc)) from None
        self._device = device
        self.labels = _check_labels(labels)
        self.rank: RankInfo = rank if rank is not None else single_process()
        self._rank_given = rank is not None
        self._gpus_selected = False
        self._command = command
        self._lock = threading.RLock()
        self._sources: list[_Source] = []
        self._components: dict[str, Component] = {}
        self._charged: frozenset[str] = frozenset()
        self._tree: ProcessTree | None = None
        self._open: dict[str, _Mark] = {}
        self._windows: list[Measurement] = []
        self._events: list[SourceEvent] = []
        self._journal: JournalWriter | None = None
        self._shipper: RemoteShipper | None = None
        self._sinks: list[Sink] = list(sinks)
        self._journal_failing = False
        self._sampler: Sampler | None = None
        self._last_sample: dict[str, tuple[float, float]] = {}
        self._last_flush = 0.0
        self._start: _Mark | None = None
        self.run_id = uuid.uuid4().hex
        self.run_name = (
            self.settings.run or datetime.now().strftime("%Y%m%d-%H%M%S-") + (self.run_id[:6])
        )
        self.result: RunResult | None = None

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> Tracker:
        """Open the meters, write the run's first journal record, start the sampler."""
        with self._lock:
            if self._start is not None:
                return self
            if not self._rank_given:
                self.rank = _detect_rank()
            meters = self._open_meters()
            self._sources = [_Source(m) for m in meters]
            self._components = {c.name: c for m in meters for c in m.components}
            self._charged = self._initial_charge()
            self._journal = self._open_journal()
            started_at = time.time()
            self._write(
                "run",
                run_id=self.run_id,
                project=self.settings.project,
                name=self.run_name,
                host=context.hostname(),
                pid=os.getpid(),
                pid_create_time=_create_time(os.getpid()),
                started_at=started_at,
                command=self._command or context.command_line(),
                git_commit=context.git_commit(),
                hardware=self._inventory(),
                settings=self.settings.model_dump(mode="json"),
                components=[_component_record(c) for c in self._components.values()],
                version=__version__,
                tree_root_pid=self._tree.root_pid if self._tree is not None else None,
                tree_root=self._tree_root_reason,
                labels=self.labels,
                **self.rank.record_fields(),
            )
            self._start = _Mark(started_at, self._read(), None)
            self._write_attribution("start")
            self._flush(sync=False)
            self._shipper = self._start_shipper()
            self._sampler = Sampler(self._tick, self.settings.sample_interval_s)
            self._sampler.start()
            atexit.register(self._at_exit)
            return self

    def stop(
        self, status: str = "finished", error: str | None = None, exit_code: int | None = None
    ) -> RunResult:
        """Close open windows, write the totals and close the meters. Idempotent."""
        with self._lock:
            if self.result is not None:
                return self.result
            if self._start is None:
                raise WattprintError("stop() called on a tracker that was never started")
            if self._sampler is not None:
                self._sampler.stop()
            self._update_attribution()
            for name in list(self._open):
                self.end_window(name)
            end = time.time()
            reading = self._read(poll=True)
            self._record_samples(end, reading)
            total = self._measure("run", self._start, end, reading)
            self._write(
                "end",
                ended_at=end,
                status=status,
                energy_j=total.energy_j,
                error=error,
                exit_code=exit_code,
            )
            self._final_flush()
            if self._shipper is not None and self._journal is not None:
                self._shipper.finish(self._journal.path, self.settings.server_flush_timeout_s)
                self._flush(sync=True)  # the event of a refusal that came meanwhile
            if self._journal is not None:
                _quietly(self._journal.close)
            for sink in self._sinks:
                _quietly(sink.close)
            if self._injected_meters is None:  # meters passed in belong to the caller
                for source in self._sources:
                    _quietly(source.meter.close)
            atexit.unregister(self._at_exit)
            self.result = RunResult(
                run_id=self.run_id,
                project=self.settings.project,
                run=self.run_name,
                status=status,
                total=total,
                windows=tuple(self._windows),
                events=tuple(self._events),
            )
            return self.result

    def __enter__(self) -> Tracker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.stop()
        else:
            self.stop("failed", error=f"{type(exc).__name__}: {exc}")

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        """Decorate ``func`` so that each call runs under a fresh tracker with these settings."""

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with Tracker(
                self.settings,
                meters=self._injected_meters,
                statuses=self.statuses,
                rank=self.rank if self._rank_given else None,
                device=self._device,
            ):
                return func(*args, **kwargs)

        return wrapper

    def _at_exit(self) -> None:
        _quietly(self.stop)

    # ------------------------------------------------------------------- windows
    def begin_window(self, name: str) -> None:
        """Open the window ``name``; windows nest and overlap freely, names are unique."""
        with self._lock:
            self._require_running()
            if name in self._open:
                raise WattprintError(f"window {name!r} is already open; end it first")
            parent = next(reversed(self._open), None)
            self._open[name] = _Mark(time.time(), self._read(), parent)

    def end_window(self, name: str) -> Measurement:
        """Close the window ``name`` and return its energy and duration."""
        with self._lock:
            mark = self._open.pop(name, None)
            if mark is None:
                opened = ", ".join(repr(n) for n in self._open) or "none"
                raise WattprintError(f"no open window named {name!r} (open: {opened})")
            self._update_attribution()
            end = time.time()
            m = self._measure(name, mark, end, self._read())
            self._windows.append(m)
            self._write(
                "window",
                name=name,
                parent=mark.parent,
                started_at=m.start_time,
                ended_at=m.end_time,
                energy_j=dict(m.energy_j),  # the caller may mutate the one it gets
            )
            return m

    @contextmanager
    def window(self, name: str) -> Iterator[None]:
        """``with tracker.window("eval"):`` — begin and end a window around a block."""
        self.begin_window(name)
        try:
            yield
        finally:
            self.end_window(name)

    def log(self, step: int | None = None, **values: float) -> None:
        """Record metrics (loss, accuracy, …) at ``step`` so energy can be set against them."""
        self._require_running()
        numbers: dict[str, float] = {}
        for key, value in values.items():
            try:
                numbers[key] = float(value)
            except (TypeError, ValueError):
                raise WattprintError(
                    f"metric {key}={value!r} is not a number; log() accepts numbers"
                ) from None
        self._write("metric", t=time.time(), step=step, values=numbers)

    def note(self, source: str, message: str) -> None:
        """Record that something happened to the run (an ``event`` record), e.g. why an
        early-stopping callback ended the training."""
        self._require_running()
        if not isinstance(source, str) or not source or not isinstance(message, str):
            raise WattprintError(
                f"note({source!r}, {message!r}): accepted: a non-empty source and a message"
            )
        event = SourceEvent(time.time(), source, message)
        self._events.append(event)
        self._write("event", t=event.time, source=source, message=message)

    @property
    def running(self) -> bool:
        """Started and not yet stopped."""
        return self._start is not None and self.result is None

    @property
    def components(self) -> tuple[Component, ...]:
        """Every component measured, charged to the run or not."""
        return tuple(self._components.values())

    # ------------------------------------------------------------------ internals
    def _require_running(self) -> None:
        if not self.running:
            raise WattprintError("the tracker is not running; call start() or use `with`")

    def _open_meters(self) -> list[Meter]:
        if self._injected_meters is not None:
            return list(self._injected_meters)
        from wattprint.meters.discovery import open_meters
        from wattprint.meters.process_tree import ProcessTree
        from wattprint.tracking.distributed import host_tree_root

        rank = self.rank
        if rank.distributed and rank.measures_host and not self._explicit_root:
            # The elected rank measures the node's CPU and RAM for all its local ranks.
            root = host_tree_root(rank)
            self._root_pid, self._tree_root_reason = root.pid, root.reason
        self._tree = ProcessTree(self._root_pid)
        try:
            gpus = rank_gpus(rank, self._device)
        except ValueError as exc:  # validated in __init__; never break the run
            log.warning("wattprint: %s; measuring every visible GPU", exc)
            gpus = os.environ.get("CUDA_VISIBLE_DEVICES")
        self._gpus_selected = rank.distributed or self._device is not None
        meters, statuses = open_meters(
            self.settings, self._tree, host=rank.measures_host, gpus=gpus
        )
        self.statuses = tuple(statuses)
        return list(meters)

    def _inventory(self) -> dict[str, Any]:
        try:
            from wattprint.hardware.cpu import detect_cpu
            from wattprint.meters.discovery import hardware_inventory

            return hardware_inventory(list(self.statuses), detect_cpu())
        except Exception as exc:  # an inventory is nice to have, never worth a crash
            log.warning("wattprint: hardware inventory failed: %s", exc)
            return {"error": str(exc)}

    def _read(self, poll: bool = False) -> dict[str, float]:
        """Cumulative joules per component; a meter that fails is dropped, keeping its
        last reading, so totals stay monotonic and nothing measured is lost. With
        ``poll``, meters that need polling are read through ``poll`` (the sampler)."""
        merged: dict[str, float] = {}
        for source in self._sources:
            if source.alive:
                meter = source.meter
                try:
                    source.last = meter.poll() if poll and meter.needs_polling else meter.read()
                except Exception as exc:
                    self._drop(source, exc)
            merged.update(source.last)
        return merged

    def _drop(self, source: _Source, exc: BaseException) -> None:
        source.alive = False
        name = source.meter.name
        message = f"lost at {datetime.now():%H:%M:%S} ({type(exc).__name__}: {exc}); "
        message += "its energy up to then is kept"
        log.warning("wattprint: energy source %s %s", name, message)
        event = SourceEvent(time.time(), name, message)
        self._events.append(event)
        self._write("event", t=event.time, source=name, message=message)
        if self._injected_meters is None:
            _quietly(source.meter.close)

    def _measure(
        self, name: str, start: _Mark, end: float, reading: dict[str, float]
    ) -> Measurement:
        before = start.reading
        charged = self._charged
        energy = {
            comp: max(0.0, joules - before.get(comp, 0.0))
            for comp, joules in reading.items()
            if comp in charged
        }
        return Measurement(name, start.time, end, energy, self._components)

    def _tick(self) -> None:
        with self._lock:
            if self.result is not None:
                return
            now = time.time()
            self._record_samples(now, self._read(poll=True))
            self._update_attribution()
            if now - self._last_flush >= self.settings.flush_interval_s:
                self._flush(sync=False)

    def _record_samples(self, now: float, reading: dict[str, float]) -> None:
        """Samples of the charged components, in joules since the run started."""
        assert self._start is not None
        base = self._start.reading
        rows: list[list[Any]] = []
        for comp, cumulative in reading.items():
            if comp not in self._charged:
                continue
            joules = cumulative - base.get(comp, 0.0)
            prev = self._last_sample.get(comp)
            power = None
            if prev is not None and now > prev[0]:
                power = (joules - prev[1]) / (now - prev[0])
            rows.append([now, comp, joules, power])
            self._last_sample[comp] = (now, joules)
        if rows:
            self._write("samples", rows=rows)

    # GPU attribution: in process mode a GPU is charged once a tracked process is seen
    # on it, or when CUDA_VISIBLE_DEVICES names the GPUs (a scheduler's allocation).
    def _initial_charge(self) -> frozenset[str]:
        names = set(self._components)
        if (
            self.settings.attribution == "machine"
            or os.environ.get("CUDA_VISIBLE_DEVICES")
            or self._gpus_selected  # the rank's own GPU, or the one the caller named
        ):
            return frozenset(names)
        return frozenset(n for n in names if self._components[n].kind != "gpu")

    def _update_attribution(self) -> None:
        if len(self._charged) == len(self._components):
            return  # everything is charged already: nothing to look up
        pids = self._tree.pids() if self._tree is not None else {os.getpid()}
        used: set[str] = set()
        for source in self._sources:
            in_use_by = getattr(source.meter, "in_use_by", None)
            if source.alive and in_use_by is not None:
                used |= in_use_by(pids)
        charged = self._charged | used
        if charged != self._charged:
            self._charged = frozenset(charged)
            self._write_attribution("a tracked process was seen on " + ", ".join(sorted(used)))

    def _write_attribution(self, why: str) -> None:
        uncharged = sorted(set(self._components) - self._charged)
        if not uncharged and why == "start":
            return
        reason = why
        if uncharged:
            reason += f"; not charged (no tracked process seen on them): {', '.join(uncharged)}"
        self._write("event", t=time.time(), source="attribution", message=reason)

    # ------------------------------------------------------------------- journal
    def _open_journal(self) -> JournalWriter:
        try:
            return JournalWriter(journal_path(self.settings.journal_dir, self.run_id))
        except OSError as exc:
            fallback = journal_path(_fallback_dir(), self.run_id)
            message = f"cannot write {self.settings.journal_dir} ({exc}); journal is {fallback}"
            log.warning("wattprint: %s", message)
            self._events.append(SourceEvent(time.time(), "journal", message))
            return JournalWriter(fallback)

    def _write(self, kind: str, **fields: Any) -> None:
        if self._journal is None:
            return
        record = self._journal.append(kind, **fields)
        for sink in list(self._sinks):
            try:
                sink.record(record)
            except Exception as exc:
                self._drop_sink(sink, exc)

    def _drop_sink(self, sink: Sink, exc: BaseException) -> None:
        self._sinks.remove(sink)
        name = type(sink).__name__
        message = f"sink {name} dropped ({type(exc).__name__}: {exc})"
        log.warning("wattprint: %s", message)
        event = SourceEvent(time.time(), name, message)
        self._events.append(event)
        self._write("event", t=event.time, source=name, message=message)
        _quietly(sink.close)

    def _flush(self, sync: bool) -> None:
        journal = self._journal
        if journal is None:
            return
        self._last_flush = time.time()
        try:
            journal.flush(sync=sync)
            self._journal_failing = False
            if self._shipper is not None:
                self._shipper.wake()
        except OSError as exc:
            if not self._journal_failing:
                self._journal_failing = True
                message = f"cannot write {journal.path} ({exc}); {journal.pending} records kept"
                log.warning("wattprint: %s in memory, retrying", message)
                self._events.append(SourceEvent(time.time(), "journal", message))

    # -------------------------------------------------------------------- server
    def _start_shipper(self) -> RemoteShipper | None:
        """With ``settings.server``: a started shipper of the journal to the server."""
        server, journal = self.settings.server, self._journal
        if server is None or journal is None:
            return None
        token = self.settings.token.get_secret_value() if self.settings.token else None
        try:
            from wattprint.tracking.remote import RemoteShipper

            shipper = RemoteShipper.open(server, token, self.run_id, journal.path, self._unsent)
            shipper.start()
            return shipper
        except Exception as exc:  # httpx missing, …: the run is recorded locally all the same
            self._unsent(f"cannot send the run to {server} ({exc}); it is recorded locally")
            return None

    def _unsent(self, message: str) -> None:
        """The server will not get the run from this tracker: say so once, in the log and
        as an event of the run (called from the shipper's thread too)."""
        log.warning("wattprint: %s", message)
        event = SourceEvent(time.time(), "server", message)
        self._events.append(event)
        if self.result is None:
            self._write("event", t=event.time, source="server", message=message)

    def _final_flush(self) -> None:
        journal = self._journal
        if journal is None:
            return
        self._flush(sync=True)
        if journal.pending:
            fallback = journal_path(_fallback_dir(), self.run_id)
            try:
                journal.move_to(fallback)
                journal.flush(sync=True)
                message = f"journal moved to {fallback}: the first folder was not writable"
                log.warning("wattprint: %s", message)
                self._events.append(SourceEvent(time.time(), "journal", message))
            except OSError as exc:
                log.error("wattprint: could not save the run's last records: %s", exc)


def _detect_rank() -> RankInfo:
    try:
        return detect_rank()
    except Exception as exc:  # detection must never break the run
        log.warning("wattprint: rank detection failed (%s); measuring a single process", exc)
        return single_process()


def _check_labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    """Labels as a plain dict; ``ConfigError`` names the first one that is not str -> str."""
    checked: dict[str, str] = {}
    for key, value in (labels or {}).items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise ConfigError(
                f"label {key!r}: {value!r} is not accepted: labels are non-empty strings "
                "mapped to strings"
            )
        checked[key] = value
    return checked


def _fallback_dir() -> Path:
    return Path(tempfile.gettempdir()) / "wattprint-journal"


def _component_record(c: Component) -> dict[str, Any]:
    return {
        "name": c.name,
        "kind": c.kind,
        "source": c.source,
        "quality": c.quality,
        "description": c.description,
        "basis": c.basis,
        "low_ratio": c.low_ratio,
        "high_ratio": c.high_ratio,
    }


def _create_time(pid: int) -> float | None:
    try:
        import psutil

        return float(psutil.Process(pid).create_time())
    except Exception:
        return None


def _quietly(func: Callable[[], object]) -> None:
    try:
        func()
    except Exception as exc:
        log.debug("wattprint: ignored during cleanup: %s", exc)
