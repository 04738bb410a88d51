"""PrometheusExporter: a real HTTP endpoint scraped with urllib, and pushes to a tiny
Pushgateway stand-in started by the test, parsed with prometheus_client's parser."""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fakes.sysfs import FakePowercap
from tests.integrations.exporters.conftest import (
    MALFORMED,
    advance,
    end,
    run_record,
    samples,
    tracker,
    window,
)
from wattprint.errors import WattprintError

prometheus_client = pytest.importorskip("prometheus_client")
from prometheus_client import CollectorRegistry, generate_latest  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from wattprint.integrations.exporters import PrometheusExporter  # noqa: E402

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    """The value of the one sample named ``name`` whose labels include ``labels``."""
    found = [
        v for (n, ls), v in samples.items() if n == name and labels.items() <= dict(ls).items()
    ]
    assert len(found) <= 1, found
    return found[0] if found else None


def _scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return _parse(response.read().decode())


def test_server_mode_serves_a_running_tracker(data_dir: Path, powercap: FakePowercap) -> None:
    exporter = PrometheusExporter(port=0)
    assert exporter.port
    with tracker(powercap, [exporter], run="r1") as t:
        with t.window("epoch"):
            advance(powercap, "intel-rapl:0", 30.0)
        deadline = time.monotonic() + 5
        while True:  # the sampler reports the 30 J and a power within a few ticks
            scraped = _scrape(exporter.port)
            energy = _value(scraped, "wattprint_energy_joules_total", component="cpu:0")
            power = _value(scraped, "wattprint_power_watts", component="cpu:0")
            if (energy == pytest.approx(30.0) and power is not None) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert energy == pytest.approx(30.0)
        labels = {"component": "cpu:0", "run": "r1", "quality": "measured"}
        assert _value(scraped, "wattprint_energy_joules_total", **labels) == energy
        host = dict(next(ls for (n, ls) in scraped if n == "wattprint_energy_joules_total"))
        assert host["host"]
        window_j = _value(scraped, "wattprint_window_energy_joules_total", run="r1", window="epoch")
        assert window_j == pytest.approx(30.0)
        assert power is not None and power >= 0
        advance(powercap, "intel-rapl:1", 5.0)
    final = _parse(generate_latest(exporter.registry).decode())
    assert _value(final, "wattprint_energy_joules_total", component="cpu:1") == pytest.approx(5.0)
    with pytest.raises(urllib.error.URLError):  # the server stopped on close
        _scrape(exporter.port)


def test_counters_stay_monotonic_when_energy_is_reported_again() -> None:
    exporter = PrometheusExporter()
    exporter.record(run_record())
    exporter.record(samples(1, ("cpu:0", 10.0, None)))
    exporter.record(samples(2, ("cpu:0", 25.0, 15.0)))
    exporter.record(samples(2, ("cpu:0", 25.0, 15.0)))  # the same cumulative figure again
    exporter.record(samples(3, ("cpu:0", 20.0, 12.0)))  # a lower, late figure
    exporter.record(window("epoch", 0, 2, cpu_0=20.0, ram=1.0))
    exporter.record(window("epoch", 2, 3, cpu_0=4.0))
    for bad in MALFORMED:
        exporter.record(bad)
    exporter.record(end(4, cpu_0=31.0, ram=2.0))
    exporter.close()
    exporter.record(samples(5, ("cpu:0", 99.0, None)))  # after close: ignored
    got = _parse(generate_latest(exporter.registry).decode())
    assert _value(got, "wattprint_energy_joules_total", component="cpu:0") == pytest.approx(31.0)
    assert _value(got, "wattprint_energy_joules_total", component="ram") == pytest.approx(2.0)
    assert _value(got, "wattprint_energy_joules_total", component="ram", quality="estimated")
    assert _value(got, "wattprint_power_watts", component="cpu:0") == pytest.approx(12.0)
    assert _value(got, "wattprint_window_energy_joules_total", window="epoch") == pytest.approx(25)


def test_concurrent_samples_count_each_joule_once() -> None:
    exporter = PrometheusExporter()
    exporter.record(run_record())

    def feed() -> None:  # four threads report the same cumulative series, interleaved
        for i in range(1, 501):
            exporter.record(samples(i, ("cpu:0", float(i), 1.0)))

    threads = [threading.Thread(target=feed) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    got = _parse(generate_latest(exporter.registry).decode())
    assert _value(got, "wattprint_energy_joules_total", component="cpu:0") == pytest.approx(500)


def test_runs_share_a_registry_told_apart_by_their_run_label() -> None:
    registry = CollectorRegistry()
    for name, joules in (("a", 3.0), ("b", 4.0)):
        exporter = PrometheusExporter(registry=registry)
        exporter.record({**run_record(), "name": name})
        exporter.record(end(1, cpu_0=joules))
        exporter.close()
    got = _parse(generate_latest(registry).decode())
    assert _value(got, "wattprint_energy_joules_total", run="a", component="cpu:0") == 3.0
    assert _value(got, "wattprint_energy_joules_total", run="b", component="cpu:0") == 4.0


class _Gateway(BaseHTTPRequestHandler):
    bodies: list[tuple[str, str, str]]

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.bodies.append((self.command, self.path, self.rfile.read(length).decode()))
        self.send_response(200)
        self.end_headers()

    do_PUT = do_POST = _record

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    bodies: list[tuple[str, str, str]] = []
    handler = type("Handler", (_Gateway,), {"bodies": bodies})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_push_mode_pushes_on_a_timer_and_at_the_end(
    gateway: tuple[str, list[tuple[str, str, str]]], data_dir: Path, powercap: FakePowercap
) -> None:
    url, bodies = gateway
    exporter = PrometheusExporter(pushgateway=url, job="train", push_interval_s=0.05)
    with tracker(powercap, [exporter], run="r7") as t:
        advance(powercap, "intel-rapl:0", 12.0)
        deadline = time.monotonic() + 5
        while not bodies and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bodies, "no push from the timer"
        timer_pushes = len(bodies)
    assert t.result is not None
    assert len(bodies) > timer_pushes  # a last push after the end
    method, path, body = bodies[-1]
    assert method == "PUT"
    assert path == "/metrics/job/train/run/r7"
    got = _parse(body)
    assert _value(got, "wattprint_energy_joules_total", component="cpu:0") == pytest.approx(12.0)
    pushed = len(bodies)
    time.sleep(0.15)
    assert len(bodies) == pushed  # the timer stopped with the run


def test_an_unreachable_gateway_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exporter = PrometheusExporter(pushgateway=f"http://127.0.0.1:{port}", push_interval_s=0.02)
    exporter.record(run_record())
    time.sleep(0.1)
    exporter.record(end(1, cpu_0=1.0))
    exporter.close()  # does not raise
    assert len([r for r in caplog.records if "cannot push" in r.getMessage()]) == 1


def test_bad_arguments_get_clear_errors() -> None:
    with pytest.raises(WattprintError, match="port 70000 is not accepted"):
        PrometheusExporter(port=70000)
    with pytest.raises(WattprintError, match="push_interval_s=0 is not accepted"):
        PrometheusExporter(pushgateway="http://127.0.0.1:9091", push_interval_s=0)
    with pytest.raises(WattprintError, match="job '' is not accepted"):
        PrometheusExporter(job="")
    busy = PrometheusExporter(port=0)
    try:
        assert busy.port is not None
        with pytest.raises(WattprintError, match=f"cannot serve .* on 127.0.0.1:{busy.port}"):
            PrometheusExporter(port=busy.port)
    finally:
        busy.close()


def test_importing_the_package_imports_no_exporter_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, wattprint.integrations.exporters as e; "
        "print(sorted(m for m in ('mlflow', 'torch', 'prometheus_client', 'tensorboard') "
        "if m in sys.modules)); print(e.__all__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines()[0] == "[]"
