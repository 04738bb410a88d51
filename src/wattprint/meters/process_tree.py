"""The tracked process tree: a root process and all its descendants, via psutil.

Used by the CPU and RAM models (process attribution) and by the tracker to compute
a process's share of the machine. No subprocesses: everything comes from /proc.

CPU time of the tree is the sum, over its live (or zombie) processes, of user + system
time plus ``children_user + children_system``: the time of the children each one has
already reaped. A descendant that exits and is reaped by a process of the tree thus
stays counted, in full, even if it lived between two calls. Each process's last value
is also cached per ``(pid, create_time)``: when one disappears and no ancestor of it is
left in the tree to have reaped it (the root itself exited, or an orphan), its last
seen CPU seconds are kept. The total is monotonic. The tracking process's own time
comes from the CPU-time clock rather than /proc, so windows of a few milliseconds are
charged what they used, not a multiple of the 10 ms kernel tick.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import psutil

_Key = tuple[int, float]


class _Seen:
    __slots__ = ("cpu_s", "ppid", "proc")

    def __init__(self, proc: psutil.Process, cpu_s: float, ppid: int) -> None:
        self.proc = proc
        self.cpu_s = cpu_s
        self.ppid = ppid


RESCAN_MIN_S = 1.0
RESCAN_MAX_S = 30.0


class ProcessTree:
    """``root_pid`` (default: this process) and its descendants.

    Finding descendants means reading every process of the host (psutil scans /proc),
    1-3 ms per 100 processes, so membership is rescanned after ``rescan_min_s``, and
    the interval doubles each time the tree is found unchanged, up to ``rescan_max_s``
    (back to the minimum when it changes); the known members' times are read on every
    call. Nothing is lost to the delay in CPU time: times are cumulative, so a
    descendant found late is counted from its start, and one that exits unseen is
    inside its parent's ``children_*`` times. Only the resident memory of a descendant
    not yet found is missed (by the RAM model) until the next rescan.
    """

    def __init__(
        self,
        root_pid: int | None = None,
        rescan_min_s: float = RESCAN_MIN_S,
        rescan_max_s: float = RESCAN_MAX_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root_pid = os.getpid() if root_pid is None else root_pid
        try:
            self._root = psutil.Process(self.root_pid)
        except psutil.Error as exc:
            raise ValueError(f"root_pid={self.root_pid}: no such process ({exc})") from exc
        self._lock = threading.Lock()
        self._scan_lock = threading.Lock()
        self._rescan_min_s = rescan_min_s
        self._rescan_max_s = max(rescan_min_s, rescan_max_s)
        self._rescan_s = rescan_min_s
        self._clock = clock
        self._scanned_at: float | None = None
        self._members_cache: list[psutil.Process] = []
        self._live: dict[_Key, _Seen] = {}
        self._finished_s = 0.0
        self._last_total_s = 0.0

    def _members(self) -> list[psutil.Process]:
        with self._scan_lock:
            now = self._clock()
            if self._scanned_at is None or now - self._scanned_at >= self._rescan_s:
                try:
                    members = [self._root, *self._children()]
                except psutil.Error:
                    # The root itself has exited: only previously seen descendants remain.
                    members = [s.proc for s in self._live.values() if s.proc.pid != self.root_pid]
                same = {p.pid for p in members} == {p.pid for p in self._members_cache}
                self._rescan_s = (
                    min(self._rescan_s * 2, self._rescan_max_s) if same else self._rescan_min_s
                )
                self._members_cache = members
                self._scanned_at = now
            return self._members_cache

    def _children(self) -> list[psutil.Process]:
        """The root's descendants. Linux lists each thread's children in
        ``/proc/<pid>/task/<tid>/children``: reading those costs in the size of the tree,
        where psutil's ``children(recursive=True)`` reads every process of the host.
        Known ``Process`` objects are reused; psutil is the fallback where the kernel
        does not provide the files."""
        known = {p.pid: p for p in self._members_cache}
        found: list[psutil.Process] = []
        stack = [self.root_pid]
        while stack:
            pid = stack.pop()
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                if pid == self.root_pid:
                    raise psutil.NoSuchProcess(pid) from None
                continue  # exited meanwhile
            for tid in tids:
                try:
                    with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                        text = fh.read()
                except FileNotFoundError:
                    if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                        continue  # the thread ended meanwhile
                    return list(self._root.children(recursive=True))  # no such file here
                except OSError:
                    continue
                for child in text.split():
                    cpid = int(child)
                    stack.append(cpid)
                    proc = known.get(cpid)
                    if proc is None or not proc.is_running():  # new, or its pid reused
                        try:
                            proc = psutil.Process(cpid)
                        except psutil.Error:
                            continue
                    found.append(proc)
        return found

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) of the tree, its reaped descendants included, since
        its processes started; cumulative and monotonic."""
        with self._lock:
            seen: dict[_Key, _Seen] = {}
            for proc in self._members():
                try:
                    with proc.oneshot():
                        key = (proc.pid, proc.create_time())
                        t = proc.cpu_times()
                        known = self._live.get(key)
                        # The parent as first seen: psutil's ppid() re-reads /proc to
                        # rule out pid reuse, which (pid, create_time) already does.
                        ppid = known.ppid if known is not None else proc.ppid()
                except psutil.Error:
                    continue
                if proc.pid == os.getpid():
                    cpu_s = _own_cpu_seconds()
                else:
                    cpu_s = t.user + t.system + t.children_user + t.children_system
                seen[key] = _Seen(proc, cpu_s, ppid)
            live_pids = {pid for pid, _ in seen}
            for key, old in self._live.items():
                if key not in seen and not self._reaped_in_tree(old, live_pids):
                    self._finished_s += old.cpu_s
            self._live = seen
            total = self._finished_s + sum(s.cpu_s for s in seen.values())
            self._last_total_s = max(self._last_total_s, total)
            return self._last_total_s

    def _reaped_in_tree(self, gone: _Seen, live_pids: set[int]) -> bool:
        """Whether an ancestor of ``gone`` is still in the tree: then ``gone`` was reaped
        by the tree and its time is inside that ancestor's children times."""
        by_pid = {pid: s for (pid, _), s in self._live.items()}
        ppid, hops = gone.ppid, 0
        while hops < 64:
            if ppid in live_pids:
                return True
            parent = by_pid.get(ppid)
            if parent is None:
                return False
            ppid, hops = parent.ppid, hops + 1
        return False

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


def _own_cpu_seconds() -> float:
    """This process's CPU time from ``clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`` (nanosecond
    resolution; /proc counts in 10 ms ticks, too coarse for one inference batch) plus the
    time of the children it reaped."""
    reaped = os.times()
    return time.process_time() + reaped.children_user + reaped.children_system


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
