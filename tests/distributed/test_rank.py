"""RankInfo from the environment, the rank's GPU, and the election of the rank that
measures a node's CPU and RAM (the real meters over a fake sysfs tree and the NVML shim)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tests.fakes.sysfs import FakePowercap
from tests.meters.nvml_shim import FakeGpu, NvmlShim
from wattprint.config import Settings
from wattprint.errors import WattprintError
from wattprint.meters.discovery import NOT_ELECTED, open_meters
from wattprint.meters.process_tree import ProcessTree
from wattprint.tracking import distributed
from wattprint.tracking.distributed import RankInfo, detect_rank, host_tree_root, rank_gpus
from wattprint.tracking.tracker import Tracker

TORCHRUN = {
    "RANK": "3",
    "LOCAL_RANK": "1",
    "WORLD_SIZE": "4",
    "LOCAL_WORLD_SIZE": "2",
    "GROUP_RANK": "1",
    "TORCHELASTIC_RUN_ID": "job-7f3a",
    "MASTER_ADDR": "10.0.0.1",
    "MASTER_PORT": "29500",
}
SLURM = {
    "SLURM_JOB_ID": "918",
    "SLURM_STEP_ID": "2",
    "SLURM_PROCID": "5",
    "SLURM_LOCALID": "0",
    "SLURM_NODEID": "2",
    "SLURM_NTASKS": "8",
    "SLURM_STEP_TASKS_PER_NODE": "2(x2),4",
    "SLURMD_NODENAME": "gpu-node-03",
}


@pytest.fixture(autouse=True)
def _fresh_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distributed, "_warned", False)


def test_torchrun_environment() -> None:
    info = detect_rank(TORCHRUN, hostname="n1")
    assert info == RankInfo(
        rank=3,
        local_rank=1,
        world_size=4,
        local_world_size=2,
        node="n1",
        group="job-7f3a",
        launcher="torchrun",
        measures_host=False,
    )
    assert info.distributed
    assert detect_rank({**TORCHRUN, "LOCAL_RANK": "0"}, hostname="n1").measures_host


def test_torchrun_without_run_id_groups_by_master_and_launcher_start() -> None:
    env = {**TORCHRUN, "TORCHELASTIC_RUN_ID": "none"}
    info = detect_rank(env, hostname="n1", parent_start_time=1_700_000_123.4)
    assert info.group == "10.0.0.1:29500@1700000123"
    under_slurm = detect_rank({**env, "SLURM_JOB_ID": "55", "SLURM_STEP_ID": "0"}, hostname="n")
    assert under_slurm.group == "55.0" and under_slurm.launcher == "torchrun"
    named = detect_rank({**env, "WATTPRINT_GROUP": "mine"}, hostname="n")
    assert named.group == "mine"


def test_slurm_environment() -> None:
    info = detect_rank(SLURM, hostname="ignored")
    assert info == RankInfo(
        rank=5,
        local_rank=0,
        world_size=8,
        local_world_size=4,  # the third node of "2(x2),4"
        node="gpu-node-03",
        group="918.2",
        launcher="slurm",
        measures_host=True,
    )


def test_slurm_batch_script_is_one_process() -> None:
    env = {k: v for k, v in SLURM.items() if k != "SLURM_STEP_ID"}
    info = detect_rank({**env, "SLURM_PROCID": "0"}, hostname="x")
    assert (info.rank, info.world_size, info.group, info.launcher) == (0, 1, "918", "slurm")


def test_plain_run() -> None:
    info = detect_rank({"HOME": "/root"}, hostname="laptop")
    assert info == RankInfo(node="laptop")
    assert not info.distributed and info.measures_host and info.group is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"RANK": "three"}, "RANK='three' is not an integer"),
        ({"RANK": "4"}, "rank 4 is not below the world size 4"),
        ({"LOCAL_RANK": "-1"}, "LOCAL_RANK='-1' is negative"),
        ({"LOCAL_WORLD_SIZE": "8"}, "local size 8 exceeds the world size 4"),
        ({"WORLD_SIZE": ""}, "WORLD_SIZE is not set"),
    ],
)
def test_malformed_environment_warns_once_and_runs_single(
    caplog: pytest.LogCaptureFixture, change: dict[str, str], message: str
) -> None:
    env = {**TORCHRUN, **change}
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        first = detect_rank(env, hostname="h")
        second = detect_rank(env, hostname="h")
    assert first == second == RankInfo(node="h")
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert message in warnings[0] and "single-process" in warnings[0]


def test_malformed_slurm_environment() -> None:
    info = detect_rank({**SLURM, "SLURM_LOCALID": "x"}, hostname="h")
    assert info == RankInfo(node="gpu-node-03")


RANK1 = RankInfo(rank=1, local_rank=1, world_size=2, local_world_size=2, launcher="torchrun")


@pytest.mark.parametrize(
    ("info", "device", "visible", "expected"),
    [
        (RANK1, None, None, "1"),  # LOCAL_RANK among all GPUs
        (RANK1, None, "4,5,6", "5"),  # LOCAL_RANK among the visible ones
        (RANK1, None, "GPU-abc", "GPU-abc"),  # narrowed to this rank by the scheduler
        (RANK1, 2, "4,5,6", "6"),  # the caller's device wins
        (RANK1, "cuda:0", "4,5", "4"),
        (RANK1, "all", "4,5", "4,5"),
        (RANK1, None, "7", "7"),
        (RankInfo(), None, "2,3", "2,3"),  # a plain run measures what it sees
        (RankInfo(), None, None, None),
        (
            RankInfo(rank=3, local_rank=3, world_size=4, local_world_size=4, launcher="slurm"),
            None,
            "0,1",
            "",
        ),  # more ranks than GPUs: none for this one
    ],
)
def test_rank_gpus(
    info: RankInfo, device: int | str | None, visible: str | None, expected: str | None
) -> None:
    env = {} if visible is None else {"CUDA_VISIBLE_DEVICES": visible}
    assert rank_gpus(info, device, env) == expected


def test_bad_device_is_one_clear_error(data_dir: Path) -> None:
    with pytest.raises(WattprintError, match=r"device='gpu1': expected a GPU index .* or 'all'"):
        Tracker(device="gpu1")


def _gpus() -> list[FakeGpu]:
    return [FakeGpu(f"NVIDIA H200 #{i}", f"GPU-{i}aaa-{i}", energy_mj=1000 * i) for i in range(4)]


def test_elected_rank_measures_host_and_its_gpu(powercap: FakePowercap) -> None:
    settings = Settings(dir=powercap.root.parent / "d")
    info = RankInfo(rank=2, local_rank=0, world_size=4, local_world_size=2, launcher="torchrun")
    meters, statuses = open_meters(
        settings,
        ProcessTree(),
        rapl_root=powercap.root,
        nvml=NvmlShim(_gpus()),
        host=info.measures_host,
        gpus=rank_gpus(info, None, {"CUDA_VISIBLE_DEVICES": "2,3"}),
    )
    names = sorted(c.name for m in meters for c in m.components)
    assert names == ["cpu:0", "cpu:1", "dram:0", "gpu:2"]
    assert all(s.reason != NOT_ELECTED for s in statuses)


def test_other_ranks_measure_only_their_gpu(powercap: FakePowercap) -> None:
    settings = Settings(dir=powercap.root.parent / "d")
    info = RankInfo(
        rank=3,
        local_rank=1,
        world_size=4,
        local_world_size=2,
        launcher="torchrun",
        measures_host=False,
    )
    meters, statuses = open_meters(
        settings,
        ProcessTree(),
        rapl_root=powercap.root,
        nvml=NvmlShim(_gpus()),
        host=info.measures_host,
        gpus=rank_gpus(info, None, {"CUDA_VISIBLE_DEVICES": "2,3"}),
    )
    assert [c.name for m in meters for c in m.components] == ["gpu:3"]
    skipped = {s.source: s for s in statuses if not s.available}
    assert set(skipped) == {"rapl", "cpu-model", "ram-model"}
    assert all(s.reason == NOT_ELECTED for s in skipped.values())


def test_rapl_root_from_the_environment(
    powercap: FakePowercap, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATTPRINT_RAPL_ROOT", str(powercap.root))
    settings = Settings(dir=powercap.root.parent / "d", sources=("rapl",))
    meters, statuses = open_meters(settings, ProcessTree())
    assert statuses[0].available and str(powercap.root) in statuses[0].reason
    for m in meters:
        m.close()


def test_tree_root_of_a_plain_run_is_the_process() -> None:
    root = host_tree_root(RankInfo())
    assert root.pid == os.getpid()
    lone = host_tree_root(RankInfo(rank=0, world_size=2, local_world_size=1, launcher="slurm"))
    assert lone.pid == os.getpid() and "no other rank" in lone.reason


def test_tree_root_refuses_a_parent_that_is_not_the_launcher() -> None:
    # pytest's parent is a shell or CI runner, not torchrun, and holds no sibling ranks.
    info = RankInfo(rank=0, world_size=8, local_world_size=8, launcher="torchrun")
    root = host_tree_root(info)
    assert root.pid == os.getpid()
    assert "not a known launcher" in root.reason
