"""``torchrun --nproc-per-node 2 --standalone`` trains a tiny DDP model (gloo, CPU) with a
tracker in each rank: one group, two ranks, the node's CPU and RAM counted once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.distributed.helpers import PYTHON, TRAIN, burning, child_env, open_synced, packages_only
from wattprint.store.journal import journal_path, read_journal

pytest.importorskip("torch")


def test_two_ranks_one_group_host_counted_once(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    fake = packages_only(tmp_path / "powercap")
    data = tmp_path / "data"
    cmd = [PYTHON, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone"]
    with burning(fake):
        agent = subprocess.Popen(
            [*cmd, str(script), "torchrun"],
            env=child_env(data, fake.root),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            stdout, stderr = agent.communicate(timeout=90)
        finally:
            agent.kill()
    assert agent.returncode == 0, stderr[-3000:]
    outputs = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert sorted(o["rank"] for o in outputs) == [0, 1]
    assert all(o["ppid"] == agent.pid for o in outputs)  # the agent is the launcher

    store = open_synced(data)
    run0 = store.get_run(next(o["run_id"] for o in outputs if o["rank"] == 0))
    assert run0.group is not None
    group = store.get_group(run0.group)
    assert group.launcher == "torchrun" and group.world_size == 2 and group.status == "finished"
    assert [r.rank for r in group.ranks] == [0, 1]
    assert group.missing_ranks == () and group.warnings == ()
    rank0, rank1 = group.ranks
    # Only the elected rank measured the node's CPU (RAPL) and RAM (model).
    assert {c.kind for c in rank0.components} == {"cpu", "ram"}
    assert rank1.components == () and rank1.energy_j == 0.0
    cpu = sum(c.energy_j for c in rank0.components if c.kind == "cpu")
    assert cpu > 5.0  # 75 W burnt for over a second
    # Group totals are the sum of the parts.
    assert group.total.energy_j == pytest.approx(rank0.energy_j + rank1.energy_j)
    assert group.total.by_kind_j["cpu"] == pytest.approx(cpu)
    assert group.total.measured_j == pytest.approx(cpu)
    assert group.total.estimated_j == pytest.approx(group.total.by_kind_j["ram"])
    assert group.total.quality == "estimated"
    (node,) = group.nodes
    assert node.ranks == (0, 1) and node.host_rank == 0
    assert node.energy.energy_j == pytest.approx(group.total.energy_j)

    # The RAM model of rank 0 covers every local rank: its tree is rooted at the agent.
    records = [r for _, r in read_journal(journal_path(data / "journal", run0.run_id))]
    assert records[0]["tree_root_pid"] == agent.pid
    assert "launcher" in records[0]["tree_root"]
    rank1_run = next(r for _, r in read_journal(journal_path(data / "journal", rank1.run_id)))
    assert rank1_run["measures_host"] is False and rank1_run["local_rank"] == 1
    # A rank's run still shows on its own.
    assert store.get_run(rank1.run_id).rank == 1
    listed = store.list_runs(group=run0.group)
    assert sorted((r.rank, r.world_size, r.node) for r in listed) == [
        (0, 2, run0.node),
        (1, 2, run0.node),
    ]
