"""Write run journals in tests exactly as a tracker does (``JournalWriter``).

Also runnable as a script by the child processes of the tests:
``python journals.py <journal_dir> <run_id> <mode> ...`` (see ``main``).
"""

from __future__ import annotations

import os
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parents[2] / "src"
if str(SRC) not in sys.path:  # when run as a child script
    sys.path.insert(0, str(SRC))

from wattprint.store.journal import JournalWriter, journal_path  # noqa: E402

COMPONENTS: list[dict[str, Any]] = [
    {
        "name": "cpu:0",
        "kind": "cpu",
        "source": "rapl",
        "quality": "measured",
        "description": "package 0",
        "basis": "powercap intel-rapl:0",
        "low_ratio": 1.0,
        "high_ratio": 1.0,
    },
    {
        "name": "gpu:0",
        "kind": "gpu",
        "source": "nvml",
        "quality": "measured",
        "description": "NVIDIA H200",
        "basis": "nvmlDeviceGetTotalEnergyConsumption",
        "low_ratio": 1.0,
        "high_ratio": 1.0,
    },
    {
        "name": "ram",
        "kind": "ram",
        "source": "ram-model",
        "quality": "estimated",
        "description": "DDR5 model",
        "basis": "0.375 W/GB (2023)",
        "low_ratio": 0.5,
        "high_ratio": 1.5,
    },
]
POWER_W = {"cpu:0": 50.0, "gpu:0": 300.0, "ram": 10.0}


def start_run(
    journal_dir: Path,
    *,
    run_id: str | None = None,
    project: str = "proj",
    name: str = "run",
    host: str | None = None,
    pid: int | None = None,
    pid_create_time: float | None = None,
    started_at: float = 1_700_000_000.0,
    components: list[dict[str, Any]] | None = None,
) -> tuple[JournalWriter, str]:
    """Open a journal and append (not flush) the run record, as ``Tracker.start`` does."""
    run_id = run_id or uuid.uuid4().hex
    writer = JournalWriter(journal_path(journal_dir, run_id))
    writer.append(
        "run",
        run_id=run_id,
        project=project,
        name=name,
        host=host or socket.gethostname(),
        pid=os.getpid() if pid is None else pid,
        pid_create_time=pid_create_time,
        started_at=started_at,
        command="python train.py --epochs 2",
        git_commit="0123456789abcdef",
        hardware={"cpu": "Test CPU", "gpus": ["NVIDIA H200"]},
        settings={"sample_interval_s": 1.0},
        components=COMPONENTS if components is None else components,
        version="0.1.0",
    )
    return writer, run_id


def energy_at(component: str, i: int) -> float:
    """Cumulative joules of ``component`` at sample ``i`` (one second apart)."""
    return POWER_W[component] * i


def append_samples(
    writer: JournalWriter, start: int, stop: int, t0: float = 1_700_000_000.0
) -> None:
    """Samples ``start``..``stop-1``: one ``samples`` record per tick, as the sampler does."""
    for i in range(start, stop):
        rows = [[t0 + i, c, energy_at(c, i), None if i == 0 else POWER_W[c]] for c in POWER_W]
        writer.append("samples", rows=rows)


def main(argv: list[str]) -> None:
    """Child-process writer.

    ``hold <dir> <run_id> <n>``: write a run and ``n`` samples, flush, print ``ready``,
    then append more samples without flushing and sleep until killed.
    ``loop <dir> <db_url> <seconds> <tag>``: write journals and sync them in a loop.
    """
    mode = argv[1]
    if mode == "hold":
        import psutil

        journal_dir, run_id, n = Path(argv[2]), argv[3], int(argv[4])
        me = psutil.Process()
        writer, _ = start_run(
            journal_dir,
            run_id=run_id,
            name="held",
            pid=me.pid,
            pid_create_time=me.create_time(),
        )
        append_samples(writer, 0, n)
        writer.append("event", t=1_700_000_000.0 + n, source="test", message="flushed")
        writer.flush(sync=True)
        append_samples(writer, n, n + 5)  # never flushed: lost with the process
        print("ready", flush=True)
        time.sleep(60)
    elif mode == "loop":
        from wattprint.store.repository import Store

        journal_dir, url, seconds, tag = Path(argv[2]), argv[3], float(argv[4]), argv[5]
        deadline = time.monotonic() + seconds
        syncs = 0
        with Store(url, journal_dir) as store:
            k = 0
            while time.monotonic() < deadline:
                writer, _ = start_run(journal_dir, run_id=f"{tag}-{k:04d}", name=f"{tag}-{k}")
                for step in range(5):
                    append_samples(writer, step * 4, step * 4 + 4)
                    writer.append(
                        "metric",
                        t=1_700_000_000.0 + step,
                        step=step,
                        values={"loss": 1.0 / (step + 1), "acc": step / 10},
                    )
                    writer.flush()
                    store.sync()
                    syncs += 1
                writer.append(
                    "end",
                    ended_at=1_700_000_020.0,
                    status="finished",
                    energy_j={c: energy_at(c, 19) for c in POWER_W},
                    error=None,
                    exit_code=0,
                )
                writer.flush()
                writer.close()
                k += 1
            store.sync()
        print(f"runs={k} syncs={syncs}", flush=True)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv)
