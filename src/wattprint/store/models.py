"""SQLAlchemy models of the run store.

Portable types only (SQLite by default, PostgreSQL by URL): times are Unix epoch
seconds in ``Double`` columns, energies joules, dictionaries ``JSON``. Rows that come
from a journal record are keyed by the run and the record's ``seq`` (plus the row's
index or name within the record), so the same record can never be stored twice.

The schema is created and changed by the Alembic revisions in ``migrations/versions``
(``wattprint.store.migrate``); a test checks that they build exactly these tables.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION: Final = 5
"""The ``schema_info.version`` of a store at the newest Alembic revision (revision ids are
this number, zero-padded). 1: first release. 2: ``runs`` gains the distributed-run
columns (``group_id``, ``rank``, ``local_rank``, ``world_size``, ``local_world_size``,
``node``, ``launcher``). 3: ``runs`` gains ``labels`` (JSON object of str → str: what the
run belongs to, e.g. a benchmark, a model, a suite). 4: the ``jobs`` table (the job
queue); Alembic's first revision. 5: users, their API tokens (hashed), project memberships
with scopes, and the audit log. Versions 1 to 3 predate Alembic and are upgraded by
``migrations.legacy``."""

SCOPES: Final[tuple[str, ...]] = ("read", "write", "launch")
"""What a project membership allows: read its runs, write runs to it (remote trackers),
launch jobs in it."""

RunStatus = Literal["running", "finished", "failed", "interrupted"]
RUN_STATUSES: Final[tuple[str, ...]] = ("running", "finished", "failed", "interrupted")
JOB_STATES: Final[tuple[str, ...]] = ("queued", "running", "succeeded", "failed", "cancelled")
JOB_FINAL_STATES: Final[frozenset[str]] = frozenset({"succeeded", "failed", "cancelled"})

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_RUN_FK = "runs.id"


class Base(DeclarativeBase):
    """Declarative base; the naming convention keeps constraint names stable for
    migrations."""

    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        float: Double(),
        dict[str, Any]: JSON(),
        dict[str, float]: JSON(),
        str: String(255),
    }


class SchemaInfo(Base):
    """One row: the schema version of this store."""

    __tablename__ = "schema_info"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[float]


class Project(Base):
    """A named group of runs."""

    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(primary_key=True)
    created_at: Mapped[float]


class Run(Base):
    """One tracked run; ``id`` is the journal's ``run_id``."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_project_started_at", "project", "started_at"),
        Index("ix_runs_name_started_at", "name", "started_at"),
        Index("ix_runs_status", "status"),
        Index("ix_runs_group_id_rank", "group_id", "rank"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project: Mapped[str] = mapped_column(ForeignKey("projects.name"))
    name: Mapped[str]
    host: Mapped[str | None]
    pid: Mapped[int | None] = mapped_column(Integer)
    pid_create_time: Mapped[float | None]
    command: Mapped[str | None] = mapped_column(Text)
    git_commit: Mapped[str | None] = mapped_column(String(64))
    hardware: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[float]
    ended_at: Mapped[float | None]
    last_seen_at: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(Text)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    totals: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    version: Mapped[str | None] = mapped_column(String(64))
    # Distributed runs (schema 2): all ranks of one job share group_id; NULL otherwise.
    group_id: Mapped[str | None] = mapped_column(String(255))
    rank: Mapped[int | None] = mapped_column(Integer)
    local_rank: Mapped[int | None] = mapped_column(Integer)
    world_size: Mapped[int | None] = mapped_column(Integer)
    local_world_size: Mapped[int | None] = mapped_column(Integer)
    node: Mapped[str | None] = mapped_column(String(255))
    launcher: Mapped[str | None] = mapped_column(String(16))
    # Schema 3: free-form str -> str labels given to the tracker (benchmark, model, …).
    labels: Mapped[dict[str, str] | None] = mapped_column(JSON)


class ComponentRow(Base):
    """A component (``cpu:0``, ``gpu:1``, ``ram``) of a run and its provenance."""

    __tablename__ = "components"

    run_id: Mapped[str] = mapped_column(ForeignKey(_RUN_FK, ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(64))
    quality: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    basis: Mapped[str] = mapped_column(Text, default="")
    low_ratio: Mapped[float] = mapped_column(default=1.0)
    high_ratio: Mapped[float] = mapped_column(default=1.0)


class Sample(Base):
    """Cumulative energy of one component at time ``t``; ``idx`` is the row's position
    in its journal record."""

    __tablename__ = "samples"
    __table_args__ = (Index("ix_samples_run_id_t", "run_id", "t"),)

    run_id: Mapped[str] = mapped_column(ForeignKey(_RUN_FK, ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    t: Mapped[float]
    component: Mapped[str] = mapped_column(String(128))
    energy_j: Mapped[float]
    power_w: Mapped[float | None]


class Window(Base):
    """A closed window (phase, epoch, step) with joules per component."""

    __tablename__ = "windows"

    run_id: Mapped[str] = mapped_column(ForeignKey(_RUN_FK, ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str]
    parent: Mapped[str | None]
    started_at: Mapped[float]
    ended_at: Mapped[float]
    energy_j: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)


class Metric(Base):
    """One metric value; a journal ``metric`` record gives one row per name."""

    __tablename__ = "metrics"

    run_id: Mapped[str] = mapped_column(ForeignKey(_RUN_FK, ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    t: Mapped[float]
    step: Mapped[int | None] = mapped_column(BigInteger)
    value: Mapped[float | None]  # None when the value logged was NaN or infinite


class Event(Base):
    """Something that happened during a run (a meter lost, the store unreachable)."""

    __tablename__ = "events"

    run_id: Mapped[str] = mapped_column(ForeignKey(_RUN_FK, ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    t: Mapped[float]
    source: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)


class JournalProgress(Base):
    """How far a journal file has been ingested.

    ``byte_offset`` is the end of the last complete line ingested and ``last_seq`` the
    last record's ``seq``; ``size`` is the file size when it was last read, so an
    unchanged file is skipped without being opened. ``error`` holds why a journal
    could not be ingested (it is then retried only once the file changes).
    """

    __tablename__ = "journal_progress"

    journal: Mapped[str] = mapped_column(String(255), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64))
    byte_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=-1)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[float]


class JobRow(Base):
    """A job of the queue (schema 4): what to run (``spec``, the job system's JSON), where
    (``executor``), and what became of it. ``pid`` is the process running the job (the
    local worker's child, or the job's process on a SLURM node), ``worker_pid`` the local
    worker that started it; ``run_ids`` lists the runs it produced."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_created_at", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    project: Mapped[str]
    executor: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float]
    started_at: Mapped[float | None]
    ended_at: Mapped[float | None]
    heartbeat_at: Mapped[float | None]
    host: Mapped[str | None]
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    pid: Mapped[int | None] = mapped_column(Integer)
    slurm_job_id: Mapped[str | None] = mapped_column(String(64))
    log_path: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    run_ids: Mapped[list[str]] = mapped_column(JSON, default=list)


class User(Base):
    """A person or service of a team server (schema 5); ``admin`` sees and may do all."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[float]


class ApiToken(Base):
    """An API token of a user (schema 5), stored as its SHA-256 only: the token itself is
    shown once, when it is made."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[float]
    last_used_at: Mapped[float | None]
    revoked_at: Mapped[float | None]


class Membership(Base):
    """What a user may do in one project (schema 5): ``scopes`` is a comma-separated subset
    of ``SCOPES``."""

    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    project: Mapped[str] = mapped_column(String(255), primary_key=True)
    scopes: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """Who did what to which project, and when (schema 5): job launches and cancels, token
    and membership changes."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    t: Mapped[float] = mapped_column(index=True)
    user: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    project: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
