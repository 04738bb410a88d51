"""Finding a run by id, id prefix, name and project/name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.store.journals import start_run
from wattprint.errors import NotFoundError
from wattprint.store.repository import Store

T0 = 1_700_000_000.0


@pytest.fixture
def runs(store: Store, journal_dir: Path) -> Store:
    specs = [
        ("aaaa1111", "vision", "resnet", 1.0, "gpu-a"),
        ("aaaa2222", "vision", "resnet", 2.0, "gpu-b"),  # the latest "resnet"
        ("bbbb3333", "nlp", "resnet", 0.5, "gpu-a"),
        ("cccc4444", "nlp", "bert", 3.0, "gpu-a"),
    ]
    for run_id, project, name, t, host in specs:
        writer, _ = start_run(
            journal_dir,
            run_id=run_id,
            project=project,
            name=name,
            host=host,
            started_at=T0 + t,
        )
        writer.flush()
        writer.close()
    store.sync()
    return store


def test_by_id_prefix_and_name(runs: Store) -> None:
    assert runs.get_run("cccc4444").run_id == "cccc4444"
    assert runs.get_run("cccc").run_id == "cccc4444"
    assert runs.get_run("bbbb33").run_id == "bbbb3333"
    assert runs.get_run("resnet").run_id == "aaaa2222"
    assert runs.get_run("nlp/resnet").run_id == "bbbb3333"
    assert runs.get_run(" bert ").name == "bert"


def test_ambiguous_prefix_lists_candidates(runs: Store) -> None:
    with pytest.raises(NotFoundError, match="ambiguous") as info:
        runs.get_run("aaaa")
    assert "aaaa1111" in str(info.value) and "aaaa2222" in str(info.value)


@pytest.mark.parametrize("ref", ["zzzz", "abc", "vision/bert", "", "aaa%", "aa_a"])
def test_missing(runs: Store, ref: str) -> None:
    with pytest.raises(NotFoundError, match=re.escape(ref.strip()) if ref else "empty"):
        runs.get_run(ref)


def test_short_prefix_is_explained(runs: Store) -> None:
    with pytest.raises(NotFoundError, match="at least 4 characters"):
        runs.get_run("ccc")


def test_queries_of_unknown_run(runs: Store) -> None:
    with pytest.raises(NotFoundError, match="no run with id 'nope'"):
        runs.samples("nope")


def test_list_runs_filters_and_pages(runs: Store) -> None:
    assert [r.run_id for r in runs.list_runs()] == ["cccc4444", "aaaa2222", "aaaa1111", "bbbb3333"]
    assert [r.run_id for r in runs.list_runs(project="vision")] == ["aaaa2222", "aaaa1111"]
    assert [r.run_id for r in runs.list_runs(limit=2, offset=1)] == ["aaaa2222", "aaaa1111"]
    assert [r.run_id for r in runs.list_runs(status="running")][:1] == ["cccc4444"]
    assert runs.list_runs(status="finished") == []
    with pytest.raises(ValueError, match="accepted: running, finished, failed, interrupted"):
        runs.list_runs(status="done")
    assert [(p.name, p.run_count) for p in runs.projects()] == [("nlp", 2), ("vision", 2)]


def test_list_and_count_by_host_and_start_time(runs: Store) -> None:
    assert runs.hosts() == ["gpu-a", "gpu-b"]
    assert [r.run_id for r in runs.list_runs(host="gpu-a")] == ["cccc4444", "aaaa1111", "bbbb3333"]
    window = {"since": T0 + 1.0, "until": T0 + 3.0}  # since inclusive, until exclusive
    assert [r.run_id for r in runs.list_runs(**window)] == ["aaaa2222", "aaaa1111"]
    assert runs.count_runs(**window) == 2
    assert runs.count_runs(host="gpu-a", project="nlp") == 2
    assert runs.count_runs() == 4 and runs.count_runs(host="nowhere") == 0
    assert [r.run_id for r in runs.list_runs(projects=["nlp"])] == ["cccc4444", "bbbb3333"]
    assert runs.count_runs(projects=[]) == 0 and runs.count_runs(projects=["nlp", "x"]) == 2
    with pytest.raises(ValueError, match="status='done'"):
        runs.count_runs(status="done")
