"""Reports of stored runs as a small document model, rendered to HTML or Markdown.

``build_report`` reads the store and the analysis API and returns a ``Report``: a flat
list of blocks (headings, paragraphs, tables, images, bullet lists) with the figures
already rendered to PNG. ``html.render_html`` and ``markdown.render_markdown`` only lay
it out; ``write_document`` picks one by the output file's suffix.

Sections that a run has no data for (no epochs, no metrics, fewer than three epochs
for a prediction) are left out, not reported as errors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from wattprint.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from wattprint.analysis.curves import EpochPoint
    from wattprint.analysis.footprint import RunFootprint
    from wattprint.store.records import RunDetail
    from wattprint.store.repository import Store

REPORT_SUFFIXES = (".html", ".htm", ".md")
J_PER_KWH = 3.6e6


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str
    warning: bool = False


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class Image:
    """A rendered figure: ``key`` names its file in a Markdown report."""

    key: str
    title: str
    png: bytes
    caption: str = ""


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


Block = Heading | Paragraph | Table | Image | Bullets


@dataclass(frozen=True)
class Report:
    title: str
    run_ids: tuple[str, ...]
    blocks: tuple[Block, ...]
    generated_at: float = field(default_factory=time.time)


# ------------------------------------------------------------------------ numbers
def kwh(joules: float) -> str:
    """``0.001234 kWh (4.44 kJ)``: kWh for the bill, joules for the physicist."""
    from wattprint.report.console import energy

    return f"{joules / J_PER_KWH:.4g} kWh ({energy(joules).split(' (')[0]})"


def grams(kg: float) -> str:
    """``12.3 gCO2e`` / ``4.56 kgCO2e``."""
    if abs(kg) >= 1:
        return f"{kg:.4g} kgCO2e"
    return f"{kg * 1000:.4g} gCO2e"


def _when(ts: float | None) -> str:
    return "—" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _duration(s: float) -> str:
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


def _range(low_j: float, high_j: float, quality: str) -> str:
    if quality == "measured":
        return "measured"
    return f"{low_j / J_PER_KWH:.4g}-{high_j / J_PER_KWH:.4g} kWh"


def _image(key: str, title: str, fig: Figure, caption: str = "") -> Image:
    from wattprint.report.plots import figure_bytes

    return Image(key=key, title=title, png=figure_bytes(fig, "png"), caption=caption)


# ------------------------------------------------------------------------ summary
def _energy_table(detail: RunDetail) -> Table:
    rows = [
        (
            c.name,
            c.kind,
            c.quality,
            kwh(c.energy_j),
            _range(c.low_j, c.high_j, c.quality),
            f"{c.source}: {c.basis}",
        )
        for c in detail.components
    ]
    rows.append(
        (
            "total",
            "",
            detail.quality,
            kwh(detail.energy_j),
            _range(detail.energy_low_j, detail.energy_high_j, detail.quality),
            "",
        )
    )
    return Table(
        ("component", "kind", "quality", "energy", "range", "basis"),
        tuple(rows),
        "energy charged to the run by component; estimates carry a range",
    )


def _emissions_blocks(detail: RunDetail, fp: RunFootprint) -> list[Block]:
    e, emb, i = fp.emissions, fp.embodied, fp.intensity
    table = Table(
        ("emissions", "value", "range", "how"),
        (
            (
                "operational",
                grams(e.kg),
                f"{grams(e.low_kg)} - {grams(e.high_kg)}",
                f"{detail.energy_j / J_PER_KWH:.4g} kWh x PUE {fp.pue.value:g} x "
                f"{e.intensity_g_per_kwh:.4g} gCO2e/kWh ({fp.location.name})",
            ),
            (
                "embodied",
                grams(emb.kg),
                f"{grams(emb.low_kg)} - {grams(emb.high_kg)}",
                f"manufacturing amortised over the run; server share {emb.host_share:.3g} "
                f"({emb.host_share_basis})",
            ),
        ),
        "operational and embodied emissions, reported apart",
    )
    sources = [
        f"location: {fp.location.code} ({fp.location.name}), {fp.location_from}",
        f"grid intensity: {i.g_per_kwh:.4g} gCO2e/kWh, {i.source}, {i.year or 'year n/a'}; "
        f"{i.basis}",
        f"intensity over time: {fp.provider}",
        f"PUE {fp.pue.value:g}: {fp.pue.reason} ({fp.pue.source})",
    ]
    sources.extend(f"embodied: {s}" for part in emb.parts for s in part.sources)
    return [Heading("Emissions", 3), table, Bullets(tuple(sources))]


def run_warnings(store: Store, detail: RunDetail, fp: RunFootprint) -> list[str]:
    """What a reader of the run's figures must know: pricing warnings, an unfinished run,
    and the events of its energy sources and recording."""
    found = list(fp.emissions.warnings)
    if fp.intensity.warning and fp.intensity.warning not in found:
        found.append(fp.intensity.warning)
    if detail.status != "finished":
        found.append(
            f"run status: {detail.status}" + (f" ({detail.error})" if detail.error else "")
        )
    found.extend(f"{e.source}: {e.message}" for e in store.events(detail.run_id))
    return found


# ----------------------------------------------------------------------- run part
def _run_blocks(
    store: Store,
    detail: RunDetail,
    fp: RunFootprint,
    points: Sequence[EpochPoint],
    metric: str | None,
    *,
    region: str | None,
    pue: float | None,
) -> list[Block]:
    from wattprint.analysis.recommendations import recommendations
    from wattprint.analysis.returns import diminishing_returns
    from wattprint.report import plots

    rid, key = detail.run_id, detail.run_id[:8]
    blocks: list[Block] = [
        Heading(f"{detail.project}/{detail.name}", 2),
        Paragraph(
            f"run {rid}, {detail.status}, host {detail.host or '?'}, started "
            f"{_when(detail.started_at)}, duration {_duration(detail.duration_s)}"
            + (f", command `{detail.command}`" if detail.command else "")
            + (f", git {detail.git_commit[:12]}" if detail.git_commit else "")
        ),
        Heading("Energy", 3),
        _energy_table(detail),
    ]
    blocks.extend(_emissions_blocks(detail, fp))
    warnings = run_warnings(store, detail, fp)
    if warnings:
        blocks.append(Heading("Warnings", 3))
        blocks.extend(Paragraph(w, warning=True) for w in warnings)
    if store.samples(rid)[:1]:
        blocks.append(Heading("Energy over time", 3))
        blocks.append(
            _image(
                f"{key}-timeline", "power and energy over time", plots.timeline_figure(store, rid)
            )
        )
    if plots.epoch_bars(store, rid):
        blocks.append(Heading("Energy per epoch", 3))
        blocks.append(_image(f"{key}-epochs", "energy per epoch", plots.epochs_figure(store, rid)))
    if points and metric is not None:
        blocks.append(Heading(f"Energy vs {metric}", 3))
        try:
            returns = diminishing_returns(points, metric)
        except ConfigError as exc:
            blocks.append(Paragraph(f"no diminishing returns for {metric}: {exc}"))
        else:
            blocks.append(Paragraph(returns.sentence))
            reach = [
                (f"{pct} % of the final gain", "—" if j is None else kwh(j))
                for pct, j in sorted(returns.energy_to_reach_j.items())
            ]
            if reach:
                blocks.append(
                    Table(
                        ("reached", "cumulative energy"),
                        tuple(reach),
                        f"energy spent when {metric} first reached a share of its final gain",
                    )
                )
        blocks.append(
            _image(
                f"{key}-metric",
                f"energy vs {metric}",
                plots.metric_figure(store, rid, metric),
            )
        )
    series = plots.prediction_series(store, rid)
    if series is not None:
        blocks.append(Heading("Predicted vs actual energy", 3))
        error = (series.predicted_j[-1] - series.actual_total_j) / max(series.actual_total_j, 1e-12)
        blocks.append(
            Paragraph(
                f"{series.method}: predicted {kwh(series.predicted_j[-1])} "
                f"(range {kwh(series.low_j[-1])} - {kwh(series.high_j[-1])}), actual "
                f"{kwh(series.actual_total_j)}, error {error:+.1%}"
            )
        )
        blocks.append(
            _image(f"{key}-prediction", "predicted vs actual", plots.prediction_figure(store, rid))
        )
    blocks.append(Heading("The same run elsewhere", 3))
    blocks.append(
        _image(
            f"{key}-regions",
            "operational emissions by region",
            plots.regions_figure(store, rid, region=region, pue=pue),
        )
    )
    recs = recommendations(store, rid)
    blocks.append(Heading("Recommendations", 3))
    if recs:
        blocks.append(Bullets(tuple(f"{r.text}" for r in recs)))
    else:
        blocks.append(Paragraph("nothing to recommend: no finding held for this run's data"))
    return blocks


# ----------------------------------------------------------------------- compare
def _comparison(
    details: Sequence[RunDetail],
    footprints: Sequence[RunFootprint],
    points: Sequence[Sequence[EpochPoint]],
) -> Table:
    metric_cols: list[str] = []
    for pts in points:
        for p in pts[-1:]:
            metric_cols.extend(
                n for n in p.metrics if n not in metric_cols and not n.startswith("predicted")
            )
    rows: list[tuple[str, ...]] = []
    for d, fp, pts in zip(details, footprints, points, strict=True):
        last = pts[-1].metrics if pts else {}
        rows.append(
            (
                f"{d.project}/{d.name} ({d.run_id[:8]})",
                d.status,
                _duration(d.duration_s),
                kwh(d.energy_j),
                _range(d.energy_low_j, d.energy_high_j, d.quality),
                d.quality,
                grams(fp.emissions.kg),
                grams(fp.embodied.kg),
                str(len(pts)),
                *(f"{last[n]:.4g}" if n in last else "—" for n in metric_cols),
            )
        )
    return Table(
        (
            "run",
            "status",
            "duration",
            "energy",
            "range",
            "quality",
            "operational",
            "embodied",
            "epochs",
            *(f"final {n}" for n in metric_cols),
        ),
        tuple(rows),
        "runs side by side; final metrics are the last epoch's",
    )


# ------------------------------------------------------------------------ public
def build_report(
    store: Store,
    run_refs: Sequence[str],
    *,
    region: str | None = None,
    pue: float | None = None,
    metric: str | None = None,
) -> Report:
    """The report of one or several runs (``run_refs``: ids, prefixes or names)."""
    from wattprint.analysis.curves import epoch_points
    from wattprint.analysis.footprint import run_footprint
    from wattprint.report import plots

    if not run_refs:
        raise ConfigError("a report needs at least one run")
    details = [store.get_run(r) for r in run_refs]
    footprints = [run_footprint(store, d, region=region, pue=pue) for d in details]
    points = [epoch_points(store, d.run_id) for d in details]
    metrics = [
        plots.default_metric(p, metric, [m.name for m in store.metrics(d.run_id)]) if p else None
        for d, p in zip(details, points, strict=True)
    ]
    if metric is not None and not any(metrics):
        raise ConfigError(f"metric {metric!r}: none of the runs logged metrics per epoch")
    blocks: list[Block] = []
    if len(details) > 1:
        blocks.append(Heading("Comparison", 2))
        blocks.append(_comparison(details, footprints, points))
        blocks.append(
            _image(
                "compare",
                "runs compared",
                plots.compare_figure(store, [d.run_id for d in details], metric),
            )
        )
    for d, fp, pts, m in zip(details, footprints, points, metrics, strict=True):
        blocks.extend(_run_blocks(store, d, fp, pts, m, region=region, pue=pue))
    title = (
        f"wattprint report: {details[0].project}/{details[0].name}"
        if len(details) == 1
        else f"wattprint report: {len(details)} runs"
    )
    return Report(title=title, run_ids=tuple(d.run_id for d in details), blocks=tuple(blocks))


def write_document(path: Path | str, build: Callable[[], Report]) -> Path:
    """Check ``path``'s suffix, then (only then: building renders every figure) build the
    report and write it as HTML (``.html``/``.htm``, self-contained) or Markdown (``.md``,
    PNGs written beside it); returns the path written."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise ConfigError(
            f"cannot write a report to {str(target)!r}: accepted suffixes: "
            f"{', '.join(REPORT_SUFFIXES)}"
        )
    report = build()
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".md":
        from wattprint.report.markdown import write_markdown

        write_markdown(report, target)
    else:
        from wattprint.report.html import render_html

        target.write_text(render_html(report), encoding="utf-8")
    return target


def write_report(
    store: Store,
    run_refs: Sequence[str],
    path: Path | str,
    *,
    region: str | None = None,
    pue: float | None = None,
    metric: str | None = None,
) -> Path:
    """Build the report of ``run_refs`` and write it to ``path`` (see ``write_document``)."""
    return write_document(
        path, lambda: build_report(store, run_refs, region=region, pue=pue, metric=metric)
    )
