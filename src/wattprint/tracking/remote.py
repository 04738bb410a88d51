"""The tracker's shipper: sends the run's journal to a wattprint server while the run goes on
(``track(server=…)``, ``WATTPRINT_SERVER``).

The measured program never waits on the network: the tracker appends to its journal as
it does without a server and wakes the shipper after each flush; the shipper's daemon
thread sends what the journal holds beyond the server's last acknowledgement
(``wattprint.tracking.upload``). When the server cannot be reached (refused connection,
timeout, 5xx) the shipper waits 0.5 s, then twice as long each time up to 30 s, and
tries again, for as long as the run lasts: the journal on disk keeps every record
meanwhile. A server that refuses the records (a missing or wrong token, a request it
finds malformed) is reported once and not asked again; the run stays complete in its
journal, for ``wattprint push``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from wattprint.tracking.upload import (
    IngestClient,
    JournalUpload,
    ServerRefused,
    ServerUnavailable,
)

log = logging.getLogger("wattprint")

FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0


class RemoteShipper:
    """Sends one run's journal to a server on a daemon thread, as the tracker flushes it.

    ``on_refused`` is called once, on the shipper's thread, with the reason when the
    server refuses the records for good.
    """

    def __init__(
        self, client: IngestClient, upload: JournalUpload, on_refused: Callable[[str], None]
    ) -> None:
        self._client = client
        self._upload = upload
        self._on_refused = on_refused
        self._wake = threading.Event()  # the journal grew
        self._hurry = threading.Event()  # cut a back-off wait short: finishing or stopping
        self._stop = threading.Event()
        self._finishing = False
        self._complete = False
        self._refused = False
        self._down = False
        self._thread = threading.Thread(target=self._run, name="wattprint-shipper", daemon=True)

    @classmethod
    def open(
        cls,
        server: str,
        token: str | None,
        run_id: str,
        journal: Path,
        on_refused: Callable[[str], None],
    ) -> RemoteShipper:
        """A shipper of ``journal`` to ``server``, not started (``WattprintError`` when
        ``httpx`` is missing)."""
        client = IngestClient(server, token)
        return cls(client, JournalUpload(client, run_id, journal), on_refused)

    def start(self) -> None:
        """Start sending."""
        self._thread.start()

    def wake(self) -> None:
        """Say that the journal has new records on disk (cheap: sets an event)."""
        self._wake.set()

    def finish(self, journal: Path, timeout_s: float) -> bool:
        """Send the rest of the journal (now ending in file ``journal``) for at most
        ``timeout_s`` seconds, then stop; returns whether everything was sent. What is
        left stays in the journal, and a warning says so."""
        self._upload.follow(journal)
        self._finishing = True
        self._wake.set()
        self._hurry.set()  # a server down: try now rather than at the end of the back-off
        self._thread.join(timeout_s)
        self._stop.set()
        self._wake.set()
        self._hurry.set()
        if not self._complete and not self._refused:
            left = self._upload.unsent_bytes()
            if left:
                log.warning(
                    "wattprint: %d bytes of run %s not sent to %s within %g s; they stay in "
                    "%s: `wattprint push` sends them",
                    left,
                    self._upload.run_id,
                    self._client.server,
                    timeout_s,
                    self._upload.journal,
                )
        return self._complete

    def _run(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            finishing = self._finishing
            self._wake.clear()
            try:
                self._upload.send_pending()
            except ServerRefused as exc:
                self._refused = True
                self._on_refused(
                    f"{exc}; not sending run {self._upload.run_id} any more: it is complete in "
                    f"{self._upload.journal}, for `wattprint push`"
                )
                break
            except Exception as exc:  # unreachable, 5xx, an unreadable journal: try again
                self._went_down(exc)
                delay = min(MAX_BACKOFF_S, delay * 2) if delay else FIRST_BACKOFF_S
                if self._hurry.wait(delay):
                    self._hurry.clear()
                    delay = 0.0  # finishing: back off afresh from now
                continue
            self._came_back()
            delay = 0.0
            if finishing:
                self._complete = True
                break
            self._wake.wait()
        self._client.close()

    def _went_down(self, exc: Exception) -> None:
        if not self._down:
            self._down = True
            if not isinstance(exc, ServerUnavailable):
                exc = ServerUnavailable(f"cannot send to {self._client.server} ({exc!r})")
            log.warning(
                "wattprint: %s; the run's records wait in %s and are sent when it answers",
                exc,
                self._upload.journal,
            )

    def _came_back(self) -> None:
        if self._down:
            self._down = False
            log.info("wattprint: server %s reachable again", self._client.server)
