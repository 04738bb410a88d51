"""A wattprint server that a test can stop and start again: the real app served by uvicorn
on 127.0.0.1, on one port and one data folder across restarts (what a team server does
when it is restarted under its trackers)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn

from tests.server.conftest import free_port
from wattprint.config import Settings
from wattprint.server.app import create_app
from wattprint.server.auth import AccessPolicy

TOKEN = "remote-test-token"


class LiveServer:
    """``start()`` / ``stop()`` the app over the data folder ``dir``, on ``url``."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder
        self.settings = Settings(dir=folder)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LiveServer:
        """Serve a fresh app (new process state, same folder) until ``stop``."""
        app = create_app(self.settings, AccessPolicy(TOKEN, token_for_read=False))
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(target=server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert self._thread.is_alive(), "uvicorn exited at start"
            assert time.monotonic() < deadline, "uvicorn did not start in 30 s"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving (connections are closed; the port is free again)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
            assert not self._thread.is_alive(), "uvicorn did not stop in 30 s"
        self._server = self._thread = None
