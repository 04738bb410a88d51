"""Ingestion of run journals into the store, and the settling of runs left ``running``.

Each journal is ingested in one write transaction: create its progress row if missing,
read it (locked: ``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL),
insert the records after the saved byte offset whose ``seq`` is above the saved one,
update the progress, commit. Several processes can therefore sync the same journals into
the same store at once; each record lands exactly once (the primary keys include
``(run_id, seq)`` too).
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Connection, Engine, String, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from wattprint.store.journal import SUFFIX, read_journal
from wattprint.store.models import (
    Base,
    ComponentRow,
    Event,
    JournalProgress,
    Metric,
    Project,
    Run,
    Sample,
    Window,
)

log = logging.getLogger(__name__)

BEGIN_OPTION = "wattprint_begin"
"""Execution option read by the SQLite ``begin`` hook: ``"IMMEDIATE"`` takes the write
lock when the transaction starts instead of at its first write."""

_BATCH_ROWS = 5000
_END_STATUSES = frozenset({"finished", "failed", "interrupted"})
_CREATE_TIME_TOLERANCE_S = 1.0


class JournalFormatError(ValueError):
    """A journal that cannot be ingested (no ``run`` record first, a run id clash…)."""


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that holds the write lock from its start.

    On SQLite this is ``BEGIN IMMEDIATE`` (waiting up to the busy timeout for other
    writers), so it can never fail half-way with "database is locked" when a read
    turns into a write.
    """
    with engine.connect() as conn:
        conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            yield conn


@dataclass(frozen=True)
class ProgressState:
    """The part of a journal's progress row that decides whether to open the file."""

    size: int
    error: str | None


def load_progress(engine: Engine) -> dict[str, ProgressState]:
    """Progress of every known journal, in one query."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(JournalProgress.journal, JournalProgress.size, JournalProgress.error)
        )
        return {r.journal: ProgressState(int(r.size), r.error) for r in rows}


def list_journals(journal_dir: Path) -> list[tuple[str, Path, int]]:
    """``(file name, path, size)`` of each journal in ``journal_dir``, oldest name first."""
    found: list[tuple[str, Path, int]] = []
    try:
        entries = list(os.scandir(journal_dir))
    except FileNotFoundError:
        return found
    except OSError as exc:
        log.warning("wattprint: cannot list journal folder %s (%s)", journal_dir, exc)
        return found
    for entry in entries:
        if not entry.name.endswith(SUFFIX):
            continue
        try:
            if not entry.is_file():
                continue
            size = entry.stat().st_size
        except OSError:
            continue
        found.append((entry.name, Path(entry.path), size))
    found.sort()
    return found


def ingest_journal(engine: Engine, path: Path, known: ProgressState | None) -> int:
    """Ingest the new records of one journal; returns how many were stored.

    A journal that cannot be read or parsed is skipped with one warning; its error is
    remembered, so it is read again only once the file changes, and not warned about
    again. A lock timeout is logged and left for the next sync.
    """
    name = path.name
    size = -1
    for attempt in range(2):
        try:
            return _ingest_once(engine, path)
        except IntegrityError as exc:
            # PostgreSQL: another process inserted the same run meanwhile (from a second
            # journal of it); the second attempt sees that run and says so.
            if attempt == 0:
                continue
            error: Exception = exc
        except OperationalError as exc:
            log.warning("wattprint: journal %s not ingested this time (%s)", name, exc.orig)
            return 0
        except (OSError, ValueError, KeyError, TypeError, SQLAlchemyError) as exc:
            error = exc
        break
    message = f"{type(error).__name__}: {error}"
    if known is None or known.error is None:
        log.warning("wattprint: skipping journal %s: %s", path, message)
    with suppress(OSError):
        size = path.stat().st_size
    _record_error(engine, name, size, message)
    return 0


def _ingest_once(engine: Engine, path: Path) -> int:
    with write_transaction(engine) as conn:
        # Make sure the progress row exists, then lock it: whoever gets the lock first
        # ingests, the others find the file's size recorded and stop.
        insert_missing(
            conn,
            JournalProgress,
            {
                "journal": path.name,
                "byte_offset": 0,
                "last_seq": -1,
                "size": -1,
                "updated_at": time.time(),
            },
        )
        progress = conn.execute(
            select(
                JournalProgress.run_id,
                JournalProgress.byte_offset,
                JournalProgress.last_seq,
                JournalProgress.size,
            )
            .where(JournalProgress.journal == path.name)
            .with_for_update()
        ).one()
        size = path.stat().st_size
        if size == progress.size:
            return 0  # another process got there first
        batch = _Batch(
            conn, path.name, progress.run_id, int(progress.byte_offset), int(progress.last_seq)
        )
        batch.run(path, size)
        return batch.count


def _record_error(engine: Engine, name: str, size: int, message: str) -> None:
    try:
        with write_transaction(engine) as conn:
            error = _fit(JournalProgress, {"error": message[:2000]})["error"]
            values = {"error": error, "size": size, "updated_at": time.time()}
            insert_missing(
                conn, JournalProgress, {"journal": name, "byte_offset": 0, "last_seq": -1, **values}
            )
            conn.execute(
                update(JournalProgress).where(JournalProgress.journal == name).values(**values)
            )
    except SQLAlchemyError as exc:  # pragma: no cover - the store itself is failing
        log.warning("wattprint: cannot record the error of journal %s (%s)", name, exc)


def insert_missing(conn: Connection, model: type[Any], values: dict[str, Any]) -> None:
    """Insert ``values`` unless a row with the same primary key exists
    (``ON CONFLICT DO NOTHING``). On PostgreSQL a concurrent insert of the same key makes
    this wait for the other transaction instead of failing."""
    dialect = conn.dialect.name
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(model).values(**values)
    conn.execute(statement.on_conflict_do_nothing())


class _Batch:
    """Applies a journal's new records inside one transaction."""

    def __init__(
        self, conn: Connection, journal: str, run_id: str | None, offset: int, last_seq: int
    ) -> None:
        self.conn = conn
        self.journal = journal
        self.run_id = run_id
        self.offset = offset
        self.last_seq = last_seq
        self.count = 0
        self.skipped = 0
        self.samples: list[dict[str, Any]] = []
        self.status: str | None = None
        self.totals: dict[str, float] = {}
        self.last_seen: float | None = None
        self.end: dict[str, Any] | None = None
        self.touched = False
        if self.run_id is not None:
            row = conn.execute(
                select(Run.status, Run.totals, Run.last_seen_at).where(Run.id == self.run_id)
            ).first()
            if row is not None:
                self.status = row.status
                self.totals = dict(row.totals or {})
                self.last_seen = row.last_seen_at

    def run(self, path: Path, size: int) -> None:
        offset = self.offset
        if size < offset:
            log.warning(
                "wattprint: journal %s shrank (%d < %d bytes); re-reading it, known records "
                "are skipped",
                path,
                size,
                offset,
            )
            offset = 0
        for end_offset, record in read_journal(path, offset):
            self.offset = end_offset
            seq = record.get("seq")
            if not isinstance(seq, int) or isinstance(seq, bool):
                self.skipped += 1
                continue
            if seq <= self.last_seq:
                continue
            self.apply(record, seq)
            self.last_seq = seq
            if len(self.samples) >= _BATCH_ROWS:
                self.flush_samples()
        self.flush_samples()
        self.finish(size)
        if self.skipped:
            log.warning("wattprint: journal %s: %d malformed records skipped", path, self.skipped)

    # ------------------------------------------------------------------ records
    def apply(self, record: dict[str, Any], seq: int) -> None:
        kind = record.get("kind")
        if kind == "run":
            self.start_run(record)
            self.count += 1
            return
        if self.run_id is None:
            raise JournalFormatError(f"record seq {seq} ({kind!r}) comes before the run record")
        try:
            handled = self.apply_kind(kind, record, seq)
        except (KeyError, TypeError, ValueError):
            self.skipped += 1
            return
        if handled:
            self.count += 1
            self.touched = True

    def apply_kind(self, kind: Any, record: dict[str, Any], seq: int) -> bool:
        run_id = self.run_id
        if kind == "samples":
            new: list[dict[str, Any]] = []
            for idx, (t, component, energy_j, power_w) in enumerate(record["rows"]):
                t, component, energy_j = _num(t), str(component), _num(energy_j)
                power = _opt_float(power_w)
                new.append(
                    _fit(
                        Sample,
                        {
                            "run_id": run_id,
                            "seq": seq,
                            "idx": idx,
                            "t": t,
                            "component": component,
                            "energy_j": energy_j,
                            "power_w": power,
                        },
                    )
                )
            for row in new:
                self.totals[row["component"]] = row["energy_j"]
                self.seen(row["t"])
            self.samples.extend(new)
            return True
        if kind == "window":
            energy = {str(k): _num(v) for k, v in (record.get("energy_j") or {}).items()}
            ended_at = _num(record["ended_at"])
            window = {
                "run_id": run_id,
                "seq": seq,
                "name": str(record["name"]),
                "parent": _opt_str(record.get("parent")),
                "started_at": _num(record["started_at"]),
                "ended_at": ended_at,
                "energy_j": energy,
            }
            self.conn.execute(insert(Window).values(**_fit(Window, window)))
            self.seen(ended_at)
            return True
        if kind == "metric":
            t = _num(record["t"])
            step = record.get("step")
            rows = [
                _fit(
                    Metric,
                    {
                        "run_id": run_id,
                        "seq": seq,
                        "name": str(name),
                        "t": t,
                        "step": None if step is None else int(step),
                        "value": _opt_float(value),
                    },
                )
                for name, value in dict(record["values"]).items()
            ]
            if rows:
                self.conn.execute(insert(Metric), rows)
            self.seen(t)
            return True
        if kind == "event":
            t = _num(record["t"])
            event = {
                "run_id": run_id,
                "seq": seq,
                "t": t,
                "source": str(record.get("source") or ""),
                "message": str(record.get("message") or ""),
            }
            self.conn.execute(insert(Event).values(**_fit(Event, event)))
            self.seen(t)
            return True
        if kind == "end":
            self.end = {
                "ended_at": _num(record["ended_at"]),
                "status": record.get("status"),
                "energy_j": {str(k): _num(v) for k, v in (record.get("energy_j") or {}).items()},
                "error": record.get("error"),
                "exit_code": record.get("exit_code"),
            }
            self.seen(self.end["ended_at"])
            return True
        return False  # a kind this version does not store (e.g. "attribution")

    def start_run(self, record: dict[str, Any]) -> None:
        if self.run_id is not None:
            raise JournalFormatError("a second run record")
        try:
            run_id = str(record["run_id"])
            project = _fit(Project, {"name": str(record.get("project") or "default")})["name"]
            started_at = _num(record["started_at"])
            components = [_component_values(run_id, c) for c in record.get("components") or []]
        except (KeyError, TypeError, ValueError) as exc:
            raise JournalFormatError(f"malformed run record ({exc!r})") from None
        conn = self.conn
        if conn.execute(select(Run.id).where(Run.id == run_id)).first() is not None:
            raise JournalFormatError(f"run {run_id} was already ingested from another journal")
        insert_missing(conn, Project, {"name": project, "created_at": time.time()})
        run = {
            "id": run_id,
            "project": project,
            "name": str(record.get("name") or run_id),
            "host": _opt_str(record.get("host")),
            "pid": _opt_int(record.get("pid")),
            "pid_create_time": _opt_float(record.get("pid_create_time")),
            "command": _opt_str(record.get("command")),
            "git_commit": _opt_str(record.get("git_commit")),
            "hardware": _as_dict(record.get("hardware")),
            "settings": _as_dict(record.get("settings")),
            "status": "running",
            "started_at": started_at,
            "last_seen_at": started_at,
            "totals": {},
            "version": _opt_str(record.get("version")),
            "labels": _labels(record.get("labels")),
            **_group_values(record),
        }
        conn.execute(insert(Run).values(**_fit(Run, run)))
        if components:
            conn.execute(insert(ComponentRow), components)
        self.run_id = run_id
        self.status = "running"
        self.last_seen = started_at

    def seen(self, t: float) -> None:
        if self.last_seen is None or t > self.last_seen:
            self.last_seen = t

    def flush_samples(self) -> None:
        if self.samples:
            self.conn.execute(insert(Sample), self.samples)
            self.samples = []

    def finish(self, size: int) -> None:
        if self.run_id is not None and (self.touched or self.end is not None):
            values: dict[str, Any] = {"last_seen_at": self.last_seen, "totals": self.totals}
            if self.end is not None:
                status = self.end["status"]
                values.update(
                    status=status if status in _END_STATUSES else "failed",
                    ended_at=self.end["ended_at"],
                    totals=self.end["energy_j"] or self.totals,
                    error=_fit(Run, {"error": _opt_str(self.end["error"])})["error"],
                    exit_code=_opt_int(self.end["exit_code"]),
                )
            elif self.status == "interrupted":
                # New records after all: running again until settled once more.
                values.update(status="running", ended_at=None)
            elif self.status != "running":
                values.pop("totals")  # a finished run keeps the totals of its end record
            self.conn.execute(update(Run).where(Run.id == self.run_id).values(**values))
        self.conn.execute(
            update(JournalProgress)
            .where(JournalProgress.journal == self.journal)
            .values(
                run_id=self.run_id,
                byte_offset=self.offset,
                last_seq=self.last_seq,
                size=size,
                error=None,
                updated_at=time.time(),
            )
        )


# ------------------------------------------------------------------------ settling
def settle_runs(
    engine: Engine, journal_dir: Path | None, stale_after_s: float, now: float | None = None
) -> int:
    """Mark as ``interrupted`` the ``running`` runs whose writer is gone.

    A run of this host is gone when its process no longer exists (or the pid now
    belongs to another process); a run of another host when its journal has not been
    modified for ``stale_after_s`` seconds. Interrupted runs end at their last record
    and their totals are the last cumulative sample of each component. Returns how
    many runs were marked.
    """
    now = time.time() if now is None else now
    this_host = socket.gethostname()
    with engine.connect() as conn:
        running = conn.execute(
            select(
                Run.id,
                Run.host,
                Run.pid,
                Run.pid_create_time,
                Run.last_seen_at,
                Run.started_at,
                JournalProgress.journal,
            )
            .outerjoin(JournalProgress, JournalProgress.run_id == Run.id)
            .where(Run.status == "running")
        ).all()
    gone: list[str] = []
    for row in running:
        if row.host == this_host and row.pid is not None:
            if not pid_alive(row.pid, row.pid_create_time):
                gone.append(row.id)
            continue
        modified = _journal_mtime(journal_dir, row.journal)
        if modified is None:
            modified = row.last_seen_at if row.last_seen_at is not None else row.started_at
        if now - modified > stale_after_s:
            gone.append(row.id)
    if not gone:
        return 0
    marked = 0
    with write_transaction(engine) as conn:
        for run_id in sorted(gone):  # one order for every process: no deadlock on PostgreSQL
            marked += _mark_interrupted(conn, run_id)
    return marked


def _mark_interrupted(conn: Connection, run_id: str) -> int:
    row = conn.execute(
        select(Run.totals, Run.last_seen_at, Run.started_at).where(
            Run.id == run_id, Run.status == "running"
        )
    ).first()
    if row is None:
        return 0  # settled or finished meanwhile by another process
    names = set(row.totals or {})
    names.update(conn.scalars(select(ComponentRow.name).where(ComponentRow.run_id == run_id)))
    totals = last_samples(conn, run_id, sorted(names))
    ended_at = row.last_seen_at if row.last_seen_at is not None else row.started_at
    conn.execute(
        update(Run)
        .where(Run.id == run_id, Run.status == "running")
        .values(status="interrupted", ended_at=ended_at, totals=totals)
    )
    return 1


def last_samples(conn: Connection, run_id: str, components: Sequence[str]) -> dict[str, float]:
    """The last cumulative energy sampled for each of ``components`` (those sampled)."""
    totals: dict[str, float] = {}
    for name in components:
        energy = conn.scalar(
            select(Sample.energy_j)
            .where(Sample.run_id == run_id, Sample.component == name)
            .order_by(Sample.t.desc(), Sample.seq.desc(), Sample.idx.desc())
            .limit(1)
        )
        if energy is not None:
            totals[name] = float(energy)
    return totals


def pid_alive(pid: int, create_time: float | None) -> bool:
    """Whether process ``pid`` exists, is not a zombie, and (when ``create_time`` is
    known) is the same process that started the run rather than a reuse of its pid."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if create_time is not None:
            return abs(proc.create_time() - create_time) <= _CREATE_TIME_TOLERANCE_S
        return True
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # it exists; we may just not look at it


def _journal_mtime(journal_dir: Path | None, name: str | None) -> float | None:
    if journal_dir is None or name is None:
        return None
    try:
        return (journal_dir / name).stat().st_mtime
    except OSError:
        return None


# ------------------------------------------------------------------------ helpers
def _component_values(run_id: str, c: Any) -> dict[str, Any]:
    if not isinstance(c, dict):
        raise TypeError(f"component is not an object: {c!r}")
    return _fit(
        ComponentRow,
        {
            "run_id": run_id,
            "name": str(c["name"]),
            "kind": str(c.get("kind") or "unknown"),
            "source": str(c.get("source") or "unknown"),
            "quality": "measured" if c.get("quality") == "measured" else "estimated",
            "description": str(c.get("description") or ""),
            "basis": str(c.get("basis") or ""),
            "low_ratio": _num(c.get("low_ratio", 1.0)),
            "high_ratio": _num(c.get("high_ratio", 1.0)),
        },
    )


def _fit(model: type[Base], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with NUL characters removed from their strings and each string cut to its
    column's length. SQLite stores any string; PostgreSQL refuses both, and one long name
    must not keep a whole run out of the store. Identifiers (``id``, ``run_id``) are left
    whole: cutting one could merge two runs."""
    fitted = dict(values)
    for name, limit in _string_columns(model).items():
        value = values.get(name)
        if isinstance(value, str):
            value = value.replace("\x00", "") if "\x00" in value else value
            fitted[name] = value if limit is None else value[:limit]
    return fitted


@cache
def _string_columns(model: type[Base]) -> dict[str, int | None]:
    """The string columns of ``model`` that ``_fit`` fits, with their lengths."""
    return {
        column.name: getattr(column.type, "length", None)
        for column in model.__table__.columns
        if isinstance(column.type, String) and column.name not in ("id", "run_id")
    }


def _group_values(record: dict[str, Any]) -> dict[str, Any]:
    """The distributed-run fields of a ``run`` record (absent in older journals)."""
    return {
        "group_id": _opt_str(record.get("group")),
        "rank": _opt_int(record.get("rank")),
        "local_rank": _opt_int(record.get("local_rank")),
        "world_size": _opt_int(record.get("world_size")),
        "local_world_size": _opt_int(record.get("local_world_size")),
        "node": _opt_str(record.get("node")),
        "launcher": _opt_str(record.get("launcher")),
    }


def _labels(value: Any) -> dict[str, str]:
    """A run record's labels (str -> str); anything else in older or foreign journals is
    dropped."""
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _num(value: Any) -> float:
    """A finite float, or ``ValueError`` (the record is then skipped as malformed)."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _opt_float(value: Any) -> float | None:
    """A finite float, or ``None`` for ``None``, NaN, infinities and non-numbers."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
