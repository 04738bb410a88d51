"""Fixtures of the job tests: a job manager over a private data folder, job specs for a
benchmark that runs in seconds and one that runs for minutes, and polling helpers."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from wattprint.config import Settings
from wattprint.jobs.manager import JobManager
from wattprint.jobs.spec import JobSpec

T = TypeVar("T")

QUICK_BENCH: dict[str, Any] = {
    "suite": "nlp",
    "models": ["gpt2"],
    "quick": True,
    "epochs": 1,
    "train_size": 32,
    "test_size": 32,
}
"""A benchmark of one tiny model that trains and serves in seconds on a CPU."""
LONG_BENCH: dict[str, Any] = {**QUICK_BENCH, "epochs": 200, "train_size": 256}
"""The same model for minutes: a job that is still running when a test acts on it."""


def bench_spec(bench: dict[str, Any], **values: Any) -> JobSpec:
    return JobSpec.build(kind="bench", bench=bench, **values)


def wait_for(check: Callable[[], T | None], what: str, timeout_s: float = 60.0) -> T:
    """Poll ``check`` until it returns something other than ``None`` or ``False``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value is not None and value is not False:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def start_worker(*args: str) -> subprocess.Popen[str]:
    """``wattprint worker --once`` in the background (the data folder from WATTPRINT_DIR)."""
    return subprocess.Popen(
        [sys.executable, "-m", "wattprint", "worker", "--once", "--poll-s", "0.2", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(dir=data_dir)


@pytest.fixture
def manager(settings: Settings) -> Iterator[JobManager]:
    with JobManager(settings) as m:
        yield m
