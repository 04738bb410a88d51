"""What the multi-process tests share: the tracked training script they launch, a thread
that makes the fake RAPL counters advance while it runs, and the store they read."""

from __future__ import annotations

import os
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fakes.sysfs import FakePowercap
from wattprint.config import Settings
from wattprint.store.repository import Store

ROOT = Path(__file__).resolve().parents[2]

TRAIN = textwrap.dedent(
    """
    import json, os, sys, time
    import torch
    import torch.distributed as dist
    import wattprint

    launcher = sys.argv[1]
    if launcher == "torchrun":
        dist.init_process_group("gloo")
    else:  # srun: rendezvous over TCP, ranks from SLURM's variables
        dist.init_process_group(
            "gloo", init_method="tcp://127.0.0.1:" + sys.argv[2],
            rank=int(os.environ["SLURM_PROCID"]), world_size=int(os.environ["SLURM_NTASKS"]),
        )
    torch.manual_seed(0)
    with wattprint.track(project="dist", sample_interval_s=0.05, flush_interval_s=0.1) as t:
        model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(16, 1))
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        x, y = torch.randn(64, 16), torch.randn(64, 1)
        for epoch in range(2):
            with t.window("epoch"):
                for _ in range(10):
                    opt.zero_grad()
                    loss = torch.nn.functional.mse_loss(model(x), y)
                    loss.backward()
                    opt.step()
                time.sleep(0.15)
            t.log(step=epoch, loss=loss.item())
        dist.barrier()
    dist.destroy_process_group()
    print(json.dumps({"run_id": t.run_id, "rank": t.rank.rank, "pid": os.getpid(),
                      "ppid": os.getppid()}), flush=True)
    """
)


def child_env(data: Path, rapl_root: Path, **extra: str) -> dict[str, str]:
    """The environment of a tracked child: its data folder, the fake RAPL tree, RAPL and
    the RAM model as sources (the RAM model's process tree then shows the rooting)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "WATTPRINT_"))}
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "TORCHELASTIC_RUN_ID"):
        env.pop(name, None)
    env.update(
        WATTPRINT_DIR=str(data),
        WATTPRINT_RAPL_ROOT=str(rapl_root),
        WATTPRINT_SOURCES="rapl,ram-model",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        OMP_NUM_THREADS="1",
        HF_HUB_OFFLINE="1",
    )
    env.update(extra)
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def packages_only(root: Path) -> FakePowercap:
    """Two packages, no DRAM zone: RAPL measures the CPU, the RAM model the memory."""
    fake = FakePowercap(root)
    fake.add_zone("intel-rapl:0", "package-0", 3_000_000)
    fake.add_zone("intel-rapl:1", "package-1", 9_000_000)
    return fake


@contextmanager
def burning(fake: FakePowercap, watts: float = 50.0, tick_s: float = 0.02) -> Iterator[None]:
    """Advance both packages by ``watts`` while the block runs (the CPUs at work)."""
    stop = threading.Event()
    shares = {"intel-rapl:0": 1.0, "intel-rapl:1": 0.5}
    counters = {z: int((fake.zone_path(z) / "energy_uj").read_text()) for z in shares}

    def run() -> None:
        # Written in place with one pwrite of a fixed width, like the kernel's file: the
        # children read it concurrently, and a truncate-then-write would show them b"".
        fds = {z: os.open(fake.zone_path(z) / "energy_uj", os.O_WRONLY) for z in shares}
        try:
            while not stop.wait(tick_s):
                for zone, share in shares.items():
                    counters[zone] += round(watts * share * tick_s * 1e6)
                    os.pwrite(fds[zone], f"{counters[zone]:020d}\n".encode(), 0)
        finally:
            for fd in fds.values():
                os.close(fd)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def open_synced(data: Path) -> Store:
    store = Store.from_settings(Settings(dir=data))
    store.sync()
    return store


PYTHON = sys.executable
