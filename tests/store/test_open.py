"""Opening stores: lazy import, SQLite settings, schema version, bad URLs, cheap re-sync.

The upgrades of older stores are in ``test_migrations``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update

from tests.store.journals import append_samples, start_run
from wattprint.config import Settings
from wattprint.errors import StoreError
from wattprint.store import ingest
from wattprint.store.models import SCHEMA_VERSION, SchemaInfo
from wattprint.store.repository import Store, open_store


def test_importing_the_journal_does_not_import_sqlalchemy() -> None:
    code = (
        "import sys, wattprint.store, wattprint.store.journal\n"
        "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy imported'\n"
        "assert wattprint.store.Store.__name__ == 'Store'\n"
        "assert 'sqlalchemy' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # SQLite's own pragmas
def test_sqlite_settings(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.scalar(text("PRAGMA journal_mode")) == "wal"
        assert conn.scalar(text("PRAGMA foreign_keys")) == 1
        assert conn.scalar(text("PRAGMA busy_timeout")) == 30000


def test_open_store_from_settings(tmp_path: Path) -> None:
    settings = Settings(dir=tmp_path / "data")
    with open_store(settings) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.journal_dir == tmp_path / "data" / "journal"
        assert store.sync() == 0  # no journal folder yet: nothing to do
    assert (tmp_path / "data" / "wattprint.db").is_file()


def test_newer_schema_is_refused(store: Store, store_url: str) -> None:
    with store.engine.begin() as conn:  # as a later wattprint would leave it
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        conn.execute(update(SchemaInfo).values(version=SCHEMA_VERSION + 1))
    with pytest.raises(
        StoreError,
        match=rf"revision 9999 \(schema version {SCHEMA_VERSION + 1}\), newer .*upgrade wattprint",
    ):
        Store(store_url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "invalid store URL 'not a url'"),
        ("nosuchdb://x/y", "database 'nosuchdb' is not supported"),
        ("mysql://u:secret@h/db", r"store URL 'mysql://u:\*\*\*@h/db': database 'mysql'"),
        ("post gres://u:secret@h/db", r"invalid store URL 'post gres://u:\*\*\*@h/db'"),
    ],
)
def test_bad_url(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as caught:
        Store(url)
    assert "secret" not in str(caught.value)


def test_ingested_journals_are_not_reopened(
    store: Store, journal_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(20):
        writer, _ = start_run(journal_dir)
        append_samples(writer, 0, 10)
        writer.flush()
        writer.close()
    assert store.sync() == 20 * 11

    def must_not_read(*args: Any) -> Any:
        raise AssertionError("an unchanged journal was opened")

    monkeypatch.setattr(ingest, "read_journal", must_not_read)
    assert store.sync() == 0
