"""Schema migrations of the run store, with Alembic (scripts in ``migrations/``).

A store's schema is named by its Alembic revision (table ``alembic_version``);
``schema_info.version`` follows it (``models.SCHEMA_VERSION`` at the head). Stores
created before Alembic (``schema_info`` version 1 to 4, no revision) are brought to
version 4 by ``migrations.legacy`` and stamped at ``BASE_REVISION``; every later change is
an Alembic revision.

``prepare`` runs whenever a ``Store`` opens: it creates the schema of an empty database,
upgrades a store that is behind when asked to (SQLite: a user's own file) and otherwise
refuses it, naming ``wattprint db upgrade`` (PostgreSQL: a team's server is upgraded on
purpose), and refuses a store newer than this wattprint. Schema changes hold a lock
(SQLite's write lock, a PostgreSQL advisory lock) and look again once they have it, so
processes that open a new store at once create it once.

Alembic costs about 0.1 s to import: a store already at the head is opened without it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from sqlalchemy import Connection, Engine, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from wattprint.errors import StoreError
from wattprint.store.ingest import BEGIN_OPTION
from wattprint.store.migrations import legacy
from wattprint.store.models import SCHEMA_VERSION, SchemaInfo

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

HEAD_REVISION: Final = "0005"
"""The newest revision in ``migrations/versions`` (a test keeps the two equal)."""

BASE_REVISION: Final = "0004"
"""The revision whose schema is legacy schema version 4, where older stores join Alembic."""

VERSION_TABLE: Final = "alembic_version"

Standing = Literal["empty", "behind", "current", "newer"]

_SCRIPTS = Path(__file__).with_name("migrations")
_PG_LOCK_KEY: Final = 0x7761_7474  # "watt": the advisory lock held while the schema changes


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands: its Alembic ``revision`` (``None`` before
    Alembic) and ``schema_info.version`` (``None`` in a database without a store)."""

    revision: str | None
    version: int | None

    @property
    def empty(self) -> bool:
        """No wattprint store in this database yet."""
        return self.revision is None and self.version is None

    @property
    def current(self) -> bool:
        """At the revision this wattprint writes."""
        return self.revision == HEAD_REVISION

    def describe(self) -> str:
        """The state in words, for messages."""
        if self.revision is not None:
            return f"revision {self.revision} (schema version {self.version})"
        if self.version is not None:
            return f"schema version {self.version} (before Alembic)"
        return "no wattprint schema"


def read_state(conn: Connection) -> SchemaState:
    """The schema state of the database behind ``conn`` (two small queries)."""
    found = inspect(conn)
    revision: str | None = None
    if found.has_table(VERSION_TABLE):
        revisions = list(conn.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))
        if len(revisions) > 1:
            raise StoreError(
                f"the store has several Alembic heads ({', '.join(sorted(revisions))}): "
                "wattprint's migrations are one line; was it migrated by another tool?"
            )
        revision = str(revisions[0]) if revisions else None
    version = None
    if found.has_table(SchemaInfo.__tablename__):
        value = conn.scalar(select(SchemaInfo.version))
        version = None if value is None else int(value)
    return SchemaState(revision, version)


def standing(state: SchemaState) -> Standing:
    """How ``state`` compares with the schema this wattprint writes."""
    if state.current:
        return "current"
    if state.revision is not None:
        return "behind" if state.revision in known_revisions() else "newer"
    if state.version is None:
        return "empty"
    return "behind" if state.version <= legacy.VERSION else "newer"


def prepare(engine: Engine, upgrade_if_behind: bool) -> None:
    """Make the store behind ``engine`` ready for this wattprint (see the module's
    docstring); ``StoreError`` when it is newer, or behind and not to be upgraded."""
    url = _shown(engine)
    try:
        with engine.connect() as conn:
            state = read_state(conn)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open store {url}: {exc}") from exc
    if state.current:
        return  # the common case, decided without loading Alembic
    found = standing(state)
    if found == "newer":
        raise _newer(state, url)
    if found == "empty" or upgrade_if_behind:
        upgrade(engine)
        return
    raise StoreError(
        f"store {url} has {state.describe()}; this wattprint needs revision {HEAD_REVISION} "
        f"(schema version {SCHEMA_VERSION}): back it up, then upgrade it once with "
        "`wattprint db upgrade` (with WATTPRINT_DB set to this store)"
    )


def upgrade(engine: Engine) -> tuple[SchemaState, SchemaState]:
    """Create or upgrade the schema of the store behind ``engine`` to the head; returns
    the states before and after. What ``wattprint db upgrade`` does."""
    from alembic import command
    from alembic.util import CommandError

    url = _shown(engine)
    try:
        with _schema_lock(engine) as conn:
            before = read_state(conn)
            if standing(before) == "newer":
                raise _newer(before, url)
            config = alembic_config(conn)
            if before.revision is None and before.version is not None:
                legacy.upgrade_to_v4(conn, before.version)
                command.stamp(config, BASE_REVISION)
            command.upgrade(config, "head")
            after = read_state(conn)
    except (SQLAlchemyError, CommandError) as exc:
        raise StoreError(f"cannot upgrade store {url} to revision {HEAD_REVISION}: {exc}") from exc
    if after != before:
        log.info("wattprint: store %s: %s -> %s", url, before.describe(), after.describe())
    return before, after


def alembic_config(conn: Connection | None = None) -> Config:
    """An Alembic configuration of wattprint's migrations, which run on ``conn`` (without
    one, the scripts can only be read)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.set_main_option("path_separator", "os")
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def known_revisions() -> frozenset[str]:
    """Every revision of this wattprint's migrations."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    return frozenset(s.revision for s in scripts.walk_revisions())


def _newer(state: SchemaState, url: str) -> StoreError:
    return StoreError(
        f"store {url} has {state.describe()}, newer than this wattprint reads (up to "
        f"revision {HEAD_REVISION}): upgrade wattprint"
    )


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[Connection]:
    """A transaction that alone may change the schema: SQLite's ``BEGIN IMMEDIATE``,
    PostgreSQL's transaction-level advisory lock.

    On SQLite, foreign keys are off meanwhile: a batch migration recreates a table, and
    dropping the old ``runs`` must not cascade to the samples of its runs. The pragma does
    nothing inside a transaction, so it is set on the driver's connection before it.
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(conn, "OFF")
        try:
            conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
                yield conn
        finally:
            if sqlite:
                _sqlite_foreign_keys(conn, "ON")


def _sqlite_foreign_keys(conn: Connection, state: str) -> None:
    driver: Any = conn.connection.driver_connection  # sqlite3, in autocommit mode here
    driver.execute(f"PRAGMA foreign_keys = {state}")


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
