"""Shared helpers for the wattprint benchmarks (standard library only).

Every benchmark measures CPU time (process / thread CPU accounting) rather than wall
time wherever it can: on a shared, noisy 2-core VM wall time cannot resolve a 1 %
overhead, CPU time charged to the process or thread can.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
PYTHON = sys.executable

SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.posix_spawn", "os.exec", "os.fork"})


def ensure_repo_on_path() -> None:
    """Make ``tests.fakes`` and ``src/wattprint`` importable when run from anywhere."""
    for p in (str(REPO_ROOT / "src"), str(REPO_ROOT)):
        if p not in sys.path:
            sys.path.insert(0, p)


def temp_data_dir(prefix: str = "wattprint-bench-") -> str:
    """A fresh temporary WATTPRINT_DIR (never the user's real data folder)."""
    return tempfile.mkdtemp(prefix=prefix)


def child_env(data_dir: str | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["WATTPRINT_DIR"] = data_dir or temp_data_dir()
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT / "src"), str(REPO_ROOT)]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env.setdefault("PYTHONHASHSEED", "0")
    env.update(extra)
    return env


def run_child(args: list[str], env: dict[str, str], timeout: float = 600) -> dict[str, Any]:
    """Run ``python <args>`` and parse the last stdout line as JSON."""
    proc = subprocess.run(
        [PYTHON, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(
            f"child {args} printed no JSON:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        )
    return json.loads(lines[-1])


def thread_cpu_s(thread: threading.Thread) -> float | None:
    """CPU seconds consumed so far by a live Python thread (its own clock)."""
    ident = thread.ident
    if ident is None or not thread.is_alive():
        return None
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(ident))
    except (OSError, ProcessLookupError):
        return None


def threads_cpu() -> dict[str, float]:
    """CPU seconds per live Python thread, keyed ``name#ident``."""
    out: dict[str, float] = {}
    for th in threading.enumerate():
        cpu = thread_cpu_s(th)
        if cpu is not None:
            out[f"{th.name}#{th.ident}"] = cpu
    return out


def native_tasks_cpu() -> dict[int, float]:
    """CPU seconds per OS thread of this process from /proc (10 ms resolution); includes
    threads Python does not know about (torch, OpenMP, native libraries)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    base = Path(f"/proc/{os.getpid()}/task")
    try:
        tids = list(base.iterdir())
    except OSError:
        return out
    for task in tids:
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def summary(values: list[float]) -> dict[str, Any]:
    """Median and spread of a sample."""
    vals = [v for v in values if v is not None]
    if not vals:
        return {"n": 0}
    vals_sorted = sorted(vals)
    n = len(vals_sorted)
    q1 = vals_sorted[max(0, (n - 1) // 4)]
    q3 = vals_sorted[min(n - 1, (3 * (n - 1) + 3) // 4)]
    return {
        "n": n,
        "median": statistics.median(vals_sorted),
        "min": vals_sorted[0],
        "max": vals_sorted[-1],
        "q1": q1,
        "q3": q3,
        "stdev": statistics.stdev(vals_sorted) if n > 1 else 0.0,
    }


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    virt = ""
    try:
        out = subprocess.run(["systemd-detect-virt"], capture_output=True, text=True, timeout=5)
        virt = out.stdout.strip()
    except Exception:
        pass
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "virtualisation": virt or None,
        "rapl": Path("/sys/class/powercap/intel-rapl:0").exists()
        or Path("/sys/class/powercap/amd-rapl:0").exists(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg_at_start": os.getloadavg(),
    }


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(),
        **data,
    }
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for k, r in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if k and i else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if k == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:.1f}"
        if abs(v) >= 1:
            return f"{v:.3f}"
        return f"{v:.4g}"
    return str(v)


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"
