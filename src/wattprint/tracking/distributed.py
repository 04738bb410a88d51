"""Ranks of a distributed run (``torchrun``, SLURM ``srun``): who measures what.

Every rank runs its own tracker and writes its own journal. What each one measures:

* **GPUs**: only the rank's own device, ``LOCAL_RANK`` among the visible GPUs
  (``CUDA_VISIBLE_DEVICES`` as CUDA reads it; when it names a single GPU the scheduler
  already narrowed it to the rank), unless the caller names a device.
* **CPU and RAM** of a node: only the elected rank of the node (local rank 0), for every
  rank of the job on that node. RAPL is whole-package anyway; the CPU and RAM models
  (``process`` attribution) root their process tree at the launcher, the common parent
  of the local ranks (torchrun's agent, SLURM's ``slurmstepd``), so all local ranks are
  covered. The other ranks measure no CPU or RAM: a node's host energy is counted once.

All ranks of one job share a **group** id, stored with each run, that
``Store.get_group`` and ``wattprint group`` add up per rank, per node and in total.

Detection never raises: a malformed or contradictory environment gets one warning and
the run is measured as a single process.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import psutil

log = logging.getLogger("wattprint")

Launcher = Literal["torchrun", "slurm", "none"]
GROUP_ENV = "WATTPRINT_GROUP"
"""Set to the same value in every rank to name the group yourself (it wins over the
launcher's ids; useful for static multi-node torchrun without ``--rdzv-id``)."""

_TORCHRUN_MARKERS = ("torch.distributed.run", "torchrun", "torch.distributed.launch")
_warned = False


@dataclass(frozen=True)
class RankInfo:
    """Where this process stands in a distributed run.

    ``node`` is the SLURM node name (``SLURMD_NODENAME``) or the host name; ``group`` is
    shared by all ranks of one job (``None`` for a plain single-process run);
    ``measures_host`` is true for the one rank per node that measures the node's CPU
    and RAM (local rank 0).
    """

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    local_world_size: int = 1
    node: str = ""
    group: str | None = None
    launcher: Launcher = "none"
    measures_host: bool = True

    @property
    def distributed(self) -> bool:
        """Whether a launcher started this process as one rank of a job."""
        return self.launcher != "none"

    def record_fields(self) -> dict[str, object]:
        """The fields written to the journal's ``run`` record."""
        return {
            "group": self.group,
            "rank": self.rank,
            "local_rank": self.local_rank,
            "world_size": self.world_size,
            "local_world_size": self.local_world_size,
            "node": self.node,
            "launcher": self.launcher,
            "measures_host": self.measures_host,
        }


def single_process(node: str | None = None) -> RankInfo:
    """A plain run: rank 0 of 1, measuring everything."""
    return RankInfo(node=node if node is not None else socket.gethostname())


class _BadEnv(ValueError):
    pass


def detect_rank(
    environ: Mapping[str, str] | None = None,
    *,
    hostname: str | None = None,
    parent_start_time: float | None = None,
) -> RankInfo:
    """This process's ``RankInfo``, read from ``environ`` (default ``os.environ``).

    torchrun's variables (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``)
    win over SLURM's (``SLURM_PROCID``, ``SLURM_LOCALID``, ``SLURM_NTASKS``, …) since
    torchrun is often started by ``srun``. The group id is ``WATTPRINT_GROUP`` if set,
    else ``TORCHELASTIC_RUN_ID`` unless it is ``none``, else ``SLURM_JOB_ID[.SLURM_STEP_ID]``,
    else ``MASTER_ADDR:MASTER_PORT@<launcher start time>``. ``parent_start_time`` (the
    launcher's start, default: read with psutil) is injectable for tests.
    """
    env = os.environ if environ is None else environ
    host = env.get("SLURMD_NODENAME") or hostname or socket.gethostname()
    try:
        if "RANK" in env or "LOCAL_RANK" in env or "TORCHELASTIC_RUN_ID" in env:
            info = _torchrun(env, host, parent_start_time)
        elif "SLURM_PROCID" in env and "SLURM_JOB_ID" in env:
            info = _slurm(env, host)
        else:
            return single_process(host)
    except _BadEnv as exc:
        _warn_once(
            f"wattprint: ignoring the distributed environment ({exc}); this process is "
            "measured as a single-process run, with its CPU and RAM"
        )
        return single_process(host)
    return info


def _warn_once(message: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning("%s", message)


def _int(env: Mapping[str, str], name: str, default: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        if default is None:
            raise _BadEnv(f"{name} is not set")
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise _BadEnv(f"{name}={raw!r} is not an integer; expected an integer >= 0") from None
    if value < 0:
        raise _BadEnv(f"{name}={raw!r} is negative; expected an integer >= 0")
    return value


def _check(rank: int, local_rank: int, world: int, local_world: int, names: str) -> None:
    if world < 1 or local_world < 1:
        raise _BadEnv(f"{names}: sizes must be >= 1 (world {world}, local {local_world})")
    if rank >= world:
        raise _BadEnv(f"{names}: rank {rank} is not below the world size {world}")
    if local_rank >= local_world:
        raise _BadEnv(f"{names}: local rank {local_rank} is not below the local size {local_world}")
    if local_world > world:
        raise _BadEnv(f"{names}: local size {local_world} exceeds the world size {world}")


def _torchrun(env: Mapping[str, str], host: str, parent_start: float | None) -> RankInfo:
    rank = _int(env, "RANK")
    world = _int(env, "WORLD_SIZE")
    local_rank = _int(env, "LOCAL_RANK", rank)
    local_world = _int(env, "LOCAL_WORLD_SIZE", world)
    _check(rank, local_rank, world, local_world, "RANK/LOCAL_RANK/WORLD_SIZE/LOCAL_WORLD_SIZE")
    group = env.get(GROUP_ENV) or None
    run_id = env.get("TORCHELASTIC_RUN_ID", "").strip()
    if group is None and run_id and run_id.lower() != "none":
        group = run_id
    if group is None and env.get("SLURM_JOB_ID"):
        group = _slurm_group(env)
    if group is None and env.get("MASTER_ADDR") and env.get("MASTER_PORT"):
        start = parent_start if parent_start is not None else _parent_start_time()
        stamp = f"@{start:.0f}" if start is not None else ""
        group = f"{env['MASTER_ADDR']}:{env['MASTER_PORT']}{stamp}"
    return RankInfo(
        rank=rank,
        local_rank=local_rank,
        world_size=world,
        local_world_size=local_world,
        node=host,
        group=group,
        launcher="torchrun",
        measures_host=local_rank == 0,
    )


def _slurm(env: Mapping[str, str], host: str) -> RankInfo:
    rank = _int(env, "SLURM_PROCID")
    local_rank = _int(env, "SLURM_LOCALID", 0)
    if "SLURM_STEP_ID" not in env:
        # The batch script itself: one process, whatever --ntasks the job asked for.
        world = local_world = 1
        rank = local_rank = 0
    else:
        world = _int(env, "SLURM_NTASKS", _int(env, "SLURM_NPROCS", 1))
        node_id = _int(env, "SLURM_NODEID", 0)
        spec = env.get("SLURM_STEP_TASKS_PER_NODE") or env.get("SLURM_TASKS_PER_NODE") or ""
        local_world = _tasks_on_node(spec, node_id) or max(local_rank + 1, 1)
    _check(rank, local_rank, world, local_world, "SLURM_PROCID/SLURM_LOCALID/SLURM_NTASKS")
    group = env.get(GROUP_ENV) or _slurm_group(env)
    return RankInfo(
        rank=rank,
        local_rank=local_rank,
        world_size=world,
        local_world_size=local_world,
        node=host,
        group=group,
        launcher="slurm",
        measures_host=local_rank == 0,
    )


def _slurm_group(env: Mapping[str, str]) -> str:
    job = env["SLURM_JOB_ID"].strip()
    step = env.get("SLURM_STEP_ID", "").strip()
    return f"{job}.{step}" if step else job


_TASKS = re.compile(r"^(\d+)(?:\(x(\d+)\))?$")


def _tasks_on_node(spec: str, node_id: int) -> int | None:
    """Tasks on node ``node_id`` from SLURM's compressed list, e.g. ``2(x3),1``."""
    counts: list[int] = []
    for part in spec.split(","):
        match = _TASKS.match(part.strip())
        if match is None:
            return None
        counts.extend([int(match.group(1))] * int(match.group(2) or 1))
    return counts[node_id] if node_id < len(counts) else None


def _parent_start_time() -> float | None:
    try:
        import psutil

        return float(psutil.Process(os.getppid()).create_time())
    except Exception:
        return None


# --------------------------------------------------------------------------- GPUs
def rank_gpus(
    info: RankInfo, device: int | str | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The ``CUDA_VISIBLE_DEVICES``-style selection of the GPUs this rank measures.

    ``device`` (an index among the visible GPUs, as in ``cuda:N``, or ``"all"``) wins;
    otherwise a distributed rank takes ``LOCAL_RANK`` among the visible GPUs, or the one
    visible GPU when the scheduler narrowed ``CUDA_VISIBLE_DEVICES`` to it. ``None``
    means every visible GPU (a plain run).
    """
    env = os.environ if environ is None else environ
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if isinstance(device, str):
        text = device.strip().lower()
        if text == "all":
            return visible
        if text.startswith("cuda:"):
            text = text[5:]
        if not text.isdigit():
            raise ValueError(f"device={device!r}: expected a GPU index (0, 'cuda:1') or 'all'")
        device = int(text)
    if device is None:
        if not info.distributed:
            return visible
        device = info.local_rank
    if device < 0:
        raise ValueError(f"device={device!r}: expected a GPU index >= 0 or 'all'")
    if visible is None:
        return str(device)
    entries = [e.strip() for e in visible.split(",") if e.strip()]
    if device < len(entries):
        return entries[device]
    if len(entries) == 1 and info.distributed and device == info.local_rank:
        return entries[0]  # the scheduler narrowed CUDA_VISIBLE_DEVICES to this rank's GPU
    return ""  # no GPU for this rank: none is measured


# -------------------------------------------------------------------- process tree
@dataclass(frozen=True)
class TreeRoot:
    """Where the elected rank roots the process tree of the CPU and RAM models."""

    pid: int
    reason: str


def host_tree_root(info: RankInfo, pid: int | None = None) -> TreeRoot:
    """The launcher's pid when it is this process's parent and holds the local ranks
    (checked with psutil), else this process."""
    me_pid = os.getpid() if pid is None else pid
    if not info.distributed or info.local_world_size <= 1:
        return TreeRoot(me_pid, "this process (no other rank on this node)")
    try:
        import psutil

        me = psutil.Process(me_pid)
        parent = me.parent()
        if parent is None:
            return TreeRoot(me_pid, "this process (no parent process)")
        siblings = [c for c in parent.children() if c.pid != me_pid]
        name = parent.name()
        try:
            cmdline = " ".join(parent.cmdline())
        except psutil.Error:
            cmdline = name
        is_launcher = (
            info.launcher == "torchrun" and any(m in cmdline for m in _TORCHRUN_MARKERS)
        ) or (info.launcher == "slurm" and name.startswith("slurmstepd"))
        same_exe = sum(1 for s in siblings if _same_exe(s, me))
        if is_launcher or same_exe >= info.local_world_size - 1:
            what = f"{name} (pid {parent.pid})"
            return TreeRoot(
                parent.pid,
                f"the launcher {what}, parent of the {info.local_world_size} local ranks",
            )
        return TreeRoot(
            me_pid,
            f"this process: its parent {name} (pid {parent.pid}) is not a known launcher and "
            f"holds {len(siblings)} other process(es), not the {info.local_world_size - 1} "
            "other local ranks; their CPU and RAM are not counted",
        )
    except Exception as exc:
        return TreeRoot(me_pid, f"this process (cannot inspect the parent: {exc})")


def _same_exe(a: psutil.Process, b: psutil.Process) -> bool:
    try:
        return bool(a.exe() == b.exe())
    except Exception:
        return False
