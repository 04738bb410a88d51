"""Plain frozen dataclasses that the store's queries return.

Joules and seconds; times are Unix epoch seconds. No SQLAlchemy here, so callers
(CLI, dashboard, analysis) can import these cheaply and never hold ORM objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ComponentTotal:
    """A component of a run with its provenance and its energy over the run.

    ``low_j``/``high_j`` bound the true energy (``energy_j`` times the component's
    ``low_ratio``/``high_ratio``; equal to ``energy_j`` for measured components).
    """

    name: str
    kind: str
    source: str
    quality: str
    description: str
    basis: str
    low_ratio: float
    high_ratio: float
    energy_j: float
    low_j: float
    high_j: float


@dataclass(frozen=True)
class RunSummary:
    """One line of a run listing.

    ``ended_at`` is ``None`` while a run is running; ``duration_s`` then runs up to
    the last record ingested. ``quality`` is ``measured`` only when every component
    was measured. The group fields are set for one rank of a distributed run (``group``
    shared by all its ranks, ``node`` the host or SLURM node) and ``None`` otherwise.
    ``labels`` are the ones given to the tracker (e.g. ``{"benchmark": …, "model": …}``).
    """

    run_id: str
    project: str
    name: str
    status: str
    host: str | None
    started_at: float
    ended_at: float | None
    last_seen_at: float | None
    duration_s: float
    energy_j: float
    energy_low_j: float
    energy_high_j: float
    quality: str
    components: tuple[ComponentTotal, ...] = ()
    group: str | None = None
    rank: int | None = None
    local_rank: int | None = None
    world_size: int | None = None
    node: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunDetail(RunSummary):
    """Everything known about a run besides its time series."""

    pid: int | None = None
    command: str | None = None
    git_commit: str | None = None
    hardware: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    exit_code: int | None = None
    version: str | None = None


@dataclass(frozen=True)
class WindowRecord:
    """A closed window with joules per component."""

    seq: int
    name: str
    parent: str | None
    started_at: float
    ended_at: float
    energy_j: Mapping[str, float]

    @property
    def duration_s(self) -> float:
        return self.ended_at - self.started_at

    @property
    def total_energy_j(self) -> float:
        return float(sum(self.energy_j.values()))


@dataclass(frozen=True)
class SampleRecord:
    """Cumulative energy of one component at time ``t`` and the mean power since the
    previous sample of that component (``None`` for the first)."""

    t: float
    component: str
    energy_j: float
    power_w: float | None


@dataclass(frozen=True)
class MetricRecord:
    """One metric value logged during a run; ``value`` is ``None`` when what was logged
    was not a finite number (a diverged loss)."""

    seq: int
    t: float
    step: int | None
    name: str
    value: float | None


@dataclass(frozen=True)
class EventRecord:
    """Something that happened to a run's energy sources or its recording."""

    seq: int
    t: float
    source: str
    message: str


@dataclass(frozen=True)
class ProjectSummary:
    """A project and how many runs it holds."""

    name: str
    created_at: float
    run_count: int
    last_started_at: float | None


@dataclass(frozen=True)
class EnergyBreakdown:
    """Energy of several runs added up: total with bounds, by component kind (``cpu``,
    ``gpu``, ``ram``, …) and by quality. ``quality`` is ``measured`` only when every
    component behind it was measured."""

    energy_j: float
    energy_low_j: float
    energy_high_j: float
    measured_j: float
    estimated_j: float
    by_kind_j: Mapping[str, float]
    quality: str


@dataclass(frozen=True)
class NodeTotal:
    """One node of a run group: its ranks, its energy per component, and the rank that
    measured its CPU and RAM (``host_rank``; ``None`` when no rank did)."""

    node: str
    ranks: tuple[int, ...]
    host_rank: int | None
    components_j: Mapping[str, float]
    energy: EnergyBreakdown


@dataclass(frozen=True)
class GroupDetail:
    """All ranks of one distributed run, per rank, per node and in total.

    A node's CPU and RAM are counted once: only its elected rank reports them.
    ``missing_ranks`` are ranks below ``world_size`` with no run in the store (a node
    whose data folder was not merged); ``warnings`` say what may make the totals wrong.
    """

    group: str
    project: str
    launcher: str | None
    world_size: int
    status: str
    started_at: float
    ended_at: float | None
    duration_s: float
    ranks: tuple[RunSummary, ...]
    nodes: tuple[NodeTotal, ...]
    total: EnergyBreakdown
    missing_ranks: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobRecord:
    """A job of the queue as stored: its spec (the job system's JSON), where it runs, its
    state (``queued``, ``running``, ``succeeded``, ``failed``, ``cancelled``) and what it
    produced. ``host``/``pid`` locate the process running it, ``worker_pid`` the local
    worker that started it, ``slurm_job_id`` its SLURM job; ``heartbeat_at`` is the last
    sign of life of a running job."""

    id: int
    kind: str
    project: str
    executor: str
    state: str
    spec: Mapping[str, Any]
    created_at: float
    started_at: float | None
    ended_at: float | None
    heartbeat_at: float | None
    host: str | None
    worker_pid: int | None
    pid: int | None
    slurm_job_id: str | None
    log_path: str | None
    error: str | None
    run_ids: tuple[str, ...]
