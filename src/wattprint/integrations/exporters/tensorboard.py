"""``TensorBoardExporter``: a run's power, energy, windows and metrics as TensorBoard
scalars, through ``torch.utils.tensorboard.SummaryWriter``.

Scalars (component names as the tracker reports them, e.g. ``cpu:0``):

* ``wattprint/power_w/<component>``: mean power since the previous sample;
* ``wattprint/energy_j/<component>``: cumulative joules since the run started;
  both at every sample, global step = the sample's index for that component (0, 1, 2,
  …) and wall time = the sample's time, so TensorBoard's "relative" and "wall" axes show
  real time;
* ``wattprint/window/<name>/energy_j``: each closed window's joules (all components),
  step = the window's ordinal among windows of that name;
* ``wattprint/metric/<name>``: each value given to ``tracker.log``, step = the logged
  step, or the value's ordinal when the step was ``None``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from wattprint.errors import WattprintError
from wattprint.integrations.exporters._base import (
    Warner,
    energies,
    number,
    require,
    sample_rows,
)

PREFIX = "wattprint"


class TensorBoardExporter:
    """Write a run's energy scalars to ``log_dir``, or into an existing ``writer`` (a
    ``SummaryWriter`` shared with the training code, which stays open at the end)."""

    def __init__(
        self,
        log_dir: str | os.PathLike[str] | None = None,
        *,
        writer: Any = None,
        flush_secs: float = 10.0,
    ) -> None:
        if (log_dir is None) == (writer is None):
            raise WattprintError(
                "TensorBoardExporter needs exactly one of log_dir (a folder) or writer "
                f"(a SummaryWriter); got log_dir={log_dir!r}, writer={writer!r}"
            )
        if writer is None:
            module = require("torch.utils.tensorboard", "tensorboard")
            writer = module.SummaryWriter(log_dir=os.fspath(log_dir), flush_secs=flush_secs)  # type: ignore[arg-type]
            self._owns_writer = True
        elif not callable(getattr(writer, "add_scalar", None)):
            raise WattprintError(
                f"writer={writer!r} is not accepted; pass a torch.utils.tensorboard.SummaryWriter"
            )
        else:
            self._owns_writer = False
        self.writer = writer
        self._lock = threading.Lock()
        self._warn = Warner("TensorBoard exporter")
        self._sample_index: dict[str, int] = {}
        self._window_index: dict[str, int] = {}
        self._metric_index: dict[str, int] = {}
        self._closed = False

    def record(self, record: Mapping[str, Any]) -> None:
        """Write the scalars of one record; malformed records are skipped."""
        if not isinstance(record, Mapping):
            return
        kind = record.get("kind")
        try:
            with self._lock:
                if self._closed:
                    return
                if kind == "samples":
                    self._on_samples(record)
                elif kind == "window":
                    self._on_window(record)
                elif kind == "metric":
                    self._on_metric(record)
        except Exception as exc:
            self._warn.warn(f"skipped a {kind} record", exc)

    def close(self) -> None:
        """Flush; close the writer when this exporter opened it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            if self._owns_writer:
                self.writer.close()
            else:
                self.writer.flush()
        except Exception as exc:
            self._warn.warn("cannot flush the event file", exc)

    def _on_samples(self, record: Mapping[str, Any]) -> None:
        for t, comp, energy, power in sample_rows(record):
            step = self._sample_index.get(comp, 0)
            self._sample_index[comp] = step + 1
            self.writer.add_scalar(f"{PREFIX}/energy_j/{comp}", energy, step, walltime=t)
            if power is not None:
                self.writer.add_scalar(f"{PREFIX}/power_w/{comp}", power, step, walltime=t)

    def _on_window(self, record: Mapping[str, Any]) -> None:
        name, end = record.get("name"), number(record.get("ended_at"))
        if not isinstance(name, str) or end is None:
            return
        step = self._window_index.get(name, 0)
        self._window_index[name] = step + 1
        joules = sum(energies(record.get("energy_j")).values())
        self.writer.add_scalar(f"{PREFIX}/window/{name}/energy_j", joules, step, walltime=end)

    def _on_metric(self, record: Mapping[str, Any]) -> None:
        values, t = record.get("values"), number(record.get("t"))
        if not isinstance(values, Mapping) or t is None:
            return
        raw_step = record.get("step")
        for name, raw in values.items():
            value = number(raw)
            if not isinstance(name, str) or value is None:
                continue
            index = self._metric_index.get(name, 0)
            self._metric_index[name] = index + 1
            step = (
                raw_step if isinstance(raw_step, int) and not isinstance(raw_step, bool) else index
            )
            self.writer.add_scalar(f"{PREFIX}/metric/{name}", value, step, walltime=t)
