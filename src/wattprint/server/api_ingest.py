"""``POST /api/ingest/{run_id}``: the records of remote trackers (``track(server=…)``,
``wattprint push``), in batches, each stored exactly once.

A batch is a slice of the run's journal: its records as the tracker wrote them, in
increasing ``seq`` order, the ``run`` record (seq 0) first of all. The server appends
them to a journal of its own (``<data folder>/journal/<run id>.jsonl``, written as a
tracker writes it) under a per-run lock, then ingests that journal into the store by the
same exactly-once path as every journal. That journal is also the server's memory: the
next ``seq`` it expects is one past its last record, so it survives restarts.

The answer is ``{"next_seq": n}``. Records the server has already are acknowledged again
and not stored twice (a resent batch, a lost answer); a batch starting beyond ``n`` is
answered 409 with ``n``, to resend from there. Storing needs a token that may write to
the run's project (its run record's, as the server first got it).

A tracker on the server's own machine writing to the same data folder writes that very
journal: its records are then found there already and only acknowledged.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from math import isfinite
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from wattprint.errors import ConfigError
from wattprint.server import deps
from wattprint.store.ingest import ingest_journal
from wattprint.store.journal import (
    RUN_ID_PATTERN,
    encode_records,
    journal_path,
    last_record,
    read_journal,
)
from wattprint.store.repository import Store

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/ingest", tags=["ingest"])
MAX_BATCH_RECORDS = 10_000


def may_write(request: Request, project: str) -> None:
    """401/403 unless the request may send runs of ``project``: the one place that
    decides it."""
    deps.require(request, "write", project)


class BatchRange(BaseModel):
    """The ``seq`` of a batch's first and last records: the batch's id."""

    model_config = ConfigDict(extra="forbid")

    first_seq: int = Field(ge=0, description="seq of the batch's first record.")
    last_seq: int = Field(ge=0, description="seq of the batch's last record.")


class IngestBatch(BaseModel):
    """Records of one run's journal, as the tracker wrote them, in increasing seq order."""

    model_config = ConfigDict(extra="forbid")

    batch: BatchRange
    records: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH_RECORDS,
        description="Journal records (objects with `kind` and `seq`; see "
        "wattprint.store.journal), in increasing seq order.",
    )

    @model_validator(mode="after")
    def _records_fit_the_batch(self) -> IngestBatch:
        previous = -1
        for i, record in enumerate(self.records):
            seq, kind = record.get("seq"), record.get("kind")
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
                raise ValueError(f"records[{i}].seq={seq!r}: accepted: an integer >= 0")
            if not isinstance(kind, str) or not kind:
                raise ValueError(f"records[{i}].kind={kind!r}: accepted: a record kind")
            if (kind == "run") != (seq == 0):
                raise ValueError(
                    f"records[{i}]: a {kind!r} record with seq {seq}: the run record, and "
                    "only it, has seq 0"
                )
            if seq <= previous:
                raise ValueError(
                    f"records[{i}].seq={seq} after {previous}: records go in increasing seq order"
                )
            previous = seq
        first, last = self.records[0]["seq"], previous
        if (first, last) != (self.batch.first_seq, self.batch.last_seq):
            raise ValueError(
                f"batch {self.batch.first_seq}-{self.batch.last_seq} holds records "
                f"{first}-{last}: first_seq and last_seq are its first and last records' seq"
            )
        return self


class IngestAck(BaseModel):
    """The next ``seq`` the server expects of the run."""

    next_seq: int


RunId = Annotated[
    str, PathParam(pattern=RUN_ID_PATTERN, description="The run's id (32 hex digits).")
]


@router.post(
    "/{run_id}",
    response_model=IngestAck,
    responses={409: {"description": "The batch starts beyond `next_seq`: resend from it."}},
)
def ingest(request: Request, run_id: RunId, body: IngestBatch) -> Any:
    """Store a batch of a run's records; needs a token that may write to the run's project."""
    first = body.records[0]
    if first["seq"] == 0:
        _check_run_record(run_id, first)
    journals = _journals(request)
    project = journals.project(run_id)
    if project is None and first["seq"] == 0:
        project = str(first.get("project") or "default")  # what the store will file it under
    try:
        if project is None:  # neither the server nor the batch has the run record
            raise _OutOfOrder(0)
        may_write(request, project)
        next_seq = journals.append(run_id, body.records)
    except _OutOfOrder as exc:
        detail = f"records from seq {exc.next_seq} of run {run_id} are missing: send them first"
        return JSONResponse({"detail": detail, "next_seq": exc.next_seq}, status_code=409)
    except OSError as exc:
        log.warning("wattprint: cannot store records of run %s: %s", run_id, exc)
        raise HTTPException(503, f"cannot store the records now ({exc}); send them again") from None
    return {"next_seq": next_seq}


def _check_run_record(run_id: str, record: dict[str, Any]) -> None:
    """What the store needs of a run record to file the run (else the whole run would be
    refused at ingestion, long after the tracker was told all is well)."""
    if record.get("run_id") != run_id:
        raise ConfigError(
            f"the run record is of run {record.get('run_id')!r}, not of {run_id!r} (the URL's)"
        )
    started = record.get("started_at")
    if isinstance(started, bool) or not isinstance(started, int | float) or not isfinite(started):
        raise ConfigError(
            f"the run record's started_at={started!r}: accepted: Unix time in seconds"
        )


class _OutOfOrder(Exception):
    def __init__(self, next_seq: int) -> None:
        super().__init__(next_seq)
        self.next_seq = next_seq


class _Ingester:
    """Ingests the journals that batches were appended to into the store, on one thread: a
    request never waits on the database (SQLite lets one writer in at a time, and dozens
    of request threads queueing on its lock cost more than the writes), and the batches of
    a busy run that arrive within ``PERIOD_S`` are ingested together. The thread starts
    when there is work and ends when there is none; a dashboard read (``Store.sync``)
    ingests whatever is still waiting."""

    PERIOD_S = 1.0

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._waiting: set[Path] = set()
        self._thread: threading.Thread | None = None

    def mark(self, journal: Path) -> None:
        """Ingest ``journal`` soon."""
        with self._lock:
            self._waiting.add(journal)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="wattprint-ingest", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self.PERIOD_S)
            with self._lock:
                journals, self._waiting = sorted(self._waiting), set()
                if not journals:
                    self._thread = None
                    return
            for journal in journals:
                try:  # ingest_journal logs what it cannot ingest; the journal keeps it
                    ingest_journal(self._store.engine, journal, None)
                except Exception:
                    log.exception("wattprint: ingesting %s failed; the next sync retries", journal)


class _RemoteJournals:
    """The server's journals of remote runs; appends to one run's journal go one at a time."""

    def __init__(self, folder: Path, ingester: _Ingester) -> None:
        self._folder = folder
        self._ingester = ingester
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._next: dict[str, tuple[int, int]] = {}  # run id -> (journal size, next seq)
        self._projects: dict[str, str] = {}

    def path(self, run_id: str) -> Path:
        """The journal of ``run_id``."""
        return journal_path(self._folder, run_id)

    def append(self, run_id: str, records: list[dict[str, Any]]) -> int:
        """Append the records the journal lacks and have them ingested; returns the next
        seq expected. ``_OutOfOrder`` when the records start beyond it.

        Written, not fsynced: what is acknowledged survives the server process (a crash, a
        restart), as the store's own commits do (SQLite ``synchronous=NORMAL``); an fsync
        per batch made the slowest answers 4x slower under load (benchmarks/README.md).
        A journal that lost its end with its machine answers a running tracker's next
        batch with 409, and the tracker sends the lost records again."""
        path = self.path(run_id)
        with self._lock(run_id):
            size, next_seq = self._next_seq(run_id, path)
            if records[0]["seq"] > next_seq:
                raise _OutOfOrder(next_seq)
            new = [r for r in records if r["seq"] >= next_seq]
            if not new:
                return next_seq
            data = encode_records(new)
            self._folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # a line cut by a crash stays a bad line of its own
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
            finally:
                os.close(fd)
            next_seq = int(new[-1]["seq"]) + 1
            self._next[run_id] = (size + len(data), next_seq)
        self._ingester.mark(path)
        return next_seq

    def project(self, run_id: str) -> str | None:
        """The project of ``run_id`` by its run record; ``None`` before the server has it."""
        with self._guard:
            known = self._projects.get(run_id)
        if known is None:
            try:
                first = next(read_journal(self.path(run_id)), None)
            except FileNotFoundError:
                return None
            if first is None or first[1].get("kind") != "run":
                return None
            known = str(first[1].get("project") or "default")
            with self._guard:
                self._projects[run_id] = known
        return known

    def _lock(self, run_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(run_id, threading.Lock())

    def _next_seq(self, run_id: str, path: Path) -> tuple[int, int]:
        """The journal's size and the seq after its last record: remembered while the
        journal keeps the size this server left it with, else read from its end."""
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return 0, 0
        known = self._next.get(run_id)
        if known is not None and known[0] == size:
            return known
        last = last_record(path)
        seq = last.get("seq") if last is not None else None
        next_seq = seq + 1 if isinstance(seq, int) and not isinstance(seq, bool) else 0
        return size, next_seq


_STATE_LOCK = threading.Lock()


def _journals(request: Request) -> _RemoteJournals:
    """The app's remote journals, made at the first batch."""
    state = request.app.state
    with _STATE_LOCK:
        found: _RemoteJournals | None = getattr(state, "remote_journals", None)
        if found is None:
            ingester = _Ingester(deps.store(request))
            found = _RemoteJournals(deps.settings(request).journal_dir, ingester)
            state.remote_journals = found
        return found
