"""Run groups in the store: group columns from journals, ``get_group``, and the upgrades
of schema-1 and schema-2 stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store.journals import COMPONENTS, append_samples, energy_at, start_run
from tests.store.legacy import make_legacy, open_legacy
from wattprint.errors import NotFoundError
from wattprint.store.journal import JournalWriter, journal_path
from wattprint.store.migrate import SchemaState
from wattprint.store.models import SCHEMA_VERSION
from wattprint.store.repository import Store, store_schema


def _write(journal_dir: Path, rank: int, node: str, names: list[str]) -> str:

    run_id = f"run-{node}-{rank}"
    writer = JournalWriter(journal_path(journal_dir, run_id))
    writer.append(
        "run",
        run_id=run_id,
        project="p",
        name=f"r{rank}",
        host=node,
        pid=None,
        started_at=1_700_000_000.0,
        components=[c for c in COMPONENTS if c["name"] in names],
        group="job-9",
        rank=rank,
        local_rank=rank % 2,
        world_size=4,
        local_world_size=2,
        node=node,
        launcher="torchrun",
    )
    append_samples(writer, 0, 3)
    writer.append(
        "end",
        ended_at=1_700_000_010.0,
        status="finished",
        energy_j={c: energy_at(c, 2) for c in names},
        error=None,
        exit_code=0,
    )
    writer.flush()
    writer.close()
    return run_id


def test_group_per_rank_node_and_total(store: Store, journal_dir: Path) -> None:
    _write(journal_dir, 0, "a", ["cpu:0", "gpu:0", "ram"])
    _write(journal_dir, 1, "a", ["gpu:0"])
    _write(journal_dir, 2, "b", ["cpu:0", "ram", "gpu:0"])
    _write(journal_dir, 3, "b", ["gpu:0", "cpu:0"])  # an old tracker: no election
    store.sync()
    group = store.get_group("job-9")
    assert [r.rank for r in group.ranks] == [0, 1, 2, 3]
    a, b = group.nodes
    assert (a.node, a.ranks, a.host_rank) == ("a", (0, 1), 0)
    assert a.components_j == pytest.approx({"cpu:0": 100.0, "gpu:0": 1200.0, "ram": 20.0})
    assert a.energy.by_kind_j == pytest.approx({"cpu": 100.0, "gpu": 1200.0, "ram": 20.0})
    assert a.energy.measured_j == pytest.approx(1300.0)
    assert a.energy.estimated_j == pytest.approx(20.0)
    assert a.energy.energy_low_j == pytest.approx(1310.0)  # ram low ratio 0.5
    assert group.total.energy_j == pytest.approx(a.energy.energy_j + b.energy.energy_j)
    assert group.total.energy_j == pytest.approx(sum(r.energy_j for r in group.ranks))
    assert any("node b: ranks 2, 3 all report CPU/RAM" in w for w in group.warnings)
    assert group.status == "finished" and group.duration_s == pytest.approx(10.0)
    assert store.get_group("run-a-1").group == "job-9"  # a run of the group
    assert store.get_group("job-").group == "job-9"  # a prefix
    assert store.get_run("run-b-3").node == "b"


def test_group_of_a_plain_run_is_a_clear_error(store: Store, journal_dir: Path) -> None:
    writer, run_id = start_run(journal_dir, name="plain")
    writer.flush()
    store.sync()
    with pytest.raises(NotFoundError, match="is not part of a distributed run group"):
        store.get_group(run_id)
    with pytest.raises(NotFoundError, match="no run group matches 'nothing-here'"):
        store.get_group("nothing-here")
    assert store.list_runs()[0].group is None


def test_schema_1_store_is_upgraded(store_url: str, journal_dir: Path) -> None:
    make_legacy(store_url, 1)
    assert store_schema(store_url) == SchemaState(revision=None, version=1)
    _write(journal_dir, 0, "a", ["cpu:0"])
    with open_legacy(store_url, journal_dir) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.sync()
        assert store.get_group("job-9").ranks[0].node == "a"
        assert store.list_runs()[0].labels == {}


def test_schema_2_store_gains_labels(store_url: str, journal_dir: Path) -> None:
    make_legacy(store_url, 2)
    _write(journal_dir, 0, "a", ["cpu:0"])
    with open_legacy(store_url, journal_dir) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.sync()
        assert store.list_runs(labels={})[0].labels == {}
