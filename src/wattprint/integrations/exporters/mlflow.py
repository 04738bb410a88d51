"""``MlflowExporter``: a run's energy, power and emissions as metrics and tags of an
MLflow run.

Metrics (``<prefix>`` is ``wattprint`` by default; component names have ``:`` and
other characters MLflow refuses replaced by ``_``, so ``cpu:0`` becomes ``cpu_0``):

* ``<prefix>.energy_j.<component>``: cumulative joules since the run started, at most
  once per component every ``sample_every_s`` seconds of the sampler's clock, plus the
  final total at the end; step = whole seconds since the run started.
* ``<prefix>.power_w.<component>``: mean power since the previous sample, same rhythm.
* ``<prefix>.<window>.energy_j`` and ``<prefix>.<window>.duration_s``: each closed
  window; step = the window's ordinal among windows of that name (0, 1, 2, …).
* at the end: ``<prefix>.energy_j`` (all components), ``<prefix>.energy_kwh``,
  ``<prefix>.duration_s`` and, only when the run's settings name a ``region``,
  ``<prefix>.emissions_kg`` (with ``_low_kg``/``_high_kg``) priced with the region's
  yearly grid intensity and PUE.

Tags: ``<prefix>.run_id``, ``.run_name``, ``.project``, ``.host``, ``.status``,
``<prefix>.<component>.quality|source|basis`` and, with a region, ``.region``,
``.intensity_g_per_kwh``, ``.intensity_source``, ``.pue``, ``.pue_reason``.

``record`` only queues the record; a worker thread turns records into batched MLflow
calls, so a window costs the training loop a queue put. A failing MLflow backend is
logged once and never reaches the training loop.
"""

from __future__ import annotations

import logging
import math
import queue
import re
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wattprint.errors import WattprintError
from wattprint.integrations.exporters._base import (
    RunInfo,
    Warner,
    energies,
    number,
    parse_run,
    require,
    sample_rows,
)

if TYPE_CHECKING:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

log = logging.getLogger("wattprint")

_BAD_CHARS = re.compile(r"[^A-Za-z0-9_\-. ]")
_MAX_METRICS = 1000  # MLflow's limits per log_batch call
_MAX_TAGS = 100
_MAX_TAG_CHARS = 5000
_STOP = object()
_CLOSE_TIMEOUT_S = 60.0


def mlflow_key(name: str) -> str:
    """``name`` with every character MLflow may refuse (``:`` on Windows, ``/``) as ``_``."""
    return _BAD_CHARS.sub("_", name).strip() or "_"


class MlflowExporter:
    """Log a wattprint run into an MLflow run: the active one, ``run_id``, or one it starts.

    ``run_id`` names an existing MLflow run; without it, the run active on the thread
    that starts the tracker is used, and when none is active one is started there
    (``mlflow.start_run`` with the wattprint run's name) and ended at the end.
    ``sample_every_s`` throttles the sampled series (0 logs every sample).
    ``tracking_uri`` defaults to MLflow's own (``mlflow.set_tracking_uri`` or
    ``MLFLOW_TRACKING_URI``).
    """

    def __init__(
        self,
        run_id: str | None = None,
        prefix: str = "wattprint",
        *,
        sample_every_s: float = 10.0,
        tracking_uri: str | None = None,
    ) -> None:
        if not isinstance(prefix, str) or not prefix or mlflow_key(prefix) != prefix:
            raise WattprintError(
                f"MLflow prefix {prefix!r} is not accepted; use a non-empty name of letters, "
                "digits, '_', '-', '.' or spaces"
            )
        s = number(sample_every_s)
        if s is None or s < 0:
            raise WattprintError(
                f"sample_every_s={sample_every_s!r} is not accepted; use a number of seconds >= 0"
            )
        if run_id is not None and (not isinstance(run_id, str) or not run_id):
            raise WattprintError(f"MLflow run_id {run_id!r} is not accepted; use a run id string")
        self._mlflow = require("mlflow", "mlflow")
        tracking = require("mlflow.tracking", "mlflow")
        self.prefix = prefix
        self.sample_every_s = s
        self._client: MlflowClient = tracking.MlflowClient(tracking_uri)
        self._warn = Warner("MLflow exporter")
        self.run_id: str | None = run_id
        self._owned = False
        if run_id is not None:
            try:
                self._client.get_run(run_id)
            except Exception as exc:
                raise WattprintError(
                    f"MLflow run {run_id!r} not found at {self._client.tracking_uri} ({exc})"
                ) from None
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._status = "finished"
        # Worker state (touched by the worker thread only).
        self._run: RunInfo | None = None
        self._last_logged: dict[str, float] = {}
        self._window_count: dict[str, int] = {}

    # ---------------------------------------------------------------- the Sink API
    def record(self, record: Mapping[str, Any]) -> None:
        """Queue ``record`` for the worker; the ``run`` record also binds the MLflow run."""
        if self._closed or not isinstance(record, Mapping):
            return
        if record.get("kind") == "run":
            self._bind_run(record)
        elif record.get("kind") == "end" and record.get("status") == "failed":
            self._status = "failed"
        if self.run_id is None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="wattprint-mlflow", daemon=True
                )
                self._thread.start()
        self._queue.put(record)

    def close(self) -> None:
        """Log what is queued, then end the MLflow run if this exporter started it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(_CLOSE_TIMEOUT_S)
            if thread.is_alive():
                self._warn.warn("close", f"MLflow still busy after {_CLOSE_TIMEOUT_S:.0f} s")
        if self._owned and self.run_id is not None:
            status = "FAILED" if self._status == "failed" else "FINISHED"
            try:
                active = self._mlflow.active_run()
                if active is not None and active.info.run_id == self.run_id:
                    self._mlflow.end_run(status)
                else:
                    self._client.set_terminated(self.run_id, status)
            except Exception as exc:
                self._warn.warn("cannot end the MLflow run", exc)

    # ------------------------------------------------------------------ internals
    def _bind_run(self, record: Mapping[str, Any]) -> None:
        """Find the MLflow run on the tracker's thread (MLflow's active run is per thread)."""
        if self.run_id is not None:
            return
        try:
            active = self._mlflow.active_run()
            if active is None:
                name = record.get("name")
                active = self._mlflow.start_run(run_name=name if isinstance(name, str) else None)
                self._owned = True
                log.info("wattprint: started MLflow run %s", active.info.run_id)
            self.run_id = active.info.run_id
        except Exception as exc:
            self._warn.warn("no MLflow run to log to", exc)

    def _work(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while len(batch) < 256:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            metrics: list[Metric] = []
            tags: dict[str, str] = {}
            for item in batch:
                if item is _STOP:
                    stop = True
                    continue
                try:
                    self._convert(item, metrics, tags)  # type: ignore[arg-type]
                except Exception as exc:  # a malformed record is skipped
                    self._warn.warn("skipped a record", exc)
            self._send(metrics, tags)

    def _send(self, metrics: list[Metric], tags: dict[str, str]) -> None:
        if self.run_id is None or not (metrics or tags):
            return
        from mlflow.entities import RunTag

        tag_list = [RunTag(k, v[:_MAX_TAG_CHARS]) for k, v in tags.items()]
        try:
            for i in range(0, len(metrics), _MAX_METRICS):
                self._client.log_batch(self.run_id, metrics=metrics[i : i + _MAX_METRICS])
            for i in range(0, len(tag_list), _MAX_TAGS):
                self._client.log_batch(self.run_id, tags=tag_list[i : i + _MAX_TAGS])
        except Exception as exc:
            self._warn.warn("MLflow logging failed", exc)

    def _convert(
        self, record: Mapping[str, Any], metrics: list[Metric], tags: dict[str, str]
    ) -> None:
        kind = record.get("kind")
        if kind == "run":
            self._on_run(record, tags)
        elif self._run is None:
            return  # nothing to label the data with
        elif kind == "samples":
            self._on_samples(record, metrics)
        elif kind == "window":
            self._on_window(record, metrics)
        elif kind == "end":
            self._on_end(record, metrics, tags)

    def _metric(self, metrics: list[Metric], key: str, value: float, t: float, step: int) -> None:
        from mlflow.entities import Metric

        metrics.append(Metric(key, value, int(t * 1000), step))

    def _on_run(self, record: Mapping[str, Any], tags: dict[str, str]) -> None:
        run = parse_run(record)
        if run is None:
            return
        self._run = run
        p = self.prefix
        tags.update(
            {
                f"{p}.run_id": run.run_id,
                f"{p}.run_name": run.name,
                f"{p}.project": run.project,
                f"{p}.host": run.host,
            }
        )
        for comp in run.components.values():
            key = f"{p}.{mlflow_key(comp.name)}"
            tags[f"{key}.quality"] = comp.quality
            tags[f"{key}.source"] = comp.source
            tags[f"{key}.basis"] = comp.basis

    def _step(self, t: float) -> int:
        assert self._run is not None
        return max(0, round(t - self._run.started_at))

    def _on_samples(self, record: Mapping[str, Any], metrics: list[Metric]) -> None:
        for t, comp, energy, power in sample_rows(record):
            last = self._last_logged.get(comp)
            if last is not None and t - last < self.sample_every_s:
                continue
            self._last_logged[comp] = t
            name = mlflow_key(comp)
            self._metric(metrics, f"{self.prefix}.energy_j.{name}", energy, t, self._step(t))
            if power is not None:
                self._metric(metrics, f"{self.prefix}.power_w.{name}", power, t, self._step(t))

    def _on_window(self, record: Mapping[str, Any], metrics: list[Metric]) -> None:
        name, start, end = (
            record.get("name"),
            number(record.get("started_at")),
            number(record.get("ended_at")),
        )
        if not isinstance(name, str) or start is None or end is None:
            return
        joules = energies(record.get("energy_j"))
        ordinal = self._window_count.get(name, 0)
        self._window_count[name] = ordinal + 1
        key = f"{self.prefix}.{mlflow_key(name)}"
        self._metric(metrics, f"{key}.energy_j", sum(joules.values()), end, ordinal)
        self._metric(metrics, f"{key}.duration_s", max(0.0, end - start), end, ordinal)

    def _on_end(
        self, record: Mapping[str, Any], metrics: list[Metric], tags: dict[str, str]
    ) -> None:
        assert self._run is not None
        run, p = self._run, self.prefix
        end = number(record.get("ended_at"))
        end = time.time() if end is None else end
        step = self._step(end)
        totals = energies(record.get("energy_j"))
        for comp, joules in totals.items():
            self._metric(metrics, f"{p}.energy_j.{mlflow_key(comp)}", joules, end, step)
        total = sum(totals.values())
        self._metric(metrics, f"{p}.energy_j", total, end, step)
        self._metric(metrics, f"{p}.energy_kwh", total / 3.6e6, end, step)
        self._metric(metrics, f"{p}.duration_s", max(0.0, end - run.started_at), end, step)
        status = record.get("status")
        if isinstance(status, str):
            tags[f"{p}.status"] = status
        region = run.settings.get("region")
        if isinstance(region, str) and region:
            try:
                self._emissions(run, region, totals, end, step, metrics, tags)
            except Exception as exc:
                self._warn.warn(f"no emissions for region {region!r}", exc)

    def _emissions(
        self,
        run: RunInfo,
        region: str,
        totals: dict[str, float],
        end: float,
        step: int,
        metrics: list[Metric],
        tags: dict[str, str],
    ) -> None:
        from wattprint.carbon import (
            YearlyProvider,
            operational_emissions,
            resolve_location,
            resolve_pue,
            yearly_intensity,
        )

        location = resolve_location(region)
        intensity = yearly_intensity(location)
        pue = resolve_pue(number(run.settings.get("pue")), location)
        low = high = 0.0
        for comp, joules in totals.items():
            info = run.components.get(comp)
            low += joules * (info.low_ratio if info else 1.0)
            high += joules * (info.high_ratio if info else 1.0)
        start = min(run.started_at, end)
        emissions = operational_emissions(
            [(start, end, sum(totals.values()), low, high)],
            YearlyProvider(intensity),
            intensity,
            pue,
        )
        p = self.prefix
        for key, value in (
            ("emissions_kg", emissions.kg),
            ("emissions_low_kg", emissions.low_kg),
            ("emissions_high_kg", emissions.high_kg),
        ):
            if math.isfinite(value):
                self._metric(metrics, f"{p}.{key}", value, end, step)
        tags[f"{p}.region"] = location.code
        tags[f"{p}.intensity_g_per_kwh"] = f"{emissions.intensity_g_per_kwh:g}"
        tags[f"{p}.intensity_source"] = emissions.intensity_source
        tags[f"{p}.pue"] = f"{pue.value:g}"
        tags[f"{p}.pue_reason"] = pue.reason
