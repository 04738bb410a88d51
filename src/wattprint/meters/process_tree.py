"""The tracked process tree: a root process and all its descendants, via psutil.

Used by the CPU and RAM models (process attribution) and by the tracker to compute
a process's share of the machine. No subprocesses: everything comes from /proc.

CPU time of a descendant is cached per ``(pid, create_time)``, so a child that exits
keeps the CPU seconds it had when last seen. A child that starts and exits between two
calls (shorter than the sampling interval) is not seen; its time is lost (see
docs/methodology.md).
"""

from __future__ import annotations

import os
import threading

import psutil

_Key = tuple[int, float]


class ProcessTree:
    """``root_pid`` (default: this process) and its descendants, refreshed on each call."""

    def __init__(self, root_pid: int | None = None) -> None:
        self.root_pid = os.getpid() if root_pid is None else root_pid
        try:
            self._root = psutil.Process(self.root_pid)
        except psutil.Error as exc:
            raise ValueError(f"root_pid={self.root_pid}: no such process ({exc})") from exc
        self._lock = threading.Lock()
        self._live: dict[_Key, tuple[psutil.Process, float]] = {}
        self._finished_s = 0.0
        self._last_total_s = 0.0

    def _members(self) -> list[psutil.Process]:
        try:
            return [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            # The root itself has exited: only previously seen descendants remain.
            return [proc for proc, _ in self._live.values() if proc.pid != self.root_pid]

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the tree since its processes started; cumulative
        and monotonic (exited children keep their last seen time)."""
        with self._lock:
            seen: dict[_Key, tuple[psutil.Process, float]] = {}
            for proc in self._members():
                try:
                    with proc.oneshot():
                        key = (proc.pid, proc.create_time())
                        times = proc.cpu_times()
                except psutil.Error:
                    continue
                seen[key] = (proc, times.user + times.system)
            for key, (_, last_s) in self._live.items():
                if key not in seen:
                    self._finished_s += last_s
            self._live = seen
            total = self._finished_s + sum(s for _, s in seen.values())
            self._last_total_s = max(self._last_total_s, total)
            return self._last_total_s

    def rss_bytes(self) -> int:
        """Resident memory of the tree's live processes (shared pages counted per process)."""
        total = 0
        for proc in self._members():
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
        return total

    def pids(self) -> set[int]:
        """PIDs of the live processes in the tree."""
        result: set[int] = set()
        for proc in self._members():
            try:
                if proc.is_running():
                    result.add(proc.pid)
            except psutil.Error:
                continue
        return result


def machine_busy_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine, summed over its CPUs: user + nice + system
    + irq + softirq, i.e. the total minus idle, iowait, steal (time a hypervisor gave to
    someone else) and guest time (already inside user/nice on Linux)."""
    times = psutil.cpu_times()
    busy = times.user + times.system
    for field in ("nice", "irq", "softirq"):
        busy += float(getattr(times, field, 0.0))
    return busy


def machine_used_memory_bytes() -> int:
    """Memory in use on the machine: total minus available."""
    mem = psutil.virtual_memory()
    return int(mem.total - mem.available)
