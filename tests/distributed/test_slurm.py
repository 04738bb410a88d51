"""``srun -n 2`` on a real one-node SLURM cluster: two tasks, one group (the job step),
the node's CPU and RAM measured once, by local rank 0."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from tests.distributed.helpers import PYTHON, TRAIN, burning, child_env, open_synced, packages_only
from wattprint.store.journal import journal_path, read_journal

pytest.importorskip("torch")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_srun_two_tasks_one_group(tmp_path: Path, slurm: dict[str, str]) -> None:
    tmp_path.chmod(0o755)
    script = tmp_path / "train.py"
    script.write_text(TRAIN)
    fake = packages_only(tmp_path / "powercap")
    data = tmp_path / "data"
    env = child_env(data, fake.root, **slurm)
    cmd = ["srun", "-n", "2", "--time=2", PYTHON, str(script), "slurm", str(_free_port())]
    with burning(fake):
        done = subprocess.run(
            cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr[-3000:]
    outputs = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert sorted(o["rank"] for o in outputs) == [0, 1]

    store = open_synced(data)
    first = store.get_run(outputs[0]["run_id"])
    assert first.group is not None and "." in first.group  # job id . step id
    group = store.get_group(first.group)
    assert group.launcher == "slurm" and group.world_size == 2
    assert [(r.rank, r.local_rank, r.node) for r in group.ranks] == [
        (0, 0, "localhost"),
        (1, 1, "localhost"),
    ]
    rank0, rank1 = group.ranks
    assert {c.kind for c in rank0.components} == {"cpu", "ram"}
    assert rank1.components == ()
    assert group.total.energy_j == pytest.approx(rank0.energy_j) and group.total.energy_j > 0
    (node,) = group.nodes
    assert node.host_rank == 0 and group.warnings == ()
    # The tree of rank 0 is rooted at slurmstepd, the parent of both tasks.
    record = next(r for _, r in read_journal(journal_path(data / "journal", rank0.run_id)))
    assert record["tree_root_pid"] == outputs[0]["ppid"] == outputs[1]["ppid"]
    assert "slurmstepd" in record["tree_root"]
