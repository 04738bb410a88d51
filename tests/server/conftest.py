"""Fixtures of the dashboard tests: a store seeded by the real tracker and benchmark runner,
the app over it (``client``: in-process; ``live``: uvicorn on 127.0.0.1 with a local job
worker, for the browser tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.fakes.sysfs import FakePowercap
from tests.report.conftest import store_benchmark
from tests.report.helpers import plain_run, tracked_run
from wattprint.config import Settings
from wattprint.server.app import create_app
from wattprint.server.auth import AccessPolicy, load_or_create_token
from wattprint.server.launch import start_workers

HOSTS = {"cifar": "gpu-node-1", "cifar-small": "gpu-node-2", "plain": "gpu-node-1"}


@dataclass(frozen=True)
class Seeded:
    dir: Path
    settings: Settings
    run_ids: dict[str, str]
    benchmark_id: str
    token: str


def _seed(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Seeded:
    """Three runs of project ``vision`` by the real tracker over a fake RAPL tree (``cifar``
    6 epochs, ``cifar-small`` 4 epochs at half the energy, ``plain`` no windows), each on
    its own host, and a tiny NLP benchmark by the real runner."""
    import socket as sock

    monkeypatch.setenv("WATTPRINT_DIR", str(folder))
    powercap = FakePowercap(folder.parent / "powercap")
    powercap.add_zone("intel-rapl:0", "package-0", 1_000_000)
    powercap.add_zone("intel-rapl:0:0", "core", 500_000)
    powercap.add_zone("intel-rapl:0:1", "dram", 200_000)
    powercap.add_zone("intel-rapl:1", "package-1", 7_000_000)
    run_ids = {}
    for name, make in (
        ("cifar", lambda: tracked_run(powercap, "cifar")),
        ("cifar-small", lambda: tracked_run(powercap, "cifar-small", epochs=4, scale=0.5)),
        ("plain", lambda: plain_run(powercap)),
    ):
        monkeypatch.setattr(sock, "gethostname", lambda name=name: HOSTS[name])
        run_ids[name] = make()
    monkeypatch.undo()
    bench = store_benchmark(folder)
    token, _ = load_or_create_token(folder)
    return Seeded(folder, Settings(dir=folder), run_ids, bench.benchmark.id, token)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One seeded data folder per test module."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _seed(tmp_path_factory.mktemp("ui") / "data", monkeypatch)


@pytest.fixture(scope="module")
def client(seeded: Seeded) -> Iterator[TestClient]:
    """The app on 127.0.0.1: reading needs no token, launching does."""
    app = create_app(seeded.settings, AccessPolicy(seeded.token, token_for_read=False))
    with TestClient(app) as c:
        yield c


@dataclass(frozen=True)
class Live:
    url: str
    token: str
    seeded: Seeded


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(seeded: Seeded) -> Iterator[Live]:
    """The app served by uvicorn on 127.0.0.1 in a thread, with one local job worker."""
    port = free_port()
    app = create_app(seeded.settings, AccessPolicy(seeded.token, token_for_read=False))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    with start_workers(seeded.settings, [None], poll_s=0.2):
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start in 30 s"
            time.sleep(0.05)
        try:
            yield Live(f"http://127.0.0.1:{port}", seeded.token, seeded)
        finally:
            server.should_exit = True
            thread.join(timeout=30)
