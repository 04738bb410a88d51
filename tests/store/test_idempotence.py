"""Syncing again, or after more records arrive, never duplicates nor loses a record."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.store.journals import POWER_W, append_samples, energy_at, start_run
from wattprint.store import ingest
from wattprint.store.journal import journal_path
from wattprint.store.repository import Store

T0 = 1_700_000_000.0


def test_sync_twice_adds_nothing(store: Store, journal_dir: Path) -> None:
    writer, run_id = start_run(journal_dir)
    append_samples(writer, 0, 5)
    writer.append("metric", t=T0 + 1, step=1, values={"loss": 1.0})
    writer.flush()
    assert store.sync() == 7
    assert store.sync() == 0
    assert len(store.samples(run_id)) == 15 and len(store.metrics(run_id)) == 1
    assert store.get_run(run_id).status == "running"  # this process is alive


def test_appended_records_and_half_written_line(store: Store, journal_dir: Path) -> None:
    writer, run_id = start_run(journal_dir)
    append_samples(writer, 0, 3)
    writer.flush()
    assert store.sync() == 4

    append_samples(writer, 3, 6)
    writer.flush()
    path = journal_path(journal_dir, run_id)
    whole = path.read_bytes()
    # A crash mid-write: the next record is only half on disk.
    writer.append("metric", t=T0 + 6, step=6, values={"loss": 0.5})
    writer.flush()
    full = path.read_bytes()
    line = full[len(whole) :]
    path.write_bytes(whole + line[: len(line) // 2])

    assert store.sync() == 3
    assert store.sync() == 0
    assert store.metrics(run_id) == []
    assert len(store.samples(run_id)) == 18

    path.write_bytes(full)  # the rest of the line arrives
    append_samples(writer, 6, 8)
    writer.append(
        "end",
        ended_at=T0 + 7,
        status="finished",
        energy_j={c: energy_at(c, 7) for c in POWER_W},
        error=None,
        exit_code=0,
    )
    writer.flush()
    writer.close()
    assert store.sync() == 1 + 2 + 1
    assert store.sync() == 0

    samples = store.samples(run_id)
    assert len(samples) == 8 * 3
    assert len({(s.t, s.component) for s in samples}) == 24
    assert [m.value for m in store.metrics(run_id)] == [0.5]
    run = store.get_run(run_id)
    assert run.status == "finished"
    assert run.energy_j == pytest.approx(sum(energy_at(c, 7) for c in POWER_W))


def test_second_store_object_and_rewritten_journal(
    store: Store, store_url: str, journal_dir: Path
) -> None:
    writer, run_id = start_run(journal_dir)
    append_samples(writer, 0, 4)
    writer.flush()
    writer.close()
    assert store.sync() == 5
    with Store(store_url, journal_dir) as other:
        assert other.sync() == 0
    # The journal is copied back over itself with a new inode and the same bytes plus
    # a stray blank line: known records are recognised by their seq.
    path = journal_path(journal_dir, run_id)
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(b"\n" + data)
    assert store.sync() == 0
    assert len(store.samples(run_id)) == 12


def test_corrupt_journal_is_skipped_with_one_warning(
    store: Store, journal_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (journal_dir / "garbage.jsonl").write_bytes(b'{"kind": "samples", "seq": 3, "rows": []}\n')
    (journal_dir / "binary.jsonl").write_bytes(os.urandom(200) + b"\n")
    (journal_dir / "notes.txt").write_text("not a journal")
    writer, run_id = start_run(journal_dir)
    append_samples(writer, 0, 2)
    writer.append("samples", rows=[["not", "a", "row"]])  # malformed record: skipped
    writer.append("window", name="w")  # missing fields: skipped
    writer.flush()

    with caplog.at_level(logging.WARNING, logger="wattprint.store"):
        assert store.sync() == 3
    skips = sorted(r.getMessage() for r in caplog.records if "skipping journal" in r.getMessage())
    # one line per bad journal; binary.jsonl holds no readable record, so nothing to skip
    assert len(skips) == 1
    assert "garbage.jsonl" in skips[0]
    assert "comes before the run record" in skips[0]
    assert any("2 malformed records" in r.getMessage() for r in caplog.records)
    assert len(store.samples(run_id)) == 6

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="wattprint.store"):
        assert store.sync() == 0
    assert caplog.records == []  # unchanged bad journals are not re-read nor re-reported

    (journal_dir / "garbage.jsonl").write_bytes(b"{}\n")  # changed: read again, once
    with caplog.at_level(logging.WARNING, logger="wattprint.store"):
        assert store.sync() == 0
        assert store.sync() == 0
    assert len(caplog.records) == 1 and "garbage.jsonl" in caplog.text


def test_unreadable_journal_does_not_break_sync(
    store: Store,
    journal_dir: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer, run_id = start_run(journal_dir)
    writer.flush()
    real = ingest.read_journal

    def unreadable(path: Path, offset: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(ingest, "read_journal", unreadable)
    with caplog.at_level(logging.WARNING, logger="wattprint.store"):
        assert store.sync() == 0
    assert "PermissionError" in caplog.text
    monkeypatch.setattr(ingest, "read_journal", real)
    append_samples(writer, 0, 1)
    writer.flush()  # the file changes: tried again
    assert store.sync() == 2
    assert store.get_run(run_id).status == "running"


def test_same_run_id_in_two_journals(store: Store, journal_dir: Path) -> None:
    writer, run_id = start_run(journal_dir)
    append_samples(writer, 0, 2)
    writer.flush()
    copy = journal_dir / "copy.jsonl"
    copy.write_bytes(journal_path(journal_dir, run_id).read_bytes())
    assert store.sync() == 3
    assert len(store.samples(run_id)) == 6


def test_non_finite_numbers(store: Store, journal_dir: Path) -> None:
    writer, run_id = start_run(journal_dir)
    append_samples(writer, 0, 2)
    writer.append("samples", rows=[[T0 + 2, "cpu:0", float("nan"), None]])  # skipped
    writer.append("metric", t=T0 + 2, step=2, values={"loss": float("nan"), "acc": 0.5})
    writer.append("samples", rows=[[T0 + 3, "cpu:0", 150.0, float("inf")]])
    writer.flush()
    assert store.sync() == 1 + 2 + 1 + 1
    assert {m.name: m.value for m in store.metrics(run_id)} == {"loss": None, "acc": 0.5}
    last = store.samples(run_id, component="cpu:0")[-1]
    assert (last.energy_j, last.power_w) == (150.0, None)
