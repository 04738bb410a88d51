"""``POST /api/ingest/{run_id}`` on the real app served by uvicorn: batches land in the store
exactly once, in order, across restarts; bad input is one clear 400."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.live import TOKEN, LiveServer
from wattprint.store.access import AccessStore
from wattprint.store.journal import encode_records, journal_path
from wattprint.store.repository import Store

T0 = 1_700_000_000.0
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("ingest") / "data").start()
    try:
        yield live
    finally:
        live.stop()


def journal(run_id: str, samples: int = 6) -> list[dict[str, Any]]:
    """A run's records as a tracker journals them: run, samples (one per second), end."""
    run = {
        "kind": "run",
        "seq": 0,
        "run_id": run_id,
        "project": "remote",
        "name": f"r-{run_id[:6]}",
        "host": "far-away-node",
        "started_at": T0,
        "components": [{"name": "cpu:0", "kind": "cpu", "source": "rapl", "quality": "measured"}],
    }
    rows = [
        {"kind": "samples", "seq": i, "rows": [[T0 + i, "cpu:0", 10.0 * i, 10.0]]}
        for i in range(1, samples + 1)
    ]
    end = {
        "kind": "end",
        "seq": samples + 1,
        "ended_at": T0 + samples + 1,
        "status": "finished",
        "energy_j": {"cpu:0": 10.0 * samples},
        "error": None,
        "exit_code": None,
    }
    return [run, *rows, end]


def post(
    server: LiveServer, run_id: str, records: list[dict[str, Any]], **headers: str
) -> httpx.Response:
    body = {"batch": {"first_seq": records[0]["seq"], "last_seq": records[-1]["seq"]}}
    return post_body(server, run_id, {**body, "records": records}, **headers)


def post_body(server: LiveServer, run_id: str, body: Any, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/ingest/{run_id}", json=body, headers=headers or AUTH, timeout=30
    )


def stored_samples(server: LiveServer, run_id: str) -> list[tuple[float, float]]:
    """The run's samples in the server's store, once what the server holds is ingested
    (its ingester may not have got to the last batches yet)."""
    with Store.from_settings(server.settings) as store:
        store.sync()
        return [(s.t, s.energy_j) for s in store.samples(run_id)]


def test_batches_in_order_land_once_and_finish_the_run(server: LiveServer) -> None:
    run_id = uuid.uuid4().hex
    records = journal(run_id)
    assert post(server, run_id, records[:3]).json() == {"next_seq": 3}
    assert post(server, run_id, records[3:]).json() == {"next_seq": 8}
    assert stored_samples(server, run_id) == [(T0 + i, 10.0 * i) for i in range(1, 7)]
    with Store.from_settings(server.settings) as store:
        run = store.get_run(run_id)
    assert (run.status, run.host, run.energy_j) == ("finished", "far-away-node", 60.0)
    # The server's journal is the tracker's, byte for byte.
    assert journal_path(server.settings.journal_dir, run_id).read_bytes() == encode_records(records)


def test_replayed_and_overlapping_batches_are_acknowledged_without_duplicates(
    server: LiveServer,
) -> None:
    run_id = uuid.uuid4().hex
    records = journal(run_id)
    assert post(server, run_id, records[:4]).json() == {"next_seq": 4}
    assert post(server, run_id, records[:4]).json() == {"next_seq": 4}  # a lost answer
    assert post(server, run_id, records[1:3]).json() == {"next_seq": 4}  # all held
    assert post(server, run_id, records[2:6]).json() == {"next_seq": 6}  # overlap trimmed
    assert post(server, run_id, records).json() == {"next_seq": 8}
    assert stored_samples(server, run_id) == [(T0 + i, 10.0 * i) for i in range(1, 7)]


def test_a_batch_beyond_what_the_server_has_is_409_with_next_seq(server: LiveServer) -> None:
    run_id = uuid.uuid4().hex
    records = journal(run_id)
    early = post(server, run_id, records[2:4])  # the run record never arrived
    assert early.status_code == 409
    assert early.json()["next_seq"] == 0
    assert "missing" in early.json()["detail"]
    assert not journal_path(server.settings.journal_dir, run_id).exists()
    post(server, run_id, records[:2])
    gap = post(server, run_id, records[4:])
    assert (gap.status_code, gap.json()["next_seq"]) == (409, 2)
    assert post(server, run_id, records[2:]).json() == {"next_seq": 8}
    assert len(stored_samples(server, run_id)) == 6


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer not-the-token"}, 403)],
)
def test_storing_needs_the_token(server: LiveServer, headers: dict[str, str], status: int) -> None:
    run_id = uuid.uuid4().hex
    response = httpx.post(
        f"{server.url}/api/ingest/{run_id}",
        json={"batch": {"first_seq": 0, "last_seq": 0}, "records": journal(run_id)[:1]},
        headers=headers,
    )
    assert response.status_code == status
    assert "token" in response.json()["detail"]
    assert not journal_path(server.settings.journal_dir, run_id).exists()


RUN = "0123456789abcdef0123456789abcdef"
SAMPLE = {"kind": "samples", "seq": 1, "rows": []}


@pytest.mark.parametrize(
    ("run_id", "body", "message"),
    [
        ("not-a-run", {"batch": {"first_seq": 1, "last_seq": 1}, "records": [SAMPLE]}, "run_id"),
        (RUN, {"records": [SAMPLE]}, "batch is required"),
        (RUN, {"batch": {"first_seq": 1, "last_seq": 1}, "records": []}, "records"),
        (
            RUN,
            {"batch": {"first_seq": 1, "last_seq": 1}, "records": [SAMPLE], "extra": 1},
            "unknown option 'extra'; accepted: batch, records",
        ),
        (
            RUN,
            {"batch": {"first_seq": 1, "last_seq": 1}, "records": [{**SAMPLE, "seq": "1"}]},
            "records[0].seq='1': accepted: an integer >= 0",
        ),
        (
            RUN,
            {"batch": {"first_seq": 1, "last_seq": 1}, "records": [{"seq": 1}]},
            "records[0].kind=None: accepted: a record kind",
        ),
        (
            RUN,
            {"batch": {"first_seq": 0, "last_seq": 0}, "records": [{**SAMPLE, "seq": 0}]},
            "the run record, and only it, has seq 0",
        ),
        (
            RUN,
            {
                "batch": {"first_seq": 2, "last_seq": 1},
                "records": [{**SAMPLE, "seq": 2}, SAMPLE],
            },
            "records[1].seq=1 after 2: records go in increasing seq order",
        ),
        (
            RUN,
            {"batch": {"first_seq": 1, "last_seq": 5}, "records": [SAMPLE]},
            "batch 1-5 holds records 1-1",
        ),
        (
            RUN,
            {"batch": {"first_seq": 0, "last_seq": 0}, "records": journal("f" * 32)[:1]},
            "the run record is of run 'ffffffffffffffffffffffffffffffff', not of",
        ),
        (
            RUN,
            {
                "batch": {"first_seq": 0, "last_seq": 0},
                "records": [{**journal(RUN)[0], "started_at": "yesterday"}],
            },
            "the run record's started_at='yesterday': accepted: Unix time in seconds",
        ),
    ],
)
def test_bad_input_is_one_clear_400(
    server: LiveServer, run_id: str, body: dict[str, Any], message: str
) -> None:
    response = post_body(server, run_id, body)
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]


def test_not_json_is_400(server: LiveServer) -> None:
    response = httpx.post(
        f"{server.url}/api/ingest/{RUN}",
        content=b"{not json",
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_next_seq_survives_a_restart_and_a_line_cut_by_a_crash(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "data").start()
    run_id = uuid.uuid4().hex
    records = journal(run_id, samples=8)
    try:
        post(server, run_id, records[:4])
        server.stop()
        path = journal_path(server.settings.journal_dir, run_id)
        with path.open("ab") as fh:  # the server died half-way through writing record 4
            fh.write(encode_records(records[4:5])[:15])
        server.start()
        ahead = post(server, run_id, records[6:])
        assert (ahead.status_code, ahead.json()["next_seq"]) == (409, 4)
        assert post(server, run_id, records[4:]).json() == {"next_seq": 10}
    finally:
        server.stop()
    assert stored_samples(server, run_id) == [(T0 + i, 10.0 * i) for i in range(1, 9)]


def test_a_journal_the_server_shares_with_the_tracker_is_only_acknowledged(
    server: LiveServer,
) -> None:
    """A tracker on the server's machine writing to the server's data folder: its journal
    is the server's, so what it sends is there already."""
    run_id = uuid.uuid4().hex
    records = journal(run_id)
    path = journal_path(server.settings.journal_dir, run_id)
    path.write_bytes(encode_records(records[:5]))  # the tracker flushed 5 records
    assert post(server, run_id, records[:3]).json() == {"next_seq": 5}
    assert post(server, run_id, records[3:5]).json() == {"next_seq": 5}
    assert path.read_bytes() == encode_records(records[:5])


def test_on_a_team_server_writing_needs_the_write_scope_of_the_runs_project(
    tmp_path: Path,
) -> None:
    """alice may write to ``remote`` (the runs' project), bob may only read it."""
    server = LiveServer(tmp_path / "data")
    with Store.from_settings(server.settings) as store:
        team = AccessStore(store)
        for user, scopes in (("alice", ["read", "write"]), ("bob", ["read"])):
            team.add_user(user)
            team.grant(user, "remote", scopes)
        tokens = {user: team.create_token(user) for user in ("alice", "bob")}
    server.start()
    try:
        run_id = uuid.uuid4().hex
        records = journal(run_id)
        as_bob = {"Authorization": f"Bearer {tokens['bob']}"}
        as_alice = {"Authorization": f"Bearer {tokens['alice']}"}
        refused = post(server, run_id, records[:3], **as_bob)
        assert refused.status_code == 403
        assert "may not write in project 'remote'" in refused.json()["detail"]
        assert post(server, run_id, records[:3], **as_alice).json() == {"next_seq": 3}
        # Later batches are judged by the project the run was first filed under.
        assert post(server, run_id, records[3:], **as_bob).status_code == 403
        assert post(server, run_id, records[3:], **as_alice).json() == {"next_seq": 8}
        # A run the server has not seen, without its run record: nothing to judge, nothing
        # stored; the answer asks for the run record, which will be judged.
        unseen = post(server, uuid.uuid4().hex, records[3:], **as_bob)
        assert (unseen.status_code, unseen.json()["next_seq"]) == (409, 0)
    finally:
        server.stop()
    assert len(stored_samples(server, run_id)) == 6
