"""The run journal: an append-only JSON-lines file per run, written by the tracker and
ingested into the store.

Why a journal: the tracker must start in milliseconds and never wait on a database
(SQLAlchemy alone costs ~0.2 s of CPU to import), must survive ``kill -9`` with
everything up to its last flush, and must let many processes record at once without
lock contention. Each tracker appends to its own file with the standard library; the
store ingests journals idempotently (every record has a per-run sequence number) when
it is read.

Record kinds (``"kind"`` key), each with ``"seq"`` (0, 1, 2, … within a run):

* ``run`` (always seq 0): ``run_id, project, name, host, pid, pid_create_time,
  started_at, command, git_commit, hardware, settings, components, version``, and
  ``labels`` (dict str → str, may be absent);
  ``components`` is a list of ``Component`` fields as dicts.
* ``samples``: ``rows`` = list of ``[t, component, energy_j, power_w]`` with
  ``energy_j`` cumulative since the run started, for the components charged to the
  run (in ``process`` attribution a GPU is charged once a tracked process is seen on
  it; an ``event`` with source ``attribution`` says so) and ``power_w`` the mean power since
  the previous sample of that component (``null`` for the first).
* ``window``: ``name, started_at, ended_at, energy_j`` (dict component → joules),
  ``parent`` (name of the innermost window open when it began, or ``null``).
* ``metric``: ``t, step`` (int or ``null``), ``values`` (dict name → float).
* ``event``: ``t, source, message`` (a meter lost, the store unreachable, …).
* ``end``: ``ended_at, status`` (``finished`` or ``failed``), ``energy_j`` (totals per
  component), ``error`` (str or ``null``), ``exit_code`` (int or ``null``).

Times are Unix epoch seconds (float). A journal without ``end`` belongs to a run that
is still running or was interrupted.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

SUFFIX = ".jsonl"
RUN_ID_PATTERN = r"^[0-9a-f]{32}$"
"""What a tracker's run ids look like (``uuid4().hex``); a journal is ``<run id>.jsonl``."""


class JournalWriter:
    """Buffers records in memory and appends them to ``path`` on ``flush``.

    Records are dicts owned by the writer once appended: callers must not mutate them.

    Thread-safe. ``flush`` writes whole lines with one ``os.write`` so a reader never
    sees half a record except at a crash, which ``read_journal`` tolerates.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []
        self._seq = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Queue one record; returns it, with its ``kind`` and sequence number."""
        with self._lock:
            record = {"kind": kind, "seq": self._seq, **fields}
            self._seq += 1
            self._pending.append(record)
            return record

    def flush(self, sync: bool = False) -> None:
        """Write queued records. On failure they stay queued and the error propagates.

        Appending is never blocked by a slow disk: the queue is swapped out under the
        short lock and written under a separate one that keeps flushes in order.
        """
        with self._write_lock:
            with self._lock:
                batch, self._pending = self._pending, []
                fd = self._fd
            if not batch or fd < 0:
                with self._lock:
                    self._pending[:0] = batch
                return
            # Encoded here, not in append(): the caller's thread only queues a dict.
            data = encode_records(batch)
            try:
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
                if sync:
                    os.fsync(fd)
            except OSError:
                with self._lock:
                    self._pending[:0] = batch
                raise

    def move_to(self, path: Path) -> None:
        """Append from now on to ``path`` (e.g. when the first folder became read-only);
        queued records and sequence numbers carry over."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        with self._write_lock, self._lock:
            if self._fd >= 0:
                os.close(self._fd)
            self._fd = fd
            self.path = path

    @property
    def pending(self) -> int:
        """Number of records not yet on disk."""
        return len(self._pending)

    def close(self) -> None:
        """Close the file (flushing first is the caller's job). Idempotent."""
        with self._write_lock, self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


def encode_records(records: Iterable[Mapping[str, Any]]) -> bytes:
    """``records`` as journal lines (one compact JSON object per line), ready to append;
    the server writes the records of remote trackers with it too."""
    return "".join(
        json.dumps(record, separators=(",", ":"), default=str) + "\n" for record in records
    ).encode()


def read_journal(path: Path, offset: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(end_offset, record)`` for each complete line from byte ``offset`` on.

    A trailing line without a newline (a crash mid-write) is not yielded, so a later
    read from the last ``end_offset`` picks it up once it is complete.
    """
    with path.open("rb") as fh:
        fh.seek(offset)
        pos = offset
        for line in fh:
            if not line.endswith(b"\n"):
                return
            pos += len(line)
            text = line.strip()
            if not text:
                continue
            try:
                record = json.loads(text)
            except ValueError:  # JSONDecodeError, or bytes that are not UTF-8
                continue
            if isinstance(record, dict):
                yield pos, record


def last_record(path: Path) -> dict[str, Any] | None:
    """The last complete record of the journal at ``path`` (``None`` when it has none),
    read backwards from the end: as cheap for a journal of a week as of a minute. Lines
    that do not decode are passed over, as ``read_journal`` does."""
    with path.open("rb") as fh:
        for line in _lines_backwards(fh, fh.seek(0, os.SEEK_END)):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                return record
    return None


def _lines_backwards(fh: BinaryIO, size: int, chunk: int = 65536) -> Iterator[bytes]:
    """The complete lines of ``fh``'s first ``size`` bytes, last first (the bytes after the
    last newline, a line cut by a crash, are not a line)."""
    end, rest, cut = size, b"", True
    while end > 0:
        start = max(0, end - chunk)
        fh.seek(start)
        parts = (fh.read(end - start) + rest).split(b"\n")
        end, rest = start, parts.pop(0)  # the start of this line may lie further back
        if cut and parts:
            parts.pop()
            cut = False
        yield from reversed(parts)
    if not cut:
        yield rest


def journal_path(journal_dir: Path, run_id: str) -> Path:
    """Where the journal of ``run_id`` lives."""
    return journal_dir / f"{run_id}{SUFFIX}"
