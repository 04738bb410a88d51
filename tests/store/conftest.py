"""Fixtures of the store tests: a real database per test, reachable by URL.

Every test that takes ``store_url`` (or ``store``) runs twice: on a new SQLite file, and
on a new database of the PostgreSQL server that the tests start (skipped when PostgreSQL
is not installed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wattprint.store.repository import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty store."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_db"))
    return f"sqlite:///{tmp_path / 'db' / 'wattprint.db'}"


@pytest.fixture
def journal_dir(tmp_path: Path) -> Path:
    path = tmp_path / "journal"
    path.mkdir()
    return path


@pytest.fixture
def store(store_url: str, journal_dir: Path) -> Iterator[Store]:
    with Store(store_url, journal_dir) as s:
        yield s
