"""The scaling experiments shown: a four-panel figure, report blocks and terminal tables.

Panels: training energy by depth at equal parameters, dense against convolutional at
equal parameters, and training energy against samples seen and against epochs with
their least-squares lines and R². Tables add the quality each run reached and the
training overhead θ (training energy per sample over inference energy per sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table as RichTable

from wattprint.report.plots import (
    ESTIMATED_HATCH,
    _color,
    _finish,
    _new_figure,
    _no_data,
    energy_unit,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from wattprint.bench.linearity import LinearFit, ScalingAnalysis
    from wattprint.bench.results import ModelResult
    from wattprint.report.build import Block

__all__ = ["fit_sentence", "scaling_blocks", "scaling_figure", "scaling_rows", "scaling_tables"]

_TITLES = {
    "deep_vs_wide": "deep vs wide MLPs at equal parameter count (input pooled to 8x8)",
    "dense_vs_conv": "dense vs convolutional at equal parameter count",
    "data_size": "training-set size sweep",
    "epochs": "epochs sweep",
    "pretrained": "pretrained vs from scratch",
}
_COLUMNS = (
    "experiment",
    "value",
    "model",
    "params",
    "samples seen",
    "training energy",
    "quality",
    "θ",
    "overhead share",
)


def fit_sentence(fit: LinearFit | None, what: str) -> str:
    """One line saying how straight the line of energy against ``what`` (singular) is."""
    if fit is None:
        return f"energy vs {what}s: not enough distinct points to fit a line"
    return (
        f"energy vs {what}s: {fit.slope:.4g} J per {what} "
        f"(intercept {fit.intercept:.4g} J), R² = {fit.r2:.3f} over {fit.n} runs"
    )


def _energy(m: ModelResult) -> str:
    e = m.train_energy
    if e is None:
        return "—"
    if m.quality == "measured":
        return f"{e.j:.4g} J (measured)"
    return f"{e.j:.4g} J ({e.low_j:.3g}-{e.high_j:.3g}, estimated)"


def scaling_rows(analysis: ScalingAnalysis) -> list[tuple[str, ...]]:
    """One row per finished run, experiment by experiment."""
    rows: list[tuple[str, ...]] = []
    for experiment in _TITLES:
        for m in analysis.runs(experiment):
            seen = m.train_samples * len(m.epochs) if m.train_samples is not None else None
            quality = "—" if m.final_quality is None else f"{m.metric} {m.final_quality:.3f}"
            rows.append(
                (
                    experiment,
                    f"{m.labels.get('variable', '')}={m.labels.get('value', '')}",
                    m.model,
                    "—" if m.params is None else f"{m.params:,}",
                    "—" if seen is None else f"{seen:,}",
                    _energy(m),
                    quality,
                    "—" if m.theta is None else f"{m.theta:.2f}",
                    "—" if m.overhead_share is None else f"{m.overhead_share:.0%}",
                )
            )
    return rows


def _notes(analysis: ScalingAnalysis) -> list[str]:
    b = analysis.benchmark
    notes = [
        fit_sentence(analysis.epochs_fit, "epoch"),
        fit_sentence(analysis.samples_fit, "sample"),
        "θ = training energy per sample per epoch / inference energy per sample; overhead "
        "share = 1 - 1/θ, the part of training energy beyond a plain forward pass",
        f"energy {b.quality}"
        + ("" if b.quality == "measured" else " (ranges from the estimated components)"),
    ]
    if not analysis.runs("pretrained"):
        notes.append(
            "pretrained vs scratch not run: no local torchvision weights were found "
            "(nothing is downloaded)"
        )
    if b.synthetic_data:
        reasons = sorted({m.data_reason for m in b.models if m.synthetic_data})
        notes.append("SYNTHETIC DATA: " + "; ".join(reasons))
    return notes


def scaling_tables(analysis: ScalingAnalysis) -> RenderableType:
    """The runs and the fits for the terminal."""
    table = RichTable(title=f"scaling experiments: {analysis.benchmark.id}", title_justify="left")
    for col in _COLUMNS:
        table.add_column(col)
    for row in scaling_rows(analysis):
        table.add_row(*row)
    return Group(table, *_notes(analysis))


def scaling_blocks(analysis: ScalingAnalysis) -> list[Block]:
    """The scaling section of a benchmark report."""
    from wattprint.report.build import Bullets, Heading, Table, _image

    return [
        Heading("Scaling experiments", 2),
        Bullets(tuple(_notes(analysis))),
        Table(_COLUMNS, tuple(scaling_rows(analysis)), "one row per run"),
        _image("scaling", "scaling experiments", scaling_figure(analysis)),
    ]


def _bars(ax: Axes, runs: Sequence[ModelResult], title: str) -> None:
    usable = [m for m in runs if m.train_energy is not None]
    if not usable:
        _no_data(ax, "no runs")
        ax.set_title(title, fontsize=9)
        return
    energies = [m.train_energy for m in usable if m.train_energy is not None]
    unit = energy_unit(max(e.high_j for e in energies))
    labels = [f"{m.labels.get('value', '?')}\n{m.model.removesuffix('_pool4')}" for m in usable]
    heights = [e.j / unit.joules for e in energies]
    low = [(e.j - e.low_j) / unit.joules for e in energies]
    high = [(e.high_j - e.j) / unit.joules for e in energies]
    bars = ax.bar(
        labels,
        heights,
        yerr=[low, high],
        capsize=3,
        color=[_color(i) for i in range(len(usable))],
        hatch=[ESTIMATED_HATCH if m.quality != "measured" else "" for m in usable],
        edgecolor="white",
    )
    for bar, m in zip(bars, usable, strict=True):
        if m.final_quality is not None:
            ax.annotate(
                f"{m.metric} {m.final_quality:.2f}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.set_ylabel(f"training energy ({unit.label})")
    ax.set_title(title, fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="y", alpha=0.3)


def _sweep(ax: Axes, runs: Sequence[ModelResult], fit: LinearFit | None, x: str, per: str) -> None:
    points = [
        (len(m.epochs) if x == "epochs" else m.train_samples * len(m.epochs), m.train_energy.j)
        for m in runs
        if m.train_energy is not None and m.train_samples is not None
    ]
    ax.set_title(f"training energy vs {x}", fontsize=9)
    if not points:
        _no_data(ax, "no runs")
        return
    ax.scatter([p[0] for p in points], [p[1] for p in points], color=_color(0), zorder=3)
    if fit is not None:
        xs = [min(p[0] for p in points), max(p[0] for p in points)]
        ax.plot(
            xs,
            [fit.slope * v + fit.intercept for v in xs],
            color=_color(3),
            linestyle="--",
            label=f"fit: {fit.slope:.3g} J per {per}, R²={fit.r2:.3f}",
        )
        ax.legend(fontsize=7, loc="upper left")
    ax.set_xlabel(x)
    ax.set_ylabel("training energy (J)")
    ax.grid(alpha=0.3)


def scaling_figure(analysis: ScalingAnalysis) -> Figure:
    """Four panels: depth, layer type, data size and epochs against training energy."""
    fig = _new_figure(7.5)
    axes = fig.subplots(2, 2)
    _bars(axes[0][0], analysis.runs("deep_vs_wide"), _TITLES["deep_vs_wide"])
    _bars(axes[0][1], analysis.runs("dense_vs_conv"), _TITLES["dense_vs_conv"])
    sweep = analysis.runs("data_size") + analysis.runs("epochs")
    _sweep(axes[1][0], sweep, analysis.samples_fit, "samples seen", "sample")
    _sweep(axes[1][1], analysis.runs("epochs"), analysis.epochs_fit, "epochs", "epoch")
    b = analysis.benchmark
    foot = [
        f"benchmark {b.id}; energy {b.quality} (hatched bars and whiskers: estimated, with "
        "their range); bars are annotated with the test metric reached",
        *(n for n in _notes(analysis) if n.startswith("SYNTHETIC")),
    ]
    return _finish(fig, foot, "scaling experiments")
