"""The run store's schema version 4, frozen, and the upgrades of older stores to it.

Stores created before wattprint used Alembic record their schema version (1 to 4) in
``schema_info`` only. ``upgrade_to_v4`` brings them to version 4 with portable DDL, after
which they are stamped at Alembic's first revision, which creates exactly ``V4`` in an
empty database. Never edit ``V4``: a schema change is a new Alembic revision (and a change
of ``models``).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    text,
    update,
)

VERSION: Final = 4
"""The schema version of ``V4``."""

V4 = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
"""Schema version 4: the tables of ``models`` when Alembic took over."""


def _run_fk() -> ForeignKey:
    return ForeignKey("runs.id", ondelete="CASCADE")


Table(
    "schema_info",
    V4,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("created_at", Double, nullable=False),
)
Table(
    "projects",
    V4,
    Column("name", String(255), primary_key=True),
    Column("created_at", Double, nullable=False),
)
_RUNS = Table(
    "runs",
    V4,
    Column("id", String(64), primary_key=True),
    Column("project", String(255), ForeignKey("projects.name"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("pid_create_time", Double),
    Column("command", Text),
    Column("git_commit", String(64)),
    Column("hardware", JSON, nullable=False),
    Column("settings", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", Double, nullable=False),
    Column("ended_at", Double),
    Column("last_seen_at", Double),
    Column("error", Text),
    Column("exit_code", Integer),
    Column("totals", JSON, nullable=False),
    Column("version", String(64)),
    Column("group_id", String(255)),
    Column("rank", Integer),
    Column("local_rank", Integer),
    Column("world_size", Integer),
    Column("local_world_size", Integer),
    Column("node", String(255)),
    Column("launcher", String(16)),
    Column("labels", JSON),
    Index("ix_runs_project_started_at", "project", "started_at"),
    Index("ix_runs_name_started_at", "name", "started_at"),
    Index("ix_runs_status", "status"),
    Index("ix_runs_group_id_rank", "group_id", "rank"),
)
Table(
    "components",
    V4,
    Column("run_id", String(64), _run_fk(), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("source", String(64), nullable=False),
    Column("quality", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("basis", Text, nullable=False),
    Column("low_ratio", Double, nullable=False),
    Column("high_ratio", Double, nullable=False),
)
Table(
    "samples",
    V4,
    Column("run_id", String(64), _run_fk(), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("t", Double, nullable=False),
    Column("component", String(128), nullable=False),
    Column("energy_j", Double, nullable=False),
    Column("power_w", Double),
    Index("ix_samples_run_id_t", "run_id", "t"),
)
Table(
    "windows",
    V4,
    Column("run_id", String(64), _run_fk(), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("parent", String(255)),
    Column("started_at", Double, nullable=False),
    Column("ended_at", Double, nullable=False),
    Column("energy_j", JSON, nullable=False),
)
Table(
    "metrics",
    V4,
    Column("run_id", String(64), _run_fk(), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("name", String(255), primary_key=True),
    Column("t", Double, nullable=False),
    Column("step", BigInteger),
    Column("value", Double),
)
Table(
    "events",
    V4,
    Column("run_id", String(64), _run_fk(), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("t", Double, nullable=False),
    Column("source", String(128), nullable=False),
    Column("message", Text, nullable=False),
)
Table(
    "journal_progress",
    V4,
    Column("journal", String(255), primary_key=True),
    Column("run_id", String(64)),
    Column("byte_offset", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("error", Text),
    Column("updated_at", Double, nullable=False),
)
_JOBS = Table(
    "jobs",
    V4,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("project", String(255), nullable=False),
    Column("executor", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("started_at", Double),
    Column("ended_at", Double),
    Column("heartbeat_at", Double),
    Column("host", String(255)),
    Column("worker_pid", Integer),
    Column("pid", Integer),
    Column("slurm_job_id", String(64)),
    Column("log_path", Text),
    Column("error", Text),
    Column("run_ids", JSON, nullable=False),
    Index("ix_jobs_state_created_at", "state", "created_at"),
)

_ADDED_TO_RUNS: Final = {
    2: ("group_id", "rank", "local_rank", "world_size", "local_world_size", "node", "launcher"),
    3: ("labels",),
}
"""Columns of ``runs`` added by each schema version (4 added the ``jobs`` table)."""


def upgrade_to_v4(conn: Connection, version: int) -> None:
    """Bring a store at schema ``version`` (1 to 3; 4 is left as it is) to version 4,
    inside the caller's transaction."""
    have = {c["name"] for c in inspect(conn).get_columns("runs")}
    for added_in, names in _ADDED_TO_RUNS.items():
        if version >= added_in:
            continue
        for name in names:
            if name not in have:
                column = conn.dialect.identifier_preparer.quote(name)
                sql_type = _RUNS.c[name].type.compile(dialect=conn.dialect)
                conn.execute(text(f"ALTER TABLE runs ADD COLUMN {column} {sql_type}"))
    if version < 2:
        for index in _RUNS.indexes:
            if index.name == "ix_runs_group_id_rank":
                index.create(conn, checkfirst=True)
    if version < 4:
        _JOBS.create(conn, checkfirst=True)
    schema_info = V4.tables["schema_info"]
    conn.execute(update(schema_info).values(version=VERSION))
