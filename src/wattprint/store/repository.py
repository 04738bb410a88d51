"""The run store: ``Store`` opens a database by SQLAlchemy URL, ingests run journals
(``sync``) and answers queries with the plain dataclasses of ``records``.

SQLite (the default) is opened in WAL mode with a 30 s busy timeout and foreign keys
on; write transactions begin with ``BEGIN IMMEDIATE`` so several processes can sync
into one file at once. PostgreSQL (``postgresql+psycopg://…``, the ``postgres`` extra)
runs the same code. Opening a store creates or checks its schema (``migrate.prepare``):
a SQLite store that is behind is upgraded, a PostgreSQL one is refused until
``wattprint db upgrade``.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Select

from wattprint.errors import NotFoundError, StoreError
from wattprint.store import ingest, migrate
from wattprint.store.migrate import SchemaState
from wattprint.store.models import (
    RUN_STATUSES,
    ComponentRow,
    Event,
    Metric,
    Project,
    Run,
    Sample,
    SchemaInfo,
    Window,
)
from wattprint.store.records import (
    ComponentTotal,
    EnergyBreakdown,
    EventRecord,
    GroupDetail,
    MetricRecord,
    NodeTotal,
    ProjectSummary,
    RunDetail,
    RunSummary,
    SampleRecord,
    WindowRecord,
)

if TYPE_CHECKING:
    from wattprint.config import Settings

log = logging.getLogger(__name__)
_T = TypeVar("_T")

BUSY_TIMEOUT_S = 30.0
PG_CONNECT_TIMEOUT_S = 10
DEFAULT_STALE_AFTER_S = 300.0
MIN_PREFIX = 4


class Store:
    """A run store at a SQLAlchemy URL, fed from the run journals in ``journal_dir``.

    Use as a context manager or call ``close()``. Safe to use from several threads
    and several processes at once.
    """

    def __init__(self, url: str, journal_dir: Path | None = None) -> None:
        self.url = url
        self.journal_dir = journal_dir
        self._engine = _create_engine(url)
        try:
            migrate.prepare(self._engine, upgrade_if_behind=self._engine.dialect.name == "sqlite")
        except BaseException:
            self._engine.dispose()
            raise

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store and journal folder that ``settings`` name."""
        return cls(settings.db_url, settings.journal_dir)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for migrations and tests)."""
        return self._engine

    def close(self) -> None:
        """Release the store's connections. Idempotent."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({safe_url(self.url)!r}, journal_dir={self.journal_dir!r})"

    # -------------------------------------------------------------------- sync
    def sync(self, stale_after_s: float = DEFAULT_STALE_AFTER_S) -> int:
        """Ingest the new records of every journal, then settle runs left ``running``.

        A journal is opened only when its size differs from the size at its last
        ingestion. Runs with an ``end`` record are finished or failed; runs without one
        become ``interrupted`` when their process on this host is gone, or, for runs of
        other hosts, when their journal has not changed for ``stale_after_s`` seconds.
        Unreadable journals are skipped with one warning. Returns the number of records
        ingested.
        """
        if stale_after_s < 0:
            raise ValueError(f"stale_after_s={stale_after_s!r}: must be >= 0 seconds")
        count = 0
        try:
            if self.journal_dir is not None:
                progress = ingest.load_progress(self._engine)
                for name, path, size in ingest.list_journals(self.journal_dir):
                    known = progress.get(name)
                    if known is not None and known.size == size:
                        continue
                    count += ingest.ingest_journal(self._engine, path, known)
            ingest.settle_runs(self._engine, self.journal_dir, stale_after_s)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot sync {safe_url(self.url)}: {exc}") from exc
        return count

    def merge(self, journal_dir: Path) -> int:
        """Ingest the journals of another data folder's journal folder (another node's
        ``<dir>/journal``) into this store; returns the number of records ingested.

        Idempotent, like ``sync``: journals are keyed by their file name (the run id) and
        records by their sequence number, so merging the same folder twice, or a copy of
        a journal already ingested, adds nothing; a journal that grew since is read from
        where the last merge stopped.
        """
        if not journal_dir.is_dir():
            raise StoreError(f"cannot merge {journal_dir}: not a folder of run journals")
        count = 0
        try:
            progress = ingest.load_progress(self._engine)
            for name, path, size in ingest.list_journals(journal_dir):
                known = progress.get(name)
                if known is not None and known.size == size:
                    continue
                count += ingest.ingest_journal(self._engine, path, known)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot merge into {safe_url(self.url)}: {exc}") from exc
        return count

    # ----------------------------------------------------------------- queries
    def list_runs(
        self,
        project: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
        group: str | None = None,
        labels: Mapping[str, str] | None = None,
        host: str | None = None,
        since: float | None = None,
        until: float | None = None,
        projects: Collection[str] | None = None,
    ) -> list[RunSummary]:
        """Runs, newest first, optionally of one project, one status, one group (the
        ranks of a distributed run, then by rank), one host, started in ``[since, until)``
        (Unix seconds), carrying all of ``labels`` and/or of one of ``projects`` (those a
        user may read)."""
        if limit < 0 or offset < 0:
            raise ValueError(f"limit={limit!r}, offset={offset!r}: must be >= 0")
        query = _runs_query(select(Run), project, status, group, host, since, until, projects)
        query = query.order_by(Run.started_at.desc(), Run.id.desc())
        if not labels:  # JSON matching is not portable: labels are filtered below
            query = query.limit(limit).offset(offset)
        with self._session() as session:
            runs = list(session.scalars(query))
            if labels:
                runs = _labelled(runs, labels)[offset : offset + limit]
            components = _components_of(session, [r.id for r in runs])
            return [RunSummary(**_summary_fields(r, components.get(r.id, []))) for r in runs]

    def count_runs(
        self,
        project: str | None = None,
        status: str | None = None,
        group: str | None = None,
        labels: Mapping[str, str] | None = None,
        host: str | None = None,
        since: float | None = None,
        until: float | None = None,
        projects: Collection[str] | None = None,
    ) -> int:
        """How many runs ``list_runs`` with the same filters would list without a limit."""
        where = (project, status, group, host, since, until, projects)
        with self._session() as session:
            if labels:
                runs = _runs_query(select(Run), *where)
                return len(_labelled(session.scalars(runs), labels))
            count = _runs_query(select(func.count(Run.id)), *where)
            return int(session.scalar(count) or 0)

    def hosts(self) -> list[str]:
        """Every host that recorded a run, sorted."""
        with self._session() as session:
            query = select(Run.host).where(Run.host.is_not(None)).distinct().order_by(Run.host)
            return [str(h) for h in session.scalars(query)]

    def get_run(self, ref: str) -> RunDetail:
        """The run that ``ref`` names.

        ``ref`` is tried as a full run id, then ``project/name`` or a run name (the
        latest run of that name), then a unique prefix of at least 4 characters of a
        run id. Raises ``NotFoundError`` naming what was tried, or listing the
        candidates of an ambiguous prefix.
        """
        ref = ref.strip()
        if not ref:
            raise NotFoundError("empty run reference: give a run id, id prefix or run name")
        with self._session() as session:
            run = _find_run(session, ref)
            comps = _components_of(session, [run.id]).get(run.id, [])
            return RunDetail(
                **_summary_fields(run, comps),
                pid=run.pid,
                command=run.command,
                git_commit=run.git_commit,
                hardware=dict(run.hardware or {}),
                settings=dict(run.settings or {}),
                error=run.error,
                exit_code=run.exit_code,
                version=run.version,
            )

    def get_group(self, ref: str) -> GroupDetail:
        """The distributed run group that ``ref`` names: a group id, a unique prefix of
        one (at least 4 characters), or any run reference ``get_run`` accepts (its
        group). Ranks come from every run of the group in the store."""
        ref = ref.strip()
        if not ref:
            raise NotFoundError("empty group reference: give a group id or a run of the group")
        with self._session() as session:
            group = _find_group(session, ref)
            runs = list(
                session.scalars(
                    select(Run).where(Run.group_id == group).order_by(Run.rank, Run.started_at)
                )
            )
            components = _components_of(session, [r.id for r in runs])
            ranks = [RunSummary(**_summary_fields(r, components.get(r.id, []))) for r in runs]
        return _group_detail(group, ranks, runs)

    def windows(self, run_id: str) -> list[WindowRecord]:
        """The run's closed windows in the order they were closed."""
        with self._session() as session:
            _require_run(session, run_id)
            rows = session.scalars(
                select(Window).where(Window.run_id == run_id).order_by(Window.seq)
            )
            return [
                WindowRecord(
                    seq=w.seq,
                    name=w.name,
                    parent=w.parent,
                    started_at=w.started_at,
                    ended_at=w.ended_at,
                    energy_j=dict(w.energy_j or {}),
                )
                for w in rows
            ]

    def samples(self, run_id: str, component: str | None = None) -> list[SampleRecord]:
        """The run's cumulative energy samples, by time then component."""
        query = select(Sample.t, Sample.component, Sample.energy_j, Sample.power_w).where(
            Sample.run_id == run_id
        )
        if component is not None:
            query = query.where(Sample.component == component)
        query = query.order_by(Sample.t, Sample.seq, Sample.idx)
        with self._session() as session:
            _require_run(session, run_id)
            return [
                SampleRecord(t=t, component=component, energy_j=energy_j, power_w=power_w)
                for t, component, energy_j, power_w in session.execute(query)
            ]

    def metrics(self, run_id: str, name: str | None = None) -> list[MetricRecord]:
        """The run's metric values in the order they were logged."""
        query = select(Metric).where(Metric.run_id == run_id)
        if name is not None:
            query = query.where(Metric.name == name)
        query = query.order_by(Metric.seq, Metric.name)
        with self._session() as session:
            _require_run(session, run_id)
            return [
                MetricRecord(seq=m.seq, t=m.t, step=m.step, name=m.name, value=m.value)
                for m in session.scalars(query)
            ]

    def events(self, run_id: str) -> list[EventRecord]:
        """What happened to the run's energy sources and recording, in order."""
        with self._session() as session:
            _require_run(session, run_id)
            rows = session.scalars(select(Event).where(Event.run_id == run_id).order_by(Event.seq))
            return [EventRecord(seq=e.seq, t=e.t, source=e.source, message=e.message) for e in rows]

    def projects(self) -> list[ProjectSummary]:
        """Every project with its number of runs, by name."""
        query = (
            select(
                Project.name,
                Project.created_at,
                func.count(Run.id).label("run_count"),
                func.max(Run.started_at).label("last_started_at"),
            )
            .outerjoin(Run, Run.project == Project.name)
            .group_by(Project.name, Project.created_at)
            .order_by(Project.name)
        )
        with self._session() as session:
            return [
                ProjectSummary(
                    name=r.name,
                    created_at=r.created_at,
                    run_count=int(r.run_count),
                    last_started_at=r.last_started_at,
                )
                for r in session.execute(query)
            ]

    @property
    def schema_version(self) -> int:
        """The store's ``schema_info.version``: ``models.SCHEMA_VERSION`` once opened
        (its Alembic revision is in ``migrate.read_state``)."""
        with self._session() as session:
            return int(session.scalar(select(SchemaInfo.version)) or 0)

    def _session(self) -> Session:
        return Session(self._engine, expire_on_commit=False)


def open_store(settings: Settings) -> Store:
    """Open (creating it if needed) the store that ``settings`` name."""
    return Store.from_settings(settings)


# ------------------------------------------------------------------------ engine
def upgrade_store(url: str) -> tuple[SchemaState, SchemaState]:
    """Create or upgrade the schema of the store at ``url`` to the one this wattprint
    writes (``wattprint db upgrade``); returns the states before and after."""
    engine = _create_engine(url)
    try:
        return migrate.upgrade(engine)
    finally:
        engine.dispose()


def store_schema(url: str) -> SchemaState:
    """Where the schema of the store at ``url`` stands, without creating or changing it
    (``wattprint db current``; a SQLite file that did not exist is left empty)."""
    engine = _create_engine(url)
    try:
        with engine.connect() as conn:
            return migrate.read_state(conn)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read store {safe_url(url)}: {exc}") from exc
    finally:
        engine.dispose()


def safe_url(url: str) -> str:
    """``url`` with its password masked, even when it does not parse."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(://[^/@]*?:)[^/@]*@", r"\1***@", url)


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"invalid store URL {safe_url(url)!r}: expected a SQLAlchemy URL such as "
            "sqlite:////path/to/wattprint.db or postgresql+psycopg://user@host/db"
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in _BACKENDS:
        raise StoreError(
            f"store URL {safe_url(url)!r}: database {backend!r} is not supported: "
            "use sqlite:///… or postgresql+psycopg://…"
        )
    try:
        if backend == "postgresql":
            return _postgresql_engine(parsed)
        return _sqlite_engine(parsed)
    except ImportError as exc:
        raise StoreError(
            f"cannot open store {safe_url(url)}: its database driver is missing ({exc}); "
            "for PostgreSQL: pip install 'wattprint[postgres]'"
        ) from exc
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreError(f"cannot open store {safe_url(url)}: {exc}") from exc


_BACKENDS = ("sqlite", "postgresql")


def _postgresql_engine(url: URL) -> Engine:
    """A PostgreSQL engine; a bare ``postgresql://`` URL gets the psycopg 3 driver (what
    the ``postgres`` extra installs), and connecting gives up after 10 s."""
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    connect_args: dict[str, Any] = {"application_name": "wattprint"}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_engine(url: URL) -> Engine:
    """A SQLite engine: WAL, busy timeout, foreign keys, ``BEGIN IMMEDIATE`` on demand;
    one shared connection for an in-memory database."""
    database = url.database or ""
    memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    if memory:
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        if not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder of store {str(url)!r}: {exc}") from exc
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy's "begin" hook emit BEGIN (pysqlite's own handling would defer it
    # and make BEGIN IMMEDIATE impossible), per the SQLAlchemy pysqlite documentation.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        for attempt in range(50):
            try:
                cursor.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError:  # pragma: no cover - creation race
                if attempt == 49:
                    raise
                time.sleep(0.1)
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(ingest.BEGIN_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


# ------------------------------------------------------------------------ queries
def _require_run(session: Session, run_id: str) -> None:
    if session.get(Run, run_id) is None:
        raise NotFoundError(f"no run with id {run_id!r}")


def _find_run(session: Session, ref: str) -> Run:
    run = session.get(Run, ref)
    if run is not None:
        return run
    latest = select(Run).order_by(Run.started_at.desc(), Run.id.desc()).limit(1)
    if "/" in ref:
        project, name = ref.split("/", 1)
        run = session.scalars(latest.where(Run.project == project, Run.name == name)).first()
        if run is not None:
            return run
    run = session.scalars(latest.where(Run.name == ref)).first()
    if run is not None:
        return run
    if len(ref) >= MIN_PREFIX:
        candidates = list(
            session.scalars(
                select(Run)
                .where(Run.id.startswith(ref, autoescape=True))
                .order_by(Run.started_at.desc())
                .limit(11)
            )
        )
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            listed = ", ".join(f"{r.id} ({r.project}/{r.name})" for r in candidates[:10]) + (
                ", …" if len(candidates) > 10 else ""
            )
            raise NotFoundError(
                f"run reference {ref!r} is ambiguous: it begins several run ids: {listed}; "
                "give more characters"
            )
    hint = "" if len(ref) >= MIN_PREFIX else f"; id prefixes need at least {MIN_PREFIX} characters"
    raise NotFoundError(
        f"no run matches {ref!r} (tried: run id, project/name, run name, id prefix){hint}"
    )


def _components_of(session: Session, run_ids: Sequence[str]) -> dict[str, list[ComponentRow]]:
    found: dict[str, list[ComponentRow]] = {}
    if not run_ids:
        return found
    rows = session.scalars(
        select(ComponentRow)
        .where(ComponentRow.run_id.in_(run_ids))
        .order_by(ComponentRow.run_id, ComponentRow.name)
    )
    for c in rows:
        found.setdefault(c.run_id, []).append(c)
    return found


def _component_totals(
    components: Iterable[ComponentRow], totals: dict[str, float]
) -> list[ComponentTotal]:
    result: list[ComponentTotal] = []
    known: set[str] = set()
    for c in components:
        known.add(c.name)
        if totals and c.name not in totals:
            continue  # measured but not charged to the run (a GPU it never used)
        energy = float(totals.get(c.name, 0.0))
        result.append(
            ComponentTotal(
                name=c.name,
                kind=c.kind,
                source=c.source,
                quality=c.quality,
                description=c.description,
                basis=c.basis,
                low_ratio=c.low_ratio,
                high_ratio=c.high_ratio,
                energy_j=energy,
                low_j=energy * c.low_ratio,
                high_j=energy * c.high_ratio,
            )
        )
    for name in sorted(set(totals) - known):
        energy = float(totals[name])
        result.append(
            ComponentTotal(
                name=name,
                kind="unknown",
                source="unknown",
                quality="estimated",
                description="not described by the run record",
                basis="",
                low_ratio=1.0,
                high_ratio=1.0,
                energy_j=energy,
                low_j=energy,
                high_j=energy,
            )
        )
    return result


def _runs_query(
    query: Select[_T],
    project: str | None,
    status: str | None,
    group: str | None,
    host: str | None,
    since: float | None,
    until: float | None,
    projects: Collection[str] | None,
) -> Select[_T]:
    """``query`` restricted to the runs the ``list_runs`` filters select."""
    if status is not None and status not in RUN_STATUSES:
        raise ValueError(f"status={status!r}: accepted: {', '.join(RUN_STATUSES)}")
    if project is not None:
        query = query.where(Run.project == project)
    if status is not None:
        query = query.where(Run.status == status)
    if group is not None:
        query = query.where(Run.group_id == group)
    if host is not None:
        query = query.where(Run.host == host)
    if since is not None:
        query = query.where(Run.started_at >= since)
    if until is not None:
        query = query.where(Run.started_at < until)
    if projects is not None:
        query = query.where(Run.project.in_(list(projects)))
    return query


def _labelled(runs: Iterable[Run], labels: Mapping[str, str]) -> list[Run]:
    wanted = dict(labels).items()
    return [r for r in runs if wanted <= dict(r.labels or {}).items()]


def _summary_fields(run: Run, components: Iterable[ComponentRow]) -> dict[str, Any]:
    comps = _component_totals(components, dict(run.totals or {}))
    end = run.ended_at
    if end is None:
        end = run.last_seen_at if run.last_seen_at is not None else run.started_at
    measured = bool(comps) and all(c.quality == "measured" for c in comps)
    return {
        "run_id": run.id,
        "project": run.project,
        "name": run.name,
        "status": run.status,
        "host": run.host,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "last_seen_at": run.last_seen_at,
        "duration_s": max(0.0, end - run.started_at),
        "energy_j": sum(c.energy_j for c in comps),
        "energy_low_j": sum(c.low_j for c in comps),
        "energy_high_j": sum(c.high_j for c in comps),
        "quality": "measured" if measured else "estimated",
        "components": tuple(comps),
        "group": run.group_id,
        "rank": run.rank,
        "local_rank": run.local_rank,
        "world_size": run.world_size,
        "node": run.node,
        "labels": dict(run.labels or {}),
    }


# ------------------------------------------------------------------------ groups
def _find_group(session: Session, ref: str) -> str:
    exact = session.scalar(select(Run.group_id).where(Run.group_id == ref).limit(1))
    if exact is not None:
        return str(exact)
    if len(ref) >= MIN_PREFIX:
        found = list(
            session.scalars(
                select(Run.group_id)
                .where(Run.group_id.startswith(ref, autoescape=True))
                .distinct()
                .limit(11)
            )
        )
        if len(found) == 1 and found[0] is not None:
            return str(found[0])
        if len(found) > 1:
            listed = ", ".join(str(g) for g in found[:10]) + (", …" if len(found) > 10 else "")
            raise NotFoundError(
                f"group reference {ref!r} is ambiguous: it begins several groups: {listed}"
            )
    try:
        run = _find_run(session, ref)
    except NotFoundError:
        run = None
    if run is not None:
        if run.group_id is None:
            raise NotFoundError(
                f"run {run.id} ({run.project}/{run.name}) is not part of a distributed run group"
            )
        return run.group_id
    raise NotFoundError(
        f"no run group matches {ref!r} (tried: group id, group id prefix, a run of the group)"
    )


def _breakdown(components: Iterable[ComponentTotal]) -> EnergyBreakdown:
    comps = list(components)
    by_kind: dict[str, float] = {}
    for c in comps:
        by_kind[c.kind] = by_kind.get(c.kind, 0.0) + c.energy_j
    measured = sum(c.energy_j for c in comps if c.quality == "measured")
    everything_measured = bool(comps) and all(c.quality == "measured" for c in comps)
    return EnergyBreakdown(
        energy_j=sum(c.energy_j for c in comps),
        energy_low_j=sum(c.low_j for c in comps),
        energy_high_j=sum(c.high_j for c in comps),
        measured_j=measured,
        estimated_j=sum(c.energy_j for c in comps if c.quality != "measured"),
        by_kind_j=dict(sorted(by_kind.items())),
        quality="measured" if everything_measured else "estimated",
    )


_HOST_KINDS = frozenset({"cpu", "ram"})


def _group_detail(group: str, ranks: list[RunSummary], runs: list[Run]) -> GroupDetail:
    warnings: list[str] = []
    by_node: dict[str, list[RunSummary]] = {}
    for r in ranks:
        by_node.setdefault(r.node or r.host or "?", []).append(r)
    nodes: list[NodeTotal] = []
    for node, members in sorted(by_node.items()):
        hosts = [m for m in members if any(c.kind in _HOST_KINDS for c in m.components)]
        if len(hosts) > 1:
            listed = ", ".join(str(m.rank) for m in hosts)
            warnings.append(
                f"node {node}: ranks {listed} all report CPU/RAM energy; it is counted "
                "more than once (runs recorded without rank election?)"
            )
        components: dict[str, float] = {}
        for m in members:
            for c in m.components:
                components[c.name] = components.get(c.name, 0.0) + c.energy_j
        nodes.append(
            NodeTotal(
                node=node,
                ranks=tuple(m.rank if m.rank is not None else -1 for m in members),
                host_rank=hosts[0].rank if hosts else None,
                components_j=dict(sorted(components.items())),
                energy=_breakdown(c for m in members for c in m.components),
            )
        )
    world = max((r.world_size or 0 for r in ranks), default=0) or len(ranks)
    present = {r.rank for r in ranks}
    missing = tuple(i for i in range(world) if i not in present)
    if missing:
        warnings.append(
            f"{len(missing)} of {world} ranks have no run in this store "
            f"({', '.join(map(str, missing[:20]))}); merge the other nodes' data folders"
        )
    statuses = {r.status for r in ranks}
    status = next((s for s in ("running", "failed", "interrupted") if s in statuses), "finished")
    started = min(r.started_at for r in ranks)
    ended = None if status == "running" else max((r.ended_at or r.started_at) for r in ranks)
    last = max((r.ended_at or r.last_seen_at or r.started_at) for r in ranks)
    return GroupDetail(
        group=group,
        project=ranks[0].project,
        launcher=runs[0].launcher,
        world_size=world,
        status=status,
        started_at=started,
        ended_at=ended,
        duration_s=max(0.0, (ended if ended is not None else last) - started),
        ranks=tuple(ranks),
        nodes=tuple(nodes),
        total=_breakdown(c for r in ranks for c in r.components),
        missing_ranks=missing,
        warnings=tuple(warnings),
    )
