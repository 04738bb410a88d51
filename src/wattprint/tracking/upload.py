"""Sending run journals to a wattprint server: the client side of ``POST /api/ingest/RUN``.

The journal on local disk is the buffer. Its records are read from the first one the
server has not acknowledged and sent in ``seq`` order, in batches of at most
``MAX_BATCH_RECORDS`` records or about ``MAX_BATCH_BYTES`` bytes; where sending stands
is kept in a small cursor file beside the journal (``<journal>.sent``), so that the next
sender carries on from there. The server answers each batch with the next ``seq`` it
expects: a batch it already has is acknowledged again without being stored twice, and
one that starts beyond what it has gets 409 with the ``seq`` to resend from. Sending is
therefore idempotent: a lost answer, a resend or two senders at once cost only traffic.

Used by the tracker's background shipper (``wattprint.tracking.remote``) and by
``wattprint push`` (``push_journals``). ``httpx`` (the ``remote`` extra) is imported
when a client is made, never by ``import wattprint``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattprint.errors import WattprintError
from wattprint.store.journal import RUN_ID_PATTERN, SUFFIX, read_journal

log = logging.getLogger("wattprint")

INGEST_PATH = "/api/ingest/{run_id}"
MAX_BATCH_RECORDS = 1000
MAX_BATCH_BYTES = 1_000_000
CURSOR_SUFFIX = ".sent"
CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 30.0
_RETRY_STATUSES = frozenset({408, 429})  # and every 5xx


class ServerUnavailable(WattprintError):
    """The server cannot be reached or failed (refused connection, timeout, 5xx): the
    same records may be sent again later."""


class ServerRefused(WattprintError):
    """The server will not take these records (a missing or wrong token, a request it
    finds malformed), or the journal lacks the record the server expects: sending them
    again will not help."""


class IngestClient:
    """Posts batches of records to one server over one pool of HTTP connections."""

    def __init__(self, server: str, token: str | None) -> None:
        try:
            import httpx
        except ModuleNotFoundError:
            raise WattprintError(
                "sending runs to a server needs httpx: pip install 'wattprint[remote]'"
            ) from None
        self.server = server
        self._transport_error = httpx.TransportError
        self._client = httpx.Client(
            base_url=server,
            headers={"Authorization": f"Bearer {token}"} if token else {},
            timeout=httpx.Timeout(REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        )

    def post(self, run_id: str, records: Sequence[Mapping[str, Any]]) -> int:
        """Send ``records`` (in increasing ``seq`` order) of run ``run_id``; returns the next
        ``seq`` the server expects, after them when it took them, before them (409) when
        it is missing earlier ones."""
        body = {
            "batch": {"first_seq": records[0]["seq"], "last_seq": records[-1]["seq"]},
            "records": list(records),
        }
        try:
            response = self._client.post(INGEST_PATH.format(run_id=run_id), json=body)
        except self._transport_error as exc:
            raise ServerUnavailable(
                f"server {self.server} unreachable ({type(exc).__name__}: {exc})"
            ) from None
        status = response.status_code
        if status >= 500 or status in _RETRY_STATUSES:
            raise ServerUnavailable(f"server {self.server} answered {status}")
        next_seq = _next_seq(response.content) if status in (200, 409) else None
        if next_seq is None:
            raise ServerRefused(
                f"server {self.server} refused the records ({status}: {_detail(response.content)})"
            )
        return next_seq

    def close(self) -> None:
        """Close the connections."""
        self._client.close()


def _next_seq(content: bytes) -> int | None:
    try:
        value = json.loads(content).get("next_seq")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _detail(content: bytes) -> str:
    try:
        detail = json.loads(content).get("detail")
    except (ValueError, AttributeError):
        detail = None
    text = detail if isinstance(detail, str) else content.decode(errors="replace")
    return text.strip()[:300] or "no message"


# ------------------------------------------------------------------------- cursor
@dataclass(frozen=True)
class Cursor:
    """How far a journal has been sent to ``server``: the ``next_seq`` it expects, and the
    byte ``offset`` where the journal's records from that one start (a hint: reading
    from there skips what was sent)."""

    server: str
    next_seq: int = 0
    offset: int = 0


def cursor_path(journal: Path) -> Path:
    """The cursor file of ``journal``."""
    return journal.with_name(journal.name + CURSOR_SUFFIX)


def load_cursor(journal: Path, server: str) -> Cursor:
    """The cursor of ``journal`` for ``server``; from the start when there is none, it is
    unreadable, or it was kept for another server."""
    try:
        data = json.loads(cursor_path(journal).read_bytes())
        cursor = Cursor(str(data["server"]), int(data["next_seq"]), int(data["offset"]))
    except (OSError, ValueError, TypeError, KeyError):
        return Cursor(server)
    if cursor.server != server or cursor.next_seq < 0 or cursor.offset < 0:
        return Cursor(server)
    return cursor


def save_cursor(journal: Path, cursor: Cursor) -> None:
    """Replace the cursor file of ``journal`` atomically (``OSError`` when it cannot)."""
    path = cursor_path(journal)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(cursor.__dict__))
    os.replace(tmp, path)


# ------------------------------------------------------------------------- upload
class JournalUpload:
    """Sends the records of one run's journal that the server has not acknowledged.

    The journal may continue in a second file (``follow``: the tracker moved it when its
    folder became unwritable); the files are read in order.
    """

    def __init__(self, client: IngestClient, run_id: str, journal: Path) -> None:
        self._client = client
        self.run_id = run_id
        self._paths = [journal]
        self._index = 0
        cursor = load_cursor(journal, client.server)
        with suppress(OSError):
            if cursor.offset > journal.stat().st_size:  # not this journal's cursor
                cursor = Cursor(client.server)
        self._next_seq = cursor.next_seq
        self._offset = cursor.offset
        self._confirmed = False  # whether _next_seq comes from the server this time
        self._cursor_failing = False
        self.acknowledged = 0  # records the server acknowledged to this upload so far

    @property
    def journal(self) -> Path:
        """The file being sent."""
        return self._paths[self._index]

    def follow(self, journal: Path) -> None:
        """Read on from ``journal`` once the current file is sent. Safe while sending."""
        if journal != self._paths[-1]:
            self._paths.append(journal)

    def unsent_bytes(self) -> int:
        """Bytes of journal not yet acknowledged (an upper bound: what the server already
        holds is skipped without being sent)."""
        total = 0
        for i, path in enumerate(self._paths[self._index :]):
            try:
                size = path.stat().st_size
            except OSError:
                continue
            total += max(0, size - self._offset) if i == 0 else size
        return total

    def send_pending(self, on_progress: Callable[[int], None] | None = None) -> None:
        """Send every record not acknowledged yet, batch by batch (``acknowledged`` counts
        them). ``on_progress`` gets the journal bytes each batch covered.

        Raises ``ServerUnavailable`` (try again later), ``ServerRefused`` (do not) and
        ``OSError`` (the journal cannot be read).
        """
        while (batch := self._read_batch()) is not None:
            records, start, end = batch
            first, last = records[0]["seq"], records[-1]["seq"]
            expected = self._client.post(self.run_id, records)
            self._confirmed = True
            if expected > last:  # taken (or held already)
                self.acknowledged += len(records)
                self._next_seq, self._offset = expected, end
                self._save_cursor()
                if on_progress is not None:
                    on_progress(end - start)
            elif expected < first:  # 409: the server misses earlier records
                self._next_seq, self._index, self._offset = expected, 0, 0
            else:
                raise ServerRefused(
                    f"server {self._client.server} answered next_seq {expected} to records "
                    f"{first}-{last} of run {self.run_id}: not a wattprint server?"
                )

    def _read_batch(self) -> tuple[list[dict[str, Any]], int, int] | None:
        """The next records to send, with the byte span they cover; ``None`` when all
        are sent. Records before ``_next_seq`` (and lines that are not records) are
        passed over."""
        while True:
            path = self._paths[self._index]
            records: list[dict[str, Any]] = []
            start = end = self._offset
            for end_offset, record in read_journal(path, self._offset):
                seq = record.get("seq")
                if not isinstance(seq, int) or isinstance(seq, bool) or seq < self._next_seq:
                    if not records:
                        start = end = end_offset
                    continue
                if records and (
                    len(records) >= MAX_BATCH_RECORDS or end_offset - start > MAX_BATCH_BYTES
                ):
                    break
                records.append(record)
                end = end_offset
            self._offset = start
            if records:
                if self._confirmed and records[0]["seq"] > self._next_seq:
                    raise ServerRefused(
                        f"server {self._client.server} expects record {self._next_seq} of run "
                        f"{self.run_id}, which is not in {path}: send the journal that holds "
                        "it first"
                    )
                return records, start, end
            if self._index + 1 == len(self._paths):
                return None
            self._index, self._offset = self._index + 1, 0

    def _save_cursor(self) -> None:
        cursor = Cursor(self._client.server, self._next_seq, self._offset)
        try:
            save_cursor(self.journal, cursor)
            self._cursor_failing = False
        except OSError as exc:
            if not self._cursor_failing:
                self._cursor_failing = True
                log.warning(
                    "wattprint: cannot save where sending %s stands (%s); after a restart its "
                    "records are sent again (the server keeps them once)",
                    self.journal,
                    exc,
                )


# --------------------------------------------------------------------------- push
@dataclass(frozen=True)
class PushResult:
    """What ``push_journals`` did with one journal: ``records`` acknowledged now;
    ``error`` when some are still not on the server (why), and ``retry`` when pushing
    again later may send them (the server could not be reached)."""

    run_id: str
    journal: Path
    records: int
    error: str | None = None
    retry: bool = False


def pending_uploads(client: IngestClient, journal_dir: Path) -> list[JournalUpload]:
    """An upload for each run journal in ``journal_dir`` with records not yet sent to the
    client's server (told by the cursor files: sent journals are not read)."""
    uploads = []
    for path in sorted(journal_dir.glob(f"*{SUFFIX}")):
        run_id = path.name.removesuffix(SUFFIX)
        if re.match(RUN_ID_PATTERN, run_id):  # other files are not trackers' journals
            upload = JournalUpload(client, run_id, path)
            if upload.unsent_bytes() > 0:
                uploads.append(upload)
    return uploads


def push_journals(
    uploads: Sequence[JournalUpload], on_progress: Callable[[int], None] | None = None
) -> list[PushResult]:
    """Send each upload's records; a journal the server refuses is reported and the next
    one sent; an unreachable server stops the push (nothing is lost: push again later).
    ``on_progress`` gets the journal bytes each batch covered."""
    results = []
    unreachable: str | None = None
    for upload in uploads:
        before, error = upload.acknowledged, unreachable
        if unreachable is None:
            try:
                upload.send_pending(on_progress)
            except ServerUnavailable as exc:
                error = unreachable = str(exc)
            except (ServerRefused, OSError) as exc:
                error = str(exc)
        sent = upload.acknowledged - before
        retry = error is not None and error == unreachable
        results.append(PushResult(upload.run_id, upload.journal, sent, error, retry))
    return results
