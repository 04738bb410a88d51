"""The job system: job specs (``JobSpec``: a fine-tuning or a benchmark, and where to run
it), a persistent queue in the run store, and two executors: a local worker running each
job in a child process, and SLURM through submitit. ``JobManager`` is the API.

Imports lazily: ``wattprint.jobs.spec`` needs only pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wattprint.jobs.manager import JobManager
    from wattprint.jobs.spec import BenchJob, JobSpec, SlurmResources, load_job_spec

__all__ = ["BenchJob", "JobManager", "JobSpec", "SlurmResources", "load_job_spec"]

_LAZY = {
    "JobManager": "wattprint.jobs.manager",
    **dict.fromkeys(
        ("BenchJob", "JobSpec", "SlurmResources", "load_job_spec"), "wattprint.jobs.spec"
    ),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
