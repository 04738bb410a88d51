"""``PrometheusExporter``: a run's energy and power as Prometheus metrics, served over
HTTP or pushed to a Pushgateway.

Metrics:

* ``wattprint_energy_joules_total{run,host,component,quality}`` (counter): joules
  since the run started; it only grows, by the difference from the last figure seen
  for that component, so a repeated or late cumulative reading never lowers it;
* ``wattprint_power_watts{run,host,component,quality}`` (gauge): mean power since the
  previous sample;
* ``wattprint_window_energy_joules_total{run,window}`` (counter): joules of the closed
  windows of each name (all components); nested windows each count their own energy.

``run`` is the wattprint run's name, ``host`` the machine's name, ``quality``
``measured`` or ``estimated``.

Modes (both may be used at once, or neither: then read ``exporter.registry``):

* ``port``: an HTTP endpoint (``/metrics``) on ``addr`` (127.0.0.1 by default) with
  the exporter's own registry, stopped on ``close``; ``port=0`` lets the system pick
  one, read back from ``exporter.port``;
* ``pushgateway``: a push every ``push_interval_s`` from a background thread and a
  last one at the end, grouped by ``job`` and ``run``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
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
    from prometheus_client import CollectorRegistry, Counter, Gauge

_PUSH_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class _Families:
    energy: Counter
    power: Gauge
    window: Counter


_families_lock = threading.Lock()
_families_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, _Families] = (
    weakref.WeakKeyDictionary()
)


def _families(registry: CollectorRegistry) -> _Families:
    """The wattprint metrics of ``registry``, created once per registry so that several
    runs (one after another, or at once) share them, told apart by their labels."""
    from prometheus_client import Counter, Gauge

    with _families_lock:
        families = _families_by_registry.get(registry)
        if families is None:
            labels = ("run", "host", "component", "quality")
            families = _Families(
                energy=Counter(
                    "wattprint_energy_joules",
                    "Energy used by a component since the run started (joules).",
                    labels,
                    registry=registry,
                ),
                power=Gauge(
                    "wattprint_power_watts",
                    "Mean power of a component since its previous sample (watts).",
                    labels,
                    registry=registry,
                ),
                window=Counter(
                    "wattprint_window_energy_joules",
                    "Energy of the closed windows of a name, all components (joules).",
                    ("run", "window"),
                    registry=registry,
                ),
            )
            _families_by_registry[registry] = families
        return families


class PrometheusExporter:
    """Expose a run's energy counters and power gauges to Prometheus."""

    def __init__(
        self,
        port: int | None = None,
        addr: str = "127.0.0.1",
        registry: CollectorRegistry | None = None,
        pushgateway: str | None = None,
        job: str = "wattprint",
        *,
        push_interval_s: float = 15.0,
        grouping_key: Mapping[str, str] | None = None,
    ) -> None:
        if port is not None and (
            isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535
        ):
            raise WattprintError(
                f"Prometheus port {port!r} is not accepted; use an integer from 0 (any free "
                "port) to 65535, or None for no HTTP server"
            )
        if pushgateway is not None and (not isinstance(pushgateway, str) or not pushgateway):
            raise WattprintError(
                f"pushgateway {pushgateway!r} is not accepted; use an address such as "
                "'http://127.0.0.1:9091', or None"
            )
        if not isinstance(job, str) or not job:
            raise WattprintError(f"job {job!r} is not accepted; use a non-empty name")
        interval = number(push_interval_s)
        if interval is None or interval <= 0:
            raise WattprintError(
                f"push_interval_s={push_interval_s!r} is not accepted; use a number of seconds > 0"
            )
        client = require("prometheus_client", "prometheus")
        self.registry: CollectorRegistry = (
            registry if registry is not None else client.CollectorRegistry()
        )
        self._metrics = _families(self.registry)
        self.pushgateway = pushgateway
        self.job = job
        self.push_interval_s = interval
        self._grouping_key = dict(grouping_key) if grouping_key is not None else None
        self._lock = threading.Lock()
        self._warn = Warner("Prometheus exporter")
        self._run: RunInfo | None = None
        self._last_j: dict[str, float] = {}
        self._closed = False
        self._stop = threading.Event()
        self._pusher: threading.Thread | None = None
        self._server: Any = None
        self._server_thread: threading.Thread | None = None
        self.port: int | None = None
        if port is not None:
            try:
                self._server, self._server_thread = client.start_http_server(
                    port, addr=addr, registry=self.registry
                )
            except OSError as exc:
                raise WattprintError(
                    f"cannot serve Prometheus metrics on {addr}:{port} ({exc}); "
                    "choose a free port, or 0 for any"
                ) from None
            self.port = int(self._server.server_port)

    # ---------------------------------------------------------------- the Sink API
    def record(self, record: Mapping[str, Any]) -> None:
        """Update the metrics from one record; malformed records are skipped."""
        if not isinstance(record, Mapping):
            return
        kind = record.get("kind")
        try:
            with self._lock:
                if self._closed:
                    return
                if kind == "run":
                    self._on_run(record)
                elif self._run is None:
                    return
                elif kind == "samples":
                    for _t, comp, energy, power in sample_rows(record):
                        self._advance(comp, energy, power)
                elif kind == "window":
                    self._on_window(record)
                elif kind == "end":
                    for comp, joules in energies(record.get("energy_j")).items():
                        self._advance(comp, joules, None)
        except Exception as exc:
            self._warn.warn(f"skipped a {kind} record", exc)

    def close(self) -> None:
        """Stop the push thread and push once more; stop the HTTP server."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        if self._pusher is not None:
            self._pusher.join(_PUSH_TIMEOUT_S * 2)
        if self.pushgateway is not None and self._run is not None:
            self.push()
        if self._server is not None:
            try:
                self._server.shutdown()
                self._server.server_close()
                if self._server_thread is not None:
                    self._server_thread.join(5.0)
            except Exception as exc:
                self._warn.warn("cannot stop the HTTP server", exc)

    def push(self) -> None:
        """Push the registry to the Pushgateway now (failures are logged once)."""
        if self.pushgateway is None:
            return
        from prometheus_client import push_to_gateway

        key = self._grouping_key
        if key is None:
            key = {"run": self._run.name} if self._run is not None else {}
        try:
            push_to_gateway(
                self.pushgateway,
                job=self.job,
                registry=self.registry,
                grouping_key=key,
                timeout=_PUSH_TIMEOUT_S,
            )
        except Exception as exc:
            self._warn.warn(f"cannot push to {self.pushgateway}", exc)

    # ------------------------------------------------------------------ internals
    def _labels(self, comp: str) -> tuple[str, str, str, str]:
        assert self._run is not None
        info = self._run.components.get(comp)
        return (self._run.name, self._run.host, comp, info.quality if info else "unknown")

    def _on_run(self, record: Mapping[str, Any]) -> None:
        run = parse_run(record)
        if run is None or self._run is not None:
            return
        self._run = run
        for comp in run.components:  # every series exists from the start, at 0
            self._metrics.energy.labels(*self._labels(comp))
        if self.pushgateway is not None:
            self._pusher = threading.Thread(
                target=self._push_loop, name="wattprint-prometheus-push", daemon=True
            )
            self._pusher.start()

    def _advance(self, comp: str, cumulative_j: float, power_w: float | None) -> None:
        labels = self._labels(comp)
        delta = cumulative_j - self._last_j.get(comp, 0.0)
        if delta > 0:
            self._metrics.energy.labels(*labels).inc(delta)
            self._last_j[comp] = cumulative_j
        if power_w is not None:
            self._metrics.power.labels(*labels).set(power_w)

    def _on_window(self, record: Mapping[str, Any]) -> None:
        assert self._run is not None
        name = record.get("name")
        if not isinstance(name, str):
            return
        joules = sum(energies(record.get("energy_j")).values())
        self._metrics.window.labels(self._run.name, name).inc(joules)

    def _push_loop(self) -> None:
        while not self._stop.wait(self.push_interval_s):
            self.push()
