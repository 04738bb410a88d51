"""Two "nodes" write their own data folders; ``wattprint merge`` gathers them into a third
store, idempotently, and ``wattprint group`` adds them up."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.distributed.helpers import PYTHON, child_env, open_synced, packages_only

NODE = textwrap.dedent(
    """
    import json, os, sys, time
    import wattprint

    zone, joules = sys.argv[1], float(sys.argv[2])
    path = os.path.join(os.environ["WATTPRINT_RAPL_ROOT"], zone, "energy_uj")
    with wattprint.track(project="dist", sample_interval_s=0.05) as t:
        with t.window("epoch"):
            start = int(open(path).read())
            fd = os.open(path, os.O_WRONLY)  # in place: the sampler thread reads it meanwhile
            os.pwrite(fd, f"{start + round(joules * 1e6):020d}\\n".encode(), 0)
            os.close(fd)
            time.sleep(0.2)
    print(json.dumps({"run_id": t.run_id, "group": t.rank.group, "node": t.rank.node}))
    """
)
WATTPRINT = [sys.executable, "-m", "wattprint"]


def _node(tmp_path: Path, name: str, rank: int, joules: float) -> tuple[Path, dict[str, str]]:
    data = tmp_path / name
    fake = packages_only(tmp_path / f"powercap-{name}")
    env = child_env(
        data,
        fake.root,
        WATTPRINT_SOURCES="rapl",
        SLURM_JOB_ID="4242",
        SLURM_STEP_ID="0",
        SLURM_PROCID=str(rank),
        SLURM_LOCALID="0",
        SLURM_NODEID=str(rank),
        SLURM_NTASKS="2",
        SLURM_TASKS_PER_NODE="1(x2)",
        SLURMD_NODENAME=name,
    )
    return data, env


def _wp(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([*WATTPRINT, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_merge_two_nodes_then_again(tmp_path: Path) -> None:
    nodes = [_node(tmp_path, "node-a", 0, 10.0), _node(tmp_path, "node-b", 1, 20.0)]
    procs = [
        subprocess.Popen(
            [PYTHON, "-c", NODE, "intel-rapl:0", "10" if i == 0 else "20"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, (_, env) in enumerate(nodes)
    ]
    outputs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        outputs.append(json.loads(stdout))
    assert [o["group"] for o in outputs] == ["4242.0", "4242.0"]

    open_synced(nodes[1][0]).close()  # node b also has a store file
    central = tmp_path / "central"
    env = {**nodes[0][1], "WATTPRINT_DIR": str(central)}
    sources = [str(nodes[0][0]), str(nodes[1][0] / "wattprint.db")]  # a folder, a store file
    first = json.loads(_wp("merge", *sources, "--json", env=env))
    assert [m["records"] > 0 for m in first["merged"]] == [True, True]

    doc = json.loads(_wp("group", "4242.0", "--json", env=env))["group"]
    assert [(r["rank"], r["node"]) for r in doc["ranks"]] == [(0, "node-a"), (1, "node-b")]
    assert [n["node"] for n in doc["nodes"]] == ["node-a", "node-b"]
    per_node = [n["energy"]["energy_j"] for n in doc["nodes"]]
    assert per_node == pytest.approx([10.0, 20.0])
    assert doc["total"]["energy_j"] == pytest.approx(sum(per_node))
    assert doc["total"]["by_kind_j"] == pytest.approx({"cpu": 30.0})
    assert doc["total"]["quality"] == "measured"
    assert doc["missing_ranks"] == [] and doc["warnings"] == []

    again = json.loads(_wp("merge", *sources, "--json", env=env))
    assert [m["records"] for m in again["merged"]] == [0, 0]
    assert json.loads(_wp("group", "4242", "--json", env=env))["group"] == doc  # a prefix
    store = open_synced(central)
    assert len(store.list_runs(group="4242.0")) == 2

    table = _wp("group", outputs[1]["run_id"], env=env)  # a run of the group names it
    assert "node-a" in table and "node-b" in table and "4242.0" in table


def test_a_node_not_merged_is_reported(tmp_path: Path) -> None:
    data, env = _node(tmp_path, "node-a", 0, 5.0)
    done = subprocess.run(
        [PYTHON, "-c", NODE, "intel-rapl:1", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    group = open_synced(data).get_group("4242.0")
    assert group.missing_ranks == (1,)
    assert "1 of 2 ranks have no run in this store" in group.warnings[0]
    assert group.total.energy_j == pytest.approx(5.0)


def test_merge_and_group_errors(tmp_path: Path) -> None:
    env = child_env(tmp_path / "d", tmp_path)
    missing = subprocess.run(
        [*WATTPRINT, "merge", str(tmp_path / "nope")], env=env, capture_output=True, text=True
    )
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    wrong = subprocess.run(
        [*WATTPRINT, "merge", str(empty)], env=env, capture_output=True, text=True
    )
    assert wrong.returncode == 2 and "expected a wattprint data folder" in wrong.stderr
    unknown = subprocess.run(
        [*WATTPRINT, "group", "zzzz-no-group"], env=env, capture_output=True, text=True
    )
    assert unknown.returncode == 2 and "no run group matches 'zzzz-no-group'" in unknown.stderr
