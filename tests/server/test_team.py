"""A team server: users made with the CLI, tokens stored hashed, each user seeing and doing
only what their project memberships allow, and launches audited."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.server.conftest import Seeded
from tests.server.test_api import names, ok, refused
from wattprint.server.app import create_app
from wattprint.server.auth import AccessPolicy
from wattprint.store.access import AccessStore, hash_token
from wattprint.store.models import ApiToken
from wattprint.store.repository import Store

QUEUED_BENCH = {"kind": "bench", "bench": {"suite": "nlp", "models": ["gpt2"], "quick": True}}


def wp(seeded: Seeded, *args: str, rc: int = 0) -> subprocess.CompletedProcess[str]:
    """``wattprint ARGS --dir <seeded folder>``, expected to exit with ``rc``."""
    done = subprocess.run(
        [sys.executable, "-m", "wattprint", *args, "--dir", str(seeded.dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == rc, done.stderr + done.stdout
    return done


@pytest.fixture(scope="module")
def tokens(seeded: Seeded) -> dict[str, str]:
    """alice reads and launches in vision, bob reads bench, carol is an admin; made with
    the CLI as an administrator would."""
    wp(seeded, "users", "add", "alice")
    wp(seeded, "users", "add", "bob")
    wp(seeded, "users", "add", "carol", "--admin")
    wp(seeded, "users", "grant", "alice", "vision", "--scopes", "read,launch")
    wp(seeded, "users", "grant", "bob", "bench", "--scopes", "read")
    made = {u: wp(seeded, "tokens", "create", u).stdout.strip() for u in ("alice", "bob", "carol")}
    made["revoked"] = wp(seeded, "tokens", "create", "bob", "--label", "old").stdout.strip()
    listed = wp(seeded, "tokens", "list", "--user", "bob", "--json").stdout
    old = next(t for t in __import__("json").loads(listed)["tokens"] if t["label"] == "old")
    wp(seeded, "tokens", "revoke", str(old["id"]))
    return made


@pytest.fixture(scope="module")
def team(seeded: Seeded, tokens: dict[str, str]) -> Iterator[TestClient]:
    app = create_app(seeded.settings, AccessPolicy(seeded.token, token_for_read=False))
    with TestClient(app) as c:
        yield c


def as_(user: str, tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[user]}"}


def test_every_request_needs_a_valid_user_token(
    team: TestClient, tokens: dict[str, str], seeded: Seeded
) -> None:
    refused(team.get("/api/runs"), 401, "API token")
    refused(team.get("/api/runs", headers=as_("revoked", tokens)), 403, "revoked")
    personal = {"Authorization": f"Bearer {seeded.token}"}
    refused(team.get("/api/runs", headers=personal), 403)  # the personal token no longer opens it
    assert team.get("/", follow_redirects=False).status_code == 401
    assert ok(team, "/api/meta", headers=as_("alice", tokens))["token_required"]["read"] is True


def test_tokens_are_stored_hashed(seeded: Seeded, tokens: dict[str, str]) -> None:
    with Store.from_settings(seeded.settings) as store, store.engine.connect() as conn:
        stored = set(conn.scalars(select(ApiToken.token_hash)))
    assert hash_token(tokens["alice"]) in stored
    assert not any(t in h for t in tokens.values() for h in stored)
    db = (seeded.dir / "wattprint.db").read_bytes()
    assert tokens["alice"].encode() not in db


def test_users_see_only_their_projects(
    team: TestClient, tokens: dict[str, str], seeded: Seeded
) -> None:
    alice, bob, carol = (as_(u, tokens) for u in ("alice", "bob", "carol"))
    assert ok(team, "/api/meta", headers=alice)["projects"] == ["vision"]
    mine = ok(team, "/api/runs", headers=alice)
    assert mine["total"] == 3 and set(names(mine)) == {"cifar", "cifar-small", "plain"}
    assert {r["project"] for r in ok(team, "/api/runs", headers=bob)["runs"]} == {"bench"}
    assert ok(team, "/api/runs", headers=carol)["total"] == 6
    bench_run = ok(team, "/api/runs", headers=bob)["runs"][0]["run_id"]
    refused(team.get(f"/api/runs/{bench_run}", headers=alice), 403, "alice", "'bench'")
    refused(team.get(f"/api/runs/{bench_run}/download.csv", headers=alice), 403)
    refused(team.get("/api/runs/cifar/timeline", headers=bob), 403, "'vision'")
    refused(team.get(f"/api/compare?runs=cifar,{bench_run}", headers=alice), 403)
    assert ok(team, "/api/benchmarks", headers=alice)["benchmarks"] == []
    assert len(ok(team, "/api/benchmarks", headers=bob)["benchmarks"]) == 1
    refused(team.get(f"/api/benchmarks/{seeded.benchmark_id}", headers=alice), 403)
    life = {"training": ["cifar"], "inference_j": 1.0, "inferences": 10}
    refused(team.post("/api/estimate/lifecycle", json=life, headers=bob), 403)
    assert team.post("/api/estimate/lifecycle", json=life, headers=alice).status_code == 200


def test_launching_needs_the_launch_scope_and_is_audited(
    team: TestClient, tokens: dict[str, str], seeded: Seeded
) -> None:
    alice, bob = as_("alice", tokens), as_("bob", tokens)
    spec: dict[str, Any] = {**QUEUED_BENCH, "project": "vision"}
    created = team.post("/api/jobs", json=spec, headers=alice)
    assert created.status_code == 201, created.text
    job = created.json()["job"]
    refused(team.post("/api/jobs", json={**spec, "project": "bench"}, headers=alice), 403)
    refused(team.post("/api/jobs", json={**QUEUED_BENCH, "project": "bench"}, headers=bob), 403)
    assert ok(team, "/api/jobs", headers=bob)["jobs"] == []  # not bob's project
    refused(team.get(f"/api/jobs/{job['id']}", headers=bob), 403)
    refused(team.post(f"/api/jobs/{job['id']}/cancel", headers=bob), 403, "may not launch")
    assert team.post(f"/api/jobs/{job['id']}/cancel", headers=alice).status_code == 200
    with Store.from_settings(seeded.settings) as store:
        log = AccessStore(store).audit_log()
    launches = [(a.user, a.action, a.project, a.detail.get("job")) for a in log[:2]]
    assert launches == [
        ("alice", "job.cancel", "vision", job["id"]),
        ("alice", "job.launch", "vision", job["id"]),
    ]
    shown = wp(seeded, "audit", "--limit", "2").stdout
    assert "job.cancel" in shown and "alice" in shown


def test_login_with_a_user_token(team: TestClient, tokens: dict[str, str]) -> None:
    refused(team.get("/login", params={"token": "nope"}), 403)
    login = team.get("/login", params={"token": tokens["bob"]}, follow_redirects=False)
    assert login.status_code == 303
    assert {r["project"] for r in ok(team, "/api/runs")["runs"]} == {"bench"}
    team.cookies.clear()


def test_bad_user_and_grant_input_is_one_clear_error(seeded: Seeded) -> None:
    def fails(*args: str) -> str:
        return wp(seeded, *args, rc=2).stderr

    assert "exists already" in fails("users", "add", "alice")
    assert "accepted: 1-64 letters" in fails("users", "add", "a b")
    assert "scope 'admin': accepted: read, write, launch" in fails(
        "users", "grant", "alice", "vision", "--scopes", "read,admin"
    )
    assert "no user 'zed'" in fails("tokens", "create", "zed")
    assert "no active token with id 999" in fails("tokens", "revoke", "999")
