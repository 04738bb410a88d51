"""Fixtures of the store tests: a real database per test, reachable by URL.

Only SQLite now; to run the same tests on PostgreSQL later, add a parameter to
``store_url`` that creates a fresh database and yields its URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wattprint.store.repository import Store


@pytest.fixture(params=["sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty store."""
    assert request.param == "sqlite"
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
