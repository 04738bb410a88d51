"""The background sampler: polls the meters that need it, records the time series and
flushes the journal. It catches everything: nothing it does can raise into the
program being measured."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("wattprint")


class Sampler:
    """Calls ``tick`` every ``interval_s`` seconds on a daemon thread until ``stop``."""

    def __init__(self, tick: Callable[[], None], interval_s: float) -> None:
        self._tick = tick
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wattprint-sampler", daemon=True)
        self._failed_once = False

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self._tick()
            except Exception:  # the sampler must never die or raise into the user's program
                if not self._failed_once:
                    self._failed_once = True
                    log.exception("wattprint: sampler tick failed; sampling continues")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread and wait for its current tick to finish. Idempotent."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
