"""Remote trackers: the real tracker over a fake RAPL tree sends its journal to the real app
served by uvicorn, through a server restart, no server at all (then ``wattprint push``),
a server that never answers, and a wrong token. Every check compares what the server
holds with the tracker's local journal: each record once, in order."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import wattprint
from tests.fakes.sysfs import FakePowercap
from tests.server.live import TOKEN, LiveServer
from wattprint.meters.rapl import RaplMeter
from wattprint.store.journal import journal_path, read_journal
from wattprint.store.repository import Store
from wattprint.tracking.tracker import Tracker
from wattprint.tracking.upload import IngestClient, JournalUpload, cursor_path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "server").start()
    try:
        yield live
    finally:
        live.stop()


def _tracker(powercap: FakePowercap, client_dir: Path, **options: Any) -> Tracker:
    options.setdefault("token", TOKEN)
    return wattprint.track(
        project="remote",
        dir=client_dir,
        meters=[RaplMeter(powercap.root)],
        sample_interval_s=0.02,
        flush_interval_s=0.05,
        **options,
    )


def _train(tracker: Tracker, powercap: FakePowercap, steps: int) -> list[float]:
    """A training loop: a window and a metric per step; returns each step's duration."""
    durations = []
    for step in range(steps):
        began = time.perf_counter()
        with tracker.window("step"):
            powercap.advance("intel-rapl:0", 2.0)
        tracker.log(step=step, loss=1.0 / (step + 1))
        durations.append(time.perf_counter() - began)
        time.sleep(0.005)
    return durations


def _same_records(tracker: Tracker, client_dir: Path, server: LiveServer) -> None:
    """The server has the run exactly as the tracker journaled it, and stored it so."""
    local = journal_path(client_dir / "journal", tracker.run_id)
    remote = journal_path(server.settings.journal_dir, tracker.run_id)
    assert remote.read_bytes() == local.read_bytes()
    with (
        Store.from_settings(wattprint.Settings(dir=client_dir)) as mine,
        Store.from_settings(server.settings) as theirs,
    ):
        mine.sync()
        theirs.sync()
        for store in (mine, theirs):
            assert store.get_run(tracker.run_id).status == "finished"
        assert theirs.samples(tracker.run_id) == mine.samples(tracker.run_id)
        assert theirs.windows(tracker.run_id) == mine.windows(tracker.run_id)
        assert theirs.metrics(tracker.run_id) == mine.metrics(tracker.run_id)


def test_a_run_lands_on_the_server_once(
    data_dir: Path, powercap: FakePowercap, server: LiveServer
) -> None:
    with _tracker(powercap, data_dir, server=server.url) as tracker:
        _train(tracker, powercap, 20)
    _same_records(tracker, data_dir, server)
    with Store.from_settings(server.settings) as store:
        assert len(store.windows(tracker.run_id)) == 20
        assert len(store.metrics(tracker.run_id)) == 20
        assert store.get_run(tracker.run_id).energy_j == pytest.approx(40.0)
    sent = json.loads(cursor_path(journal_path(data_dir / "journal", tracker.run_id)).read_text())
    assert sent["server"] == server.url
    run_record = next(read_journal(journal_path(data_dir / "journal", tracker.run_id)))[1]
    assert "token" not in run_record["settings"]
    assert run_record["settings"]["server"] == server.url


def test_the_server_restarted_mid_run_gets_every_record_once(
    data_dir: Path,
    powercap: FakePowercap,
    server: LiveServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server stops and comes back (same port, same folder, fresh process state) while
    the loop goes on; the loop never waits on it."""
    steps_done = 0
    restarted = threading.Event()

    def operator() -> None:
        while steps_done < 15:
            time.sleep(0.005)
        server.stop()
        down_at = steps_done
        while steps_done < down_at + 40:  # the run goes on ~0.5 s without a server
            time.sleep(0.005)
        server.start()
        restarted.set()

    helper = threading.Thread(target=operator)
    with _tracker(powercap, data_dir, server=server.url) as tracker:
        helper.start()
        durations: list[float] = []
        for _ in range(200):
            durations += _train(tracker, powercap, 1)
            steps_done += 1
            if restarted.is_set() and steps_done >= 100:
                break
        helper.join(30)
    assert restarted.is_set()
    _same_records(tracker, data_dir, server)
    down = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(down) == 1, down
    # Waiting on the network would take a connection attempt or a timeout; a step costs
    # two counter reads and two journal appends.
    assert sorted(durations)[len(durations) // 2] < 0.01
    assert max(durations) < 0.5, max(durations)


def test_no_server_during_the_run_then_push(
    data_dir: Path, powercap: FakePowercap, tmp_path: Path
) -> None:
    later = LiveServer(tmp_path / "server")  # not started: nothing listens on its port
    with _tracker(powercap, data_dir, server=later.url, server_flush_timeout_s=0.2) as tracker:
        _train(tracker, powercap, 10)
    assert tracker.result is not None and tracker.result.status == "finished"
    later.start()
    try:
        env = {**os.environ, "WATTPRINT_TOKEN": TOKEN}
        push = [sys.executable, "-m", "wattprint", "push", "--dir", str(data_dir)]
        push += ["--server", later.url, "--json"]
        first = subprocess.run(push, capture_output=True, text=True, env=env, timeout=60)
        assert first.returncode == 0, first.stderr
        pushed = json.loads(first.stdout)["pushed"]
        journal = journal_path(data_dir / "journal", tracker.run_id)
        assert [(p["run_id"], p["records"], p["error"]) for p in pushed] == [
            (tracker.run_id, len(list(read_journal(journal))), None)
        ]
        _same_records(tracker, data_dir, later)
        again = subprocess.run(push, capture_output=True, text=True, env=env, timeout=60)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["pushed"] == []
    finally:
        later.stop()


def test_a_server_that_never_answers_does_not_hold_the_run(
    data_dir: Path, powercap: FakePowercap, caplog: pytest.LogCaptureFixture
) -> None:
    """Connections are accepted by the kernel but never answered: requests hang until
    their timeout on the shipper's thread, never on the measured program's."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        tracker = _tracker(powercap, data_dir, server=url, server_flush_timeout_s=0.5).start()
        durations = _train(tracker, powercap, 30)
        began = time.perf_counter()
        result = tracker.stop()
        stopping = time.perf_counter() - began
    assert max(durations) < 0.5, max(durations)
    assert stopping < 3.0
    assert result.status == "finished" and len(result.windows) == 30
    (left,) = [r.getMessage() for r in caplog.records if "not sent" in r.getMessage()]
    assert "wattprint push" in left
    with Store.from_settings(wattprint.Settings(dir=data_dir)) as store:
        store.sync()
        assert len(store.windows(tracker.run_id)) == 30


@pytest.mark.parametrize(("token", "status"), [(None, "401"), ("not-the-token", "403")])
def test_a_refused_token_is_said_once_and_the_run_is_kept_locally(
    data_dir: Path,
    powercap: FakePowercap,
    server: LiveServer,
    caplog: pytest.LogCaptureFixture,
    token: str | None,
    status: str,
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="wattprint"),
        _tracker(powercap, data_dir, server=server.url, token=token) as tracker,
    ):
        _train(tracker, powercap, 10)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert f"refused the records ({status}" in warnings[0]
    assert "wattprint push" in warnings[0]
    assert tracker.result is not None
    assert [e.source for e in tracker.result.events] == ["server"]
    assert not journal_path(server.settings.journal_dir, tracker.run_id).exists()
    with Store.from_settings(wattprint.Settings(dir=data_dir)) as store:
        store.sync()
        assert len(store.windows(tracker.run_id)) == 10
        assert [e.source for e in store.events(tracker.run_id)] == ["server"]


def _records(path: Path) -> list[dict[str, Any]]:
    return [record for _, record in read_journal(path)]


def test_a_journal_continued_in_another_file_is_sent_in_order(
    data_dir: Path, powercap: FakePowercap, server: LiveServer, tmp_path: Path
) -> None:
    """The tracker moves its journal when its folder becomes unwritable: the records
    already written stay in the first file, the rest go to the second."""
    with _tracker(powercap, data_dir) as tracker:
        _train(tracker, powercap, 6)
    whole = journal_path(data_dir / "journal", tracker.run_id)
    lines = whole.read_bytes().splitlines(keepends=True)
    first, moved = whole, journal_path(tmp_path / "fallback", tracker.run_id)
    moved.parent.mkdir()
    first.write_bytes(b"".join(lines[:7]))
    moved.write_bytes(b"".join(lines[7:]))
    client = IngestClient(server.url, TOKEN)
    try:
        upload = JournalUpload(client, tracker.run_id, first)
        upload.follow(moved)
        upload.send_pending()
    finally:
        client.close()
    remote = journal_path(server.settings.journal_dir, tracker.run_id)
    assert remote.read_bytes() == b"".join(lines)
    assert upload.acknowledged == len(lines)


def test_a_server_that_lost_records_gets_them_again(
    data_dir: Path, powercap: FakePowercap, server: LiveServer
) -> None:
    """The server's journal is gone (restored from an old backup, say): its 409 sends the
    uploader back to the records it asks for, from the local journal."""
    with _tracker(powercap, data_dir) as tracker:
        _train(tracker, powercap, 6)
    path = journal_path(data_dir / "journal", tracker.run_id)
    whole = path.read_bytes()
    head = whole[: whole.index(b"\n", len(whole) // 2) + 1]
    path.write_bytes(head)
    client = IngestClient(server.url, TOKEN)
    try:
        JournalUpload(client, tracker.run_id, path).send_pending()
        server.stop()
        journal_path(server.settings.journal_dir, tracker.run_id).unlink()
        server.start()
        path.write_bytes(whole)  # the run went on meanwhile
        upload = JournalUpload(client, tracker.run_id, path)
        upload.send_pending()
    finally:
        client.close()
    assert journal_path(server.settings.journal_dir, tracker.run_id).read_bytes() == whole
    assert upload.acknowledged == len(_records(path))
    _same_records(tracker, data_dir, server)


def test_without_httpx_the_run_is_recorded_locally_and_says_why(
    data_dir: Path,
    powercap: FakePowercap,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)  # `import httpx` fails, as uninstalled
    with _tracker(powercap, data_dir, server="http://127.0.0.1:9") as tracker:
        _train(tracker, powercap, 3)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "pip install 'wattprint[remote]'" in warning
    assert tracker.result is not None and len(tracker.result.windows) == 3
    assert [e.source for e in tracker.result.events] == ["server"]
