"""The local executor: ``wattprint worker`` claims the queued local jobs one at a time and
runs each in a child process, ``python -m wattprint.jobs.run JOB_ID``, in a process group
of its own, whose stdout and stderr go to the job's log.

One worker runs one job at a time; several workers share the queue (each job is claimed
by exactly one). On a machine with several GPUs, start one worker per GPU with
``device="cuda:N"``: its children see only that GPU (``CUDA_VISIBLE_DEVICES=N``), so a
job asking for ``cuda`` runs there; ``device="cpu"`` hides every GPU from the jobs.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from types import FrameType

import psutil

from wattprint.config import Settings
from wattprint.errors import ConfigError
from wattprint.store.ingest import pid_alive
from wattprint.store.jobs import JobStore
from wattprint.store.records import JobRecord

__all__ = ["HOST", "KILL_AFTER_S", "Worker", "check_device", "reap_local", "signal_job"]

HOST = socket.gethostname()
KILL_AFTER_S = 10.0
"""Seconds a job has to end after SIGTERM before its process group gets SIGKILL."""
_ENTRY = "wattprint.jobs.run"
_DEVICE = re.compile(r"^(cpu|cuda:\d+)$")


def check_device(device: str | None) -> str | None:
    """``device`` if it is ``cpu`` or ``cuda:N``; ``ConfigError`` otherwise."""
    if device is not None and not _DEVICE.match(device):
        raise ConfigError(f"device={device!r}: accepted: cpu, cuda:N (one worker per GPU)")
    return device


def signal_job(job: JobRecord, signum: int) -> bool:
    """Send ``signum`` to the process group of the job's process on this host, if that
    process is still the job's (not a reuse of its pid); returns whether it was sent."""
    if job.pid is None or job.host != HOST:
        return False
    try:
        command = psutil.Process(job.pid).cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    if _ENTRY not in command or str(job.id) not in command:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(job.pid, signum)
        return True
    return False


def reap_local(job: JobRecord, stale_after_s: float) -> str | None:
    """Why the running local job ``job`` is dead, or ``None`` while it lives. On this host
    its processes tell (a job whose worker died is stopped); on another host, its
    heartbeat does."""
    if job.state != "running":
        return None
    if job.host == HOST:
        if job.pid is not None and not pid_alive(job.pid, None):
            return f"its process (pid {job.pid}) is gone"
        if job.worker_pid is not None and not pid_alive(job.worker_pid, None):
            signal_job(job, signal.SIGTERM)
            return f"its worker (pid {job.worker_pid}) is gone"
        return None
    last = job.heartbeat_at or job.started_at or job.created_at
    age = time.time() - last
    if age > stale_after_s:
        return f"no heartbeat from {job.host} for {age:.0f} s"
    return None


class Worker:
    """Runs queued local jobs one at a time, each in a child process.

    ``reap`` is called before each claim (it settles dead jobs); ``report`` receives one
    line per job started and ended.
    """

    def __init__(
        self,
        settings: Settings,
        jobs: JobStore,
        reap: Callable[[], object],
        *,
        poll_s: float = 2.0,
        device: str | None = None,
        report: Callable[[str], None] = lambda line: None,
    ) -> None:
        if poll_s <= 0:
            raise ConfigError(f"poll_s={poll_s!r}: accepted: a number of seconds > 0")
        self.settings = settings
        self.jobs = jobs
        self.poll_s = poll_s
        self.device = check_device(device)
        self._reap = reap
        self._report = report

    def run(self, once: bool = False) -> list[JobRecord]:
        """Run jobs until stopped (SIGTERM, Ctrl-C), or only the next one with ``once``
        (none if the queue is empty); returns the jobs run, as they ended."""
        ran: list[JobRecord] = []
        with _sigterm_exits():
            while True:
                self._reap()
                job = self.jobs.claim_next(HOST, os.getpid())
                if job is not None:
                    ran.append(self.run_job(job))
                if once:
                    return ran
                if job is None:
                    time.sleep(self.poll_s)

    def run_job(self, job: JobRecord) -> JobRecord:
        """Run the claimed job ``job`` in a child process and wait for its end."""
        self.jobs.append_log(job.id, f"worker {os.getpid()} on {HOST} starts job {job.id}")
        self._report(f"job {job.id} ({job.kind}) started; log: {job.log_path}")
        with self.jobs.log_file(job).open("ab") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", _ENTRY, str(job.id)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._environment(),
                start_new_session=True,
            )
        try:
            self.jobs.update(job.id, only_if="running", pid=child.pid)
            returncode = self._wait(job.id, child)
        finally:
            if child.poll() is None:  # the worker is stopping: so does its job
                _stop(child)
                self.jobs.fail(job.id, "the worker was stopped while the job ran")
        if self.jobs.get(job.id).state == "running":
            self.jobs.fail(job.id, f"its process {_exit_status(returncode)} without a result")
        ended = self.jobs.get(job.id)
        self._report(f"job {ended.id} {ended.state}" + (f": {ended.error}" if ended.error else ""))
        return ended

    def _wait(self, job_id: int, child: subprocess.Popen[bytes]) -> int:
        """Wait for the child; once the job is no longer running in the store (cancelled,
        or failed by a reaper), SIGTERM its group, then SIGKILL after ``KILL_AFTER_S``."""
        kill_at: float | None = None
        while True:
            with contextlib.suppress(subprocess.TimeoutExpired):
                return child.wait(timeout=min(self.poll_s, 1.0))
            if kill_at is None and self.jobs.get(job_id).state != "running":
                _signal_group(child, signal.SIGTERM)
                kill_at = time.monotonic() + KILL_AFTER_S
            elif kill_at is not None and time.monotonic() > kill_at:
                _signal_group(child, signal.SIGKILL)

    def _environment(self) -> dict[str, str]:
        """The child's environment: this worker's store and data folder, and its GPU."""
        env = dict(os.environ, WATTPRINT_DIR=str(self.settings.dir), PYTHONUNBUFFERED="1")
        if self.settings.db:
            env["WATTPRINT_DB"] = self.settings.db
        if self.device is not None:
            gpu = self.device.removeprefix("cuda:")
            env["CUDA_VISIBLE_DEVICES"] = "" if self.device == "cpu" else gpu
        return env


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


def _stop(child: subprocess.Popen[bytes]) -> None:
    _signal_group(child, signal.SIGTERM)
    try:
        child.wait(timeout=KILL_AFTER_S)
    except subprocess.TimeoutExpired:
        _signal_group(child, signal.SIGKILL)
        child.wait()


def _exit_status(returncode: int) -> str:
    if returncode < 0:
        return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"


@contextlib.contextmanager
def _sigterm_exits() -> Iterator[None]:
    """SIGTERM ends the worker like Ctrl-C (its running job is stopped and failed)."""

    def leave(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, leave)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
