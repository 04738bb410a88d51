"""Stores as wattprint wrote them before Alembic (schema versions 1 to 4, no
``alembic_version``), made from a new store by undoing what each later version added."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text, update

from wattprint.errors import StoreError
from wattprint.store.models import SchemaInfo
from wattprint.store.repository import Store, upgrade_store

SCHEMA_5_TABLES = ("memberships", "api_tokens", "users", "audit")
GROUP_COLUMNS = ("group_id", "rank", "local_rank", "world_size", "local_world_size", "node")


def make_legacy(url: str, version: int) -> None:
    """Turn the store at ``url`` (new, or with runs in it) into one of schema ``version``."""
    with Store(url) as store, store.engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
        for table in SCHEMA_5_TABLES:  # Alembic's, never in a legacy store
            conn.execute(text(f"DROP TABLE {table}"))
        if version < 4:
            conn.execute(text("DROP TABLE jobs"))
        if version < 3:
            conn.execute(text('ALTER TABLE runs DROP COLUMN "labels"'))
        if version < 2:
            conn.execute(text("DROP INDEX ix_runs_group_id_rank"))
            for column in (*GROUP_COLUMNS, "launcher"):
                conn.execute(text(f'ALTER TABLE runs DROP COLUMN "{column}"'))
        conn.execute(update(SchemaInfo).values(version=version))


def open_legacy(url: str, journal_dir: Path | None = None) -> Store:
    """Open a store made by ``make_legacy`` as its user would: SQLite upgrades it when it
    opens; PostgreSQL refuses it until ``wattprint db upgrade`` (``upgrade_store``)."""
    if url.startswith("postgresql"):
        with pytest.raises(StoreError, match="wattprint db upgrade"):
            Store(url, journal_dir)
        upgrade_store(url)
    return Store(url, journal_dir)
