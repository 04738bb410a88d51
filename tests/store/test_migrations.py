"""The store's schema under Alembic: new stores at the head, models and migrations in
agreement, legacy stores (before Alembic) upgraded and stamped, stores behind or ahead
refused, concurrent first opens, and ``wattprint db upgrade`` / ``db current``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, text, update
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tests.store.journals import append_samples, start_run
from tests.store.legacy import make_legacy, open_legacy
from wattprint.cli import app
from wattprint.errors import StoreError
from wattprint.store import migrate
from wattprint.store.migrate import HEAD_REVISION, SchemaState
from wattprint.store.models import SCHEMA_VERSION, Base, SchemaInfo
from wattprint.store.repository import Store, store_schema, upgrade_store

AT_HEAD = SchemaState(revision=HEAD_REVISION, version=SCHEMA_VERSION)

REVISION_6 = '''"""A later revision, as autogenerate writes one: widen runs.launcher (on
SQLite a batch migration: runs is copied into a new table and the old one dropped)."""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.alter_column("launcher", type_=sa.String(32), existing_type=sa.String(16))
    op.execute("UPDATE schema_info SET version = 6")


def downgrade() -> None:
    raise NotImplementedError
'''


def _differences(store: Store) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models."""
    with store.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


@pytest.fixture
def revision_6(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make this wattprint's migrations end with ``REVISION_6``, as if it were newer."""
    scripts = tmp_path / "migrations"
    shutil.copytree(
        Path(migrate.__file__).with_name("migrations"),
        scripts,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (scripts / "versions" / "0006_widen_launcher.py").write_text(REVISION_6)
    monkeypatch.setattr(migrate, "_SCRIPTS", scripts)
    monkeypatch.setattr(migrate, "HEAD_REVISION", "0006")


def test_head_revision_is_the_newest_script() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    assert scripts.get_heads() == [HEAD_REVISION]
    assert int(HEAD_REVISION) == SCHEMA_VERSION
    assert migrate.BASE_REVISION in migrate.known_revisions()


def test_new_store_is_at_head_and_matches_the_models(store_url: str) -> None:
    with Store(store_url) as store:
        assert store_schema(store_url) == AT_HEAD
        assert migrate.standing(AT_HEAD) == "current"
        assert _differences(store) == []


def test_legacy_store_is_upgraded_stamped_and_keeps_its_runs(
    store_url: str, journal_dir: Path
) -> None:
    writer, run_id = start_run(journal_dir)
    writer.flush()
    writer.close()
    with Store(store_url, journal_dir) as store:
        store.sync()
    make_legacy(store_url, 1)
    assert migrate.standing(store_schema(store_url)) == "behind"
    with open_legacy(store_url, journal_dir) as store:
        assert store_schema(store_url) == AT_HEAD
        assert _differences(store) == []
        run = store.get_run(run_id)
        assert (run.group, run.labels) == (None, {})
        with store.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(SchemaInfo)) == 1


def test_store_behind_a_later_revision_keeps_its_data(
    store_url: str, journal_dir: Path, request: pytest.FixtureRequest
) -> None:
    writer, run_id = start_run(journal_dir)
    append_samples(writer, 0, 10)
    writer.flush()
    writer.close()
    with Store(store_url, journal_dir) as store:
        store.sync()
    request.getfixturevalue("revision_6")  # this wattprint now writes revision 0006
    assert migrate.standing(store_schema(store_url)) == "behind"
    if store_url.startswith("postgresql"):
        with pytest.raises(StoreError, match=r"has revision 0005 .*needs revision 0006"):
            Store(store_url)
        upgrade_store(store_url)
    with Store(store_url) as store:  # SQLite: upgraded as it opens
        assert store_schema(store_url) == SchemaState("0006", 6)
        assert len(store.samples(run_id)) == 10 * 3  # not cascaded away with the old table
        with store.engine.connect() as conn:
            launcher = {c["name"]: c for c in inspect(conn).get_columns("runs")}["launcher"]
            assert launcher["type"].length == 32
            if store_url.startswith("sqlite"):  # back on once the migration is over
                assert conn.scalar(text("PRAGMA foreign_keys")) == 1


def test_legacy_store_ahead_of_version_4_is_refused(store_url: str) -> None:
    make_legacy(store_url, 4)
    engine = create_engine(store_url)
    with engine.begin() as conn:  # no wattprint writes this: newer ones use Alembic
        conn.execute(update(SchemaInfo).values(version=5))
    engine.dispose()
    with pytest.raises(StoreError, match=r"schema version 5 \(before Alembic\), newer"):
        Store(store_url)
    with pytest.raises(StoreError, match="upgrade wattprint"):
        upgrade_store(store_url)


def test_postgresql_store_behind_is_refused_until_db_upgrade(postgres_db: str) -> None:
    make_legacy(postgres_db, 3)
    url = make_url(postgres_db).set(password="s3cret").render_as_string(hide_password=False)
    with pytest.raises(StoreError) as refused:
        Store(url)  # the test server trusts every connection: the password is not checked
    message = str(refused.value)
    assert "schema version 3 (before Alembic)" in message
    assert "`wattprint db upgrade`" in message
    assert "s3cret" not in message and "***" in message
    before, after = upgrade_store(url)
    assert (before, after) == (SchemaState(None, 3), AT_HEAD)
    with Store(url) as store:
        assert store.engine.driver == "psycopg"


def test_unreachable_postgresql_error_hides_the_password() -> None:
    with pytest.raises(StoreError, match=r"cannot open store .*u:\*\*\*@127\.0\.0\.1:1/") as err:
        Store("postgresql://u:s3cret@127.0.0.1:1/db")  # nothing listens on port 1
    assert "s3cret" not in str(err.value)


def test_concurrent_first_opens_create_the_schema_once(store_url: str) -> None:
    start = time.time() + 1.5  # every process waits for this moment, then opens the store
    code = (
        "import sys, time\n"
        "from wattprint.store.repository import Store\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "Store(sys.argv[1]).close()\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, store_url, str(start)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    with Store(store_url) as store, store.engine.connect() as conn:
        assert store_schema(store_url) == AT_HEAD
        assert conn.scalar(select(func.count()).select_from(SchemaInfo)) == 1


def _db(*args: str, url: str) -> Any:
    result = CliRunner().invoke(app, ["db", *args, "--json"], env={"WATTPRINT_DB": url})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.usefixtures("data_dir")
def test_db_upgrade_and_current_on_a_new_postgresql_database(postgres_db: str) -> None:
    empty = _db("current", url=postgres_db)
    assert (empty["revision"], empty["schema_version"], empty["standing"]) == (None, None, "empty")
    assert empty["store"] == postgres_db
    done = _db("upgrade", url=postgres_db)
    assert done["before"]["standing"] == "empty"
    assert (done["after"]["revision"], done["after"]["standing"]) == (HEAD_REVISION, "current")
    now = _db("current", url=postgres_db)
    assert (now["revision"], now["schema_version"], now["head"]) == (
        HEAD_REVISION,
        SCHEMA_VERSION,
        HEAD_REVISION,
    )
    again = CliRunner().invoke(app, ["db", "upgrade"], env={"WATTPRINT_DB": postgres_db})
    assert again.exit_code == 0 and f"already at revision {HEAD_REVISION}" in again.stdout
    with Store(postgres_db) as store:
        assert store.schema_version == SCHEMA_VERSION


@pytest.mark.usefixtures("data_dir")
def test_db_commands_report_a_legacy_store_and_bad_urls(store_url: str) -> None:
    make_legacy(store_url, 2)
    behind = CliRunner().invoke(app, ["db", "current"], env={"WATTPRINT_DB": store_url})
    assert behind.exit_code == 0 and "run `wattprint db upgrade`" in behind.stdout
    assert _db("upgrade", url=store_url)["before"]["schema_version"] == 2
    assert store_schema(store_url) == AT_HEAD
    bad = CliRunner().invoke(app, ["db", "current"], env={"WATTPRINT_DB": "mysql://u:pw@h/db"})
    assert bad.exit_code == 2 and "not supported" in bad.stderr and "pw@" not in bad.stderr
