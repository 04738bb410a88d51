"""``wattprint ui``: the token made at first start (private, printed, kept), the server and
its worker started and stopped together, and the token required beyond 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.meters.nvml_shim import NVML_ERROR_DRIVER_NOT_LOADED, NvmlShim, two_gpus
from tests.server.conftest import free_port
from wattprint.errors import ConfigError
from wattprint.server.auth import TOKEN_FILE, load_or_create_token
from wattprint.server.launch import is_loopback, worker_devices


def test_token_is_made_once_and_private(tmp_path: Path) -> None:
    token, created = load_or_create_token(tmp_path / "d")
    assert created and len(token) >= 32
    assert stat.S_IMODE((tmp_path / "d" / TOKEN_FILE).stat().st_mode) == 0o600
    assert load_or_create_token(tmp_path / "d") == (token, False)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("gpu-node", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_worker_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert worker_devices("auto", NvmlShim(two_gpus())) == ["cuda:0", "cuda:1"]
    no_driver = NvmlShim([], init_error=NVML_ERROR_DRIVER_NOT_LOADED)
    assert worker_devices("auto", no_driver) == [None]  # no GPU: one worker, any device
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert worker_devices("auto", NvmlShim(two_gpus())) == ["cuda:1"]
    assert worker_devices("none") == [None]
    assert worker_devices("0,1,1") == ["cuda:0", "cuda:1"]
    for bad in ("two", "-1", ""):
        with pytest.raises(ConfigError, match="accepted: auto, none"):
            worker_devices(bad)


def _get(url: str, token: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _serve(data_dir: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    command = [sys.executable, "-m", "wattprint", "ui", "--no-browser", "--gpus", "none"]
    ui = subprocess.Popen(
        [*command, "--port", str(port), "--dir", str(data_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        assert ui.poll() is None, ui.communicate()[1]
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/static/app.css", timeout=1)
            return ui, port
        except OSError:
            assert time.monotonic() < deadline, "wattprint ui did not answer in 60 s"
            time.sleep(0.2)


def _stop(ui: subprocess.Popen[str], signum: int = signal.SIGINT) -> str:
    ui.send_signal(signum)
    _, stderr = ui.communicate(timeout=60)
    return stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ui_serves_with_a_worker_and_stops_both(data_dir: Path, signum: int) -> None:
    ui, port = _serve(data_dir)
    try:
        status, meta = _get(f"http://127.0.0.1:{port}/api/meta")
        assert status == 200 and meta["token_required"] == {"read": False, "launch": True}
        workers = subprocess.run(
            ["pgrep", "-f", f"wattprint worker --dir {data_dir}"], capture_output=True, text=True
        ).stdout.split()
        assert len(workers) == 1
    finally:
        stderr = _stop(ui, signum)
    token = (data_dir / TOKEN_FILE).read_text().strip()
    assert f"/login?token={token}" in stderr and "access token created" in stderr
    assert "1 local job worker(s)" in stderr
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.kill(int(workers[0]), 0)  # the worker stopped with the server


def test_ui_beyond_loopback_requires_the_token_for_reading(data_dir: Path) -> None:
    load_or_create_token(data_dir)
    ui, port = _serve(data_dir, "--host", "0.0.0.0")
    try:
        status, body = _get(f"http://127.0.0.1:{port}/api/meta")
        assert status == 401 and "access token" in str(body["detail"])
        token = (data_dir / TOKEN_FILE).read_text().strip()
        status, meta = _get(f"http://127.0.0.1:{port}/api/meta", token)
        assert status == 200 and meta["token_required"] == {"read": True, "launch": True}
    finally:
        stderr = _stop(ui)
    assert "every request needs the access token" in stderr
    assert "access token created" not in stderr  # made before: only printed in the URL


def test_ui_bad_port_is_one_clear_error(data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wattprint", "ui", "--no-browser", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--port 70000: accepted: 1-65535" in done.stderr


def test_ui_on_a_team_store_asks_for_user_tokens(data_dir: Path) -> None:
    from wattprint.config import Settings
    from wattprint.store.access import AccessStore
    from wattprint.store.repository import Store

    with Store.from_settings(Settings(dir=data_dir)) as store:
        AccessStore(store).add_user("alice")
    ui, port = _serve(data_dir)
    try:
        status, body = _get(f"http://127.0.0.1:{port}/api/meta")
        assert status == 401 and "API token" in str(body["detail"])
    finally:
        stderr = _stop(ui)
    assert "team dashboard" in stderr and "YOUR_API_TOKEN" in stderr
    assert "access token created" not in stderr
