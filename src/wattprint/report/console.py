"""Rich renderings of runs and energy sources for the terminal.

Every energy figure is shown with whether it was measured or estimated, the basis of
its constants and, for estimates, its range.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

J_PER_WH = 3600.0


def energy(joules: float | None) -> str:
    """``12.3 kJ (3.42 Wh)``: SI joules plus watt-hours, the unit of electricity bills."""
    if joules is None:
        return "—"
    for factor, unit in ((1e9, "GJ"), (1e6, "MJ"), (1e3, "kJ")):
        if abs(joules) >= factor:
            return f"{joules / factor:.3g} {unit} ({joules / J_PER_WH:.3g} Wh)"
    return f"{joules:.3g} J ({joules / J_PER_WH:.3g} Wh)"


def energy_range(low: float | None, high: float | None, quality: str) -> str:
    if quality == "measured" or low is None or high is None:
        return ""
    if abs(high - low) < 1e-9 * max(abs(high), 1.0):
        return "no range: single reference figure"
    return f"{low / J_PER_WH:.3g}-{high / J_PER_WH:.3g} Wh"


def _when(ts: float | None) -> str:
    return "—" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _seconds(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s:.2f} s" if s < 120 else f"{s / 60:.1f} min"


def runs_table(runs: Sequence[Any]) -> RenderableType:
    """One line per run, newest first."""
    if not runs:
        return Text("no runs yet: try `wattprint demo` or `wattprint run -- python train.py`")
    table = Table(title="runs", title_justify="left")
    for col in ("id", "project", "run", "status", "started", "duration", "energy", "quality"):
        table.add_column(col, no_wrap=col in ("id", "started"))
    for r in runs:
        table.add_row(
            r.run_id[:8],
            r.project,
            r.name,
            r.status,
            _when(r.started_at),
            _seconds(r.duration_s),
            energy(r.energy_j),
            r.quality,
        )
    return table


def _job_duration(job: Any) -> str:
    if job.started_at is None:
        return "—"
    end = job.ended_at if job.ended_at is not None else job.heartbeat_at
    return _seconds(max(0.0, (end or job.started_at) - job.started_at))


def jobs_table(jobs: Sequence[Any]) -> RenderableType:
    """One line per job, newest first."""
    if not jobs:
        return Text("no jobs: wattprint jobs submit --spec job.yaml")
    table = Table(title="jobs", title_justify="left")
    for col in ("id", "kind", "project", "executor", "state", "created", "duration", "runs"):
        table.add_column(col, no_wrap=col in ("id", "kind", "state", "created"))
    for j in jobs:
        executor = f"slurm {j.slurm_job_id}" if j.slurm_job_id else j.executor
        table.add_row(
            str(j.id),
            j.kind,
            j.project,
            executor,
            j.state,
            _when(j.created_at),
            _job_duration(j),
            str(len(j.run_ids)),
        )
    return table


def job_report(job: Any, log_tail: str) -> RenderableType:
    """A job: its state and times, where it ran, its runs, its error, its log's tail."""
    table = Table(title=f"job {job.id}", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    where = f"{job.host or '—'} pid {job.pid}" if job.pid is not None else (job.host or "—")
    rows = [
        ("kind", job.kind),
        ("project", job.project),
        (
            "executor",
            job.executor + (f" (SLURM job {job.slurm_job_id})" if job.slurm_job_id else ""),
        ),
        ("state", job.state),
        ("created", _when(job.created_at)),
        ("started", _when(job.started_at)),
        ("ended", _when(job.ended_at)),
        ("duration", _job_duration(job)),
        ("where", where),
        ("runs", ", ".join(job.run_ids) or "—"),
        ("log", job.log_path or "—"),
    ]
    for name, value in rows:
        table.add_row(name, Text(value))
    parts: list[RenderableType] = [table]
    if job.error:
        parts.append(Text(f"error: {job.error}", style="red"))
    if log_tail:
        parts.append(Text("last lines of the log:", style="bold"))
        parts.append(Text(log_tail.rstrip()))
    return Group(*parts)


def _components_table(detail: Any) -> RenderableType:
    table = Table(title="energy by component", title_justify="left")
    for col in ("component", "source", "quality", "energy", "range (estimates)"):
        table.add_column(col)
    for c in detail.components:
        table.add_row(
            c.name,
            c.source,
            c.quality,
            energy(c.energy_j),
            energy_range(c.low_j, c.high_j, c.quality),
        )
    table.add_row(
        Text("total", style="bold"),
        "",
        detail.quality,
        Text(energy(detail.energy_j), style="bold"),
        energy_range(detail.energy_low_j, detail.energy_high_j, detail.quality),
    )
    notes = Text()
    for c in detail.components:
        notes.append(f"{c.name}", style="bold")
        notes.append(f" ({c.description}): {c.basis}\n", style="dim")
    return Group(table, notes)


def run_summary(detail: Any) -> RenderableType:
    """Header and per-component energy of one run."""
    head = Text()
    head.append(f"{detail.project}/{detail.name}", style="bold")
    head.append(f"  {detail.run_id}  {detail.status}\n")
    head.append(f"host {detail.host}  started {_when(detail.started_at)}  ")
    head.append(f"duration {_seconds(detail.duration_s)}\n")
    if detail.command:
        head.append(f"command {detail.command}\n")
    if detail.git_commit:
        head.append(f"git {detail.git_commit[:12]}\n")
    if detail.error:
        head.append(f"error {detail.error}\n", style="red")
    return Group(head, _components_table(detail))


def run_report(
    detail: Any, windows: Sequence[Any], metrics: Sequence[Any], events: Sequence[Any]
) -> RenderableType:
    """Everything about a run: summary, windows (grouped and, if few, one by one),
    logged metrics and energy-source events."""
    parts: list[RenderableType] = [run_summary(detail)]
    if windows:
        parts.append(_windows_table(windows))
    if metrics:
        parts.append(_metrics_table(metrics))
    for e in events:
        parts.append(Text(f"! {e.source}: {e.message}", style="yellow"))
    return Group(*parts)


def _windows_table(windows: Sequence[Any]) -> Table:
    by_name: dict[str, list[Any]] = defaultdict(list)
    for w in windows:
        by_name[w.name].append(w)
    few = len(windows) <= 30
    table = Table(title="windows", title_justify="left")
    for col in ("window", "#", "duration", "energy", "mean power"):
        table.add_column(col)
    for name, group in by_name.items():
        rows = list(enumerate(group, 1)) if few else [(len(group), None)]
        for index, w in rows:
            items = [w] if w is not None else group
            duration = sum(i.duration_s for i in items)
            joules = sum(i.total_energy_j for i in items)
            label = str(index) if w is not None else f"{index} windows"
            power = f"{joules / duration:.3g} W" if duration > 0 else "—"
            table.add_row(name, label, _seconds(duration), energy(joules), power)
    return table


#: Beyond this many metric names a step-by-name grid no longer fits a terminal.
_WIDE_METRICS = 6


def _metrics_table(metrics: Sequence[Any]) -> Table:
    """Steps as rows and names as columns; with many names, one row per name instead
    (its last value, at which step, and how many values were logged)."""
    names = sorted({m.name for m in metrics})
    table = Table(title="metrics", title_justify="left")
    if len(names) > _WIDE_METRICS:
        last: dict[str, Any] = {}
        counts: dict[str, int] = defaultdict(int)
        for m in metrics:
            last[m.name] = m
            counts[m.name] += 1
        for col in ("metric", "last value", "at step", "values"):
            table.add_column(col)
        for n in names:
            step = last[n].step
            table.add_row(
                n, _number(last[n].value), "—" if step is None else str(step), str(counts[n])
            )
        return table
    by_step: dict[Any, dict[str, float | None]] = defaultdict(dict)
    for m in metrics:
        by_step[m.step][m.name] = m.value
    table.add_column("step")
    for n in names:
        table.add_column(n)
    for step, values in list(by_step.items())[-30:]:
        table.add_row(str(step), *(_number(values.get(n, "")) for n in names))
    return table


def mass(kg: float) -> str:
    """``12.3 g CO2e`` / ``4.56 kg CO2e`` / ``7.8 t CO2e``."""
    if abs(kg) >= 1000:
        return f"{kg / 1000:.3g} t CO2e"
    if abs(kg) >= 1:
        return f"{kg:.3g} kg CO2e"
    if abs(kg) >= 1e-3:
        return f"{kg * 1000:.3g} g CO2e"
    return f"{kg * 1e6:.3g} mg CO2e"


def footprint_report(fp: Any, detail: Any, explain: bool = False) -> RenderableType:
    """Operational emissions of a run with their range and, with ``explain``, the whole
    derivation: formula, figures, sources and years."""
    e = fp.emissions
    text = Text()
    text.append("operational emissions ", style="bold")
    text.append(mass(e.kg), style="bold")
    text.append(f"  (range {mass(e.low_kg)} - {mass(e.high_kg)}; energy {detail.quality})\n")
    text.append(
        f"= {detail.energy_j / 3.6e6:.4g} kWh x PUE {fp.pue.value:g} x "
        f"{e.intensity_g_per_kwh:.4g} gCO2e/kWh ({fp.location.name})\n"
    )
    emb = fp.embodied
    text.append("embodied emissions ", style="bold")
    text.append(
        f"{mass(emb.kg)} (range {mass(emb.low_kg)} - {mass(emb.high_kg)}), reported apart: "
        f"manufacturing amortised over the run; server share {emb.host_share:.3g} "
        f"({emb.host_share_basis})\n"
    )
    for warning in e.warnings:
        text.append(f"! {warning}\n", style="yellow")
    if fp.intensity.warning and fp.intensity.warning not in e.warnings:
        text.append(f"! {fp.intensity.warning}\n", style="yellow")
    if explain:
        i = fp.intensity
        text.append("how it was computed\n", style="bold")
        text.append(
            "  operational CO2e = sum over sample intervals of energy x PUE x intensity(t)\n"
        )
        text.append(f"  location: {fp.location.code} ({fp.location.name}), {fp.location_from}\n")
        text.append(
            f"  intensity: {i.g_per_kwh:.4g} g/kWh (sources span {i.low_g_per_kwh:.4g}-"
            f"{i.high_g_per_kwh:.4g}), {i.source}, {i.year or 'year n/a'}; {i.basis}\n"
        )
        text.append(f"  intensity over time: {fp.provider}\n")
        text.append(f"  PUE {fp.pue.value:g}: {fp.pue.reason} ({fp.pue.source})\n")
        text.append(f"  facility energy: {e.energy_kwh:.4g} kWh\n")
        for c in detail.components:
            text.append(f"  {c.name}: {c.quality}; {c.basis}\n")
        for part in emb.parts:
            for source in part.sources:
                text.append(f"  embodied: {source}\n")
    return text


def regions_table(found: Sequence[tuple[Any, Any]]) -> RenderableType:
    """Locations with their yearly intensity, the sources' spread, source and year."""
    if not found:
        return Text("no location matches")
    table = Table(title=f"{len(found)} locations", title_justify="left")
    for col in ("code", "name", "kind", "gCO2e/kWh", "range", "year", "source"):
        table.add_column(col, overflow="fold", no_wrap=col in ("code", "gCO2e/kWh"))
    for loc, i in found:
        spread = (
            ""
            if i.low_g_per_kwh == i.high_g_per_kwh
            else f"{i.low_g_per_kwh:.4g}-{i.high_g_per_kwh:.4g}"
        )
        table.add_row(
            loc.code, loc.name, loc.kind, f"{i.g_per_kwh:.4g}", spread, str(i.year or ""), i.source
        )
    return table


def _number(value: float | str | None) -> str:
    if value is None:
        return "not finite"
    return value if isinstance(value, str) else f"{value:.4g}"


def hardware_table(statuses: Sequence[Any], inventory: dict[str, Any]) -> RenderableType:
    """Every energy source: used or not, measured or estimated, and why."""
    table = Table(title="energy sources on this machine", title_justify="left")
    for col in ("source", "used", "quality", "why"):
        table.add_column(col, overflow="fold")
    for s in statuses:
        table.add_row(
            s.source,
            "yes" if s.available else "no",
            s.quality or "—",
            s.reason,
        )
    cpu = inventory.get("cpu", {})
    line = Text(f"CPU {cpu.get('model', '?')}, {cpu.get('logical_cpus', '?')} logical CPUs")
    return Group(table, line)
