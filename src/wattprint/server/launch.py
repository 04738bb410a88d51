"""``wattprint ui``: the dashboard served by uvicorn, with local job workers (one per GPU,
each running one job at a time) as child processes that stop with it.

Listening beyond 127.0.0.1 makes the access token required for everything; it is printed
at first start and kept in the data folder.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import subprocess
import sys
import webbrowser
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

from wattprint.config import Settings
from wattprint.errors import ConfigError
from wattprint.server.auth import AccessPolicy, load_or_create_token

__all__ = ["is_loopback", "serve", "start_workers", "worker_devices"]

log = logging.getLogger(__name__)
STOP_WAIT_S = 15.0


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def worker_devices(gpus: str, nvml: Any = None) -> list[str | None]:
    """The device of each worker: ``auto`` one per NVIDIA GPU NVML (``nvml``: pynvml or an
    object with its functions) shows, or one without a device when there is none; ``none``
    one that leaves devices alone; ``0,1`` those GPUs."""
    choice = gpus.strip().lower()
    if choice == "none":
        return [None]
    if choice == "auto":
        from wattprint.errors import MeterError
        from wattprint.meters.nvml import NvmlMeter

        try:
            meter = NvmlMeter(nvml)
        except (MeterError, ImportError):
            return [None]
        try:
            return [f"cuda:{c.name.removeprefix('gpu:')}" for c in meter.components]
        finally:
            meter.close()
    try:
        indices = [int(i) for i in choice.split(",") if i.strip()]
    except ValueError:
        indices = []
    if not indices or any(i < 0 for i in indices):
        raise ConfigError(f"--gpus {gpus!r}: accepted: auto, none, or GPU indices such as 0,1")
    return [f"cuda:{i}" for i in dict.fromkeys(indices)]


@contextmanager
def start_workers(
    settings: Settings, devices: Sequence[str | None], poll_s: float = 1.0
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``wattprint worker`` processes on the store of ``settings``, one per device; SIGTERM
    (which also stops and fails their running job) when the block ends."""
    workers = []
    try:
        for device in devices:
            command = [sys.executable, "-m", "wattprint", "worker", "--dir", str(settings.dir)]
            command += ["--poll-s", str(poll_s)]
            if device is not None:
                command += ["--device", device]
            workers.append(subprocess.Popen(command, stdin=subprocess.DEVNULL))
        yield workers
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = True,
    gpus: str = "auto",
    say: Callable[[str], None] = print,
) -> None:
    """Serve the dashboard until Ctrl-C, with the local job workers ``gpus`` asks for."""
    import uvicorn

    from wattprint.server.app import create_app

    if not 0 < port < 65536:
        raise ConfigError(f"--port {port}: accepted: 1-65535")
    devices = worker_devices(gpus)
    token, created = load_or_create_token(settings.dir)
    app = create_app(settings, AccessPolicy(token=token, token_for_read=not is_loopback(host)))
    policy: AccessPolicy = app.state.policy
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"
    if policy.team_mode():
        login = url
        say(f"wattprint team dashboard: {url}   (log in once: {url}/login?token=YOUR_API_TOKEN)")
    else:
        login = f"{url}/login?token={token}"
        if created:
            say(f"access token created in {settings.dir / 'ui-token'} (needed to launch jobs)")
        if policy.token_for_read:
            say(f"listening on {host}: every request needs the access token")
        say(f"wattprint dashboard: {url}   (to launch jobs, open once: {login})")
    with start_workers(settings, devices):
        names = ", ".join(d or "default device" for d in devices)
        say(f"{len(devices)} local job worker(s): {names}")
        if open_browser:
            webbrowser.open(login)
        # uvicorn re-raises the signal that stopped it; SIGTERM's default action would
        # then end the process at once, before the workers are stopped.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        uvicorn.run(app, host=host, port=port, log_level="warning")


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)
