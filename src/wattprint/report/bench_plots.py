"""Matplotlib figures of a stored benchmark: every model of a suite on one figure, one
function per kind, each returning a ``Figure`` (``benchmark_figure`` dispatches).

In the style of ``report.plots``: units on the axes, estimated energy hatched (bars) or
dashed with a shaded low-high band (lines), and a footnote saying what was measured or
estimated and whether the data were synthetic. A model with no data for a figure (a run
that did not finish, no inference) is left out and named in the footnote, never drawn
as zero. Importing this module imports no matplotlib.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from wattprint.errors import ConfigError
from wattprint.report.plots import (
    ESTIMATED_HATCH,
    EnergyUnit,
    _color,
    _finish,
    _new_figure,
    _no_data,
    energy_unit,
    label_points,
    quality_text,
    time_unit,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from wattprint.bench.results import Benchmark, Energy, ModelResult

__all__ = [
    "BENCH_PLOT_KINDS",
    "SYNTHETIC_DATA",
    "THETA_RULE_OF_THUMB",
    "benchmark_figure",
    "data_text",
    "energy_figure",
    "energy_text",
    "epochs_figure",
    "inference_figure",
    "per_sample_unit",
    "quality_figure",
    "setup_text",
    "synthetic_warning",
    "theta_figure",
    "time_figure",
]

THETA_RULE_OF_THUMB = 3.0
THETA_LABEL = "≈3: forward + backward ≈ 3 forward passes (rule of thumb)"
_LOG_SPREAD = 30.0  # values spanning a wider ratio get a log axis, so small bars stay visible
_SERIES_COLORS = (_color(0), _color(1))  # training, inference in the grouped bars


# ------------------------------------------------------------------------- texts
def _distinct(values: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(values))


def setup_text(b: Benchmark) -> str:
    """Which benchmark, and where and how it ran: device(s), AMP, batch size."""
    return (
        f"benchmark {b.id} (suite {b.suite}, {len(b.models)} models): device "
        f"{_distinct(f'{m.device} ({m.device_name})' for m in b.models)}, AMP "
        f"{_distinct('on' if m.amp else 'off' for m in b.models)}, batch size "
        f"{_distinct(str(m.batch_size) for m in b.models)}"
    )


SYNTHETIC_DATA = (
    "SYNTHETIC DATA: energy and speed are real measurements of the computation, but the "
    "test metrics say nothing about quality on real data."
)


def synthetic_warning(b: Benchmark) -> str | None:
    """The warning due when any model used synthetic data, with each reason; else None."""
    by_reason: dict[str, list[str]] = {}
    for m in b.models:
        if m.synthetic_data:
            by_reason.setdefault(m.data_reason, []).append(m.model)
    if not by_reason:
        return None
    reasons = "; ".join(f"{', '.join(names)}: {why}" for why, names in by_reason.items())
    return f"{SYNTHETIC_DATA} {reasons}"


def data_text(b: Benchmark) -> str:
    """The data source of every model: the synthetic-data warning, or the real datasets."""
    warning = synthetic_warning(b)
    if warning is not None:
        return warning
    return f"data: real ({_distinct(m.dataset for m in b.models)})"


def energy_text(models: Sequence[ModelResult]) -> str:
    """Which models' energy was measured and which estimated, and how estimates are drawn."""
    return quality_text(
        [(m.model, m.quality) for m in models],
        "model",
        "hatched bars, dashed lines; whiskers and shaded bands: the low-high range of the "
        "estimated components",
    )


def per_sample_unit(largest_j: float) -> EnergyUnit:
    """J for a joule or more per sample, else mJ."""
    return EnergyUnit("J", 1.0) if largest_j >= 1.0 else EnergyUnit("mJ", 1e-3)


# ----------------------------------------------------------------------- helpers
def _shown(
    b: Benchmark, has: Callable[[ModelResult], bool], missing: str
) -> tuple[list[ModelResult], list[str]]:
    """The finished models with data for a figure, and a note for each one left out."""
    shown: list[ModelResult] = []
    left_out: list[str] = []
    for m in b.models:
        if m.status != "finished":
            left_out.append(f"{m.model} ({m.status})")
        elif not has(m):
            left_out.append(f"{m.model} ({missing})")
        else:
            shown.append(m)
    return shown, left_out


def _footnote(
    b: Benchmark, shown: Sequence[ModelResult], left_out: Sequence[str], extra: Sequence[str] = ()
) -> list[str]:
    lines = [setup_text(b), energy_text(shown), data_text(b), *extra]
    if left_out:
        lines.append("left out, no data for this figure: " + ", ".join(left_out))
    return lines


def _model_colors(b: Benchmark) -> dict[str, str]:
    """One colour per run, the same in every figure of the benchmark."""
    return {m.run_id: _color(i) for i, m in enumerate(b.models)}


def _log_if_spread(ax: Axes, values: Iterable[float], axis: str = "y") -> str:
    """A log axis when the positive ``values`` span more than ``_LOG_SPREAD``; returns
    the suffix for the axis label."""
    positive = [v for v in values if v > 0]
    if len(positive) < 2 or max(positive) / min(positive) <= _LOG_SPREAD:
        return ""
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
    return ", log scale"


def _errors(energies: Sequence[Energy], unit: EnergyUnit) -> list[list[float]]:
    """Whisker lengths below and above each value: the low-high range of the estimate."""
    return [
        [max(0.0, (e.j - e.low_j) / unit.joules) for e in energies],
        [max(0.0, (e.high_j - e.j) / unit.joules) for e in energies],
    ]


def _bars(
    ax: Axes,
    x: Sequence[float],
    energies: Sequence[Energy],
    models: Sequence[ModelResult],
    unit: EnergyUnit,
    *,
    color: str | Sequence[str],
    width: float = 0.7,
    label: str | None = None,
) -> None:
    """Energy bars with low-high whiskers, hatched where the energy was estimated."""
    ax.bar(
        x,
        [e.j / unit.joules for e in energies],
        width,
        yerr=_errors(energies, unit),
        capsize=3,
        error_kw={"elinewidth": 0.8},
        color=color,
        hatch=[ESTIMATED_HATCH if m.quality != "measured" else "" for m in models],
        edgecolor="white",
        label=label,
    )


def _model_ticks(ax: Axes, models: Sequence[ModelResult]) -> None:
    rotate = len(models) > 6
    ax.set_xticks(
        range(len(models)),
        [m.model for m in models],
        rotation=30 if rotate else 0,
        ha="right" if rotate else "center",
        fontsize=8,
    )
    ax.set_xlabel("model")


def _legend(ax: Axes, models: Sequence[ModelResult]) -> None:
    """The axes' legend, plus a hatched swatch explaining estimates when there are any."""
    from matplotlib.patches import Patch

    handles, labels = ax.get_legend_handles_labels()
    if any(m.quality != "measured" for m in models):
        handles.append(
            Patch(facecolor="#dddddd", edgecolor="white", hatch=ESTIMATED_HATCH, label="")
        )
        labels.append("estimated (whiskers: low-high range)")
    if handles:
        ax.legend(handles, labels, fontsize=8, loc="best", framealpha=0.8)


def _empty(fig: Figure, ax: Axes, b: Benchmark, left_out: Sequence[str], title: str) -> Figure:
    _no_data(ax, "no model has data for this figure")
    return _finish(fig, _footnote(b, [], left_out), title)


# ---------------------------------------------------------------------- cumulative
def _cumulative(
    ax: Axes,
    b: Benchmark,
    shown: Sequence[ModelResult],
    unit: EnergyUnit,
    x_of: Callable[[ModelResult], list[float]],
) -> None:
    """One line per model from (0, 0) through its epoch ends; estimated ones dashed, with
    the low-high band shaded."""
    colors = _model_colors(b)
    for m in shown:
        x = [0.0, *x_of(m)]
        color = colors[m.run_id]
        estimated = m.quality != "measured"
        ax.plot(
            x,
            [0.0, *(p.cumulative_j / unit.joules for p in m.epochs)],
            "--" if estimated else "-",
            marker="o",
            ms=3,
            color=color,
            label=f"{m.model} ({m.quality})",
        )
        if estimated:
            ax.fill_between(
                x,
                [0.0, *(p.cumulative_low_j / unit.joules for p in m.epochs)],
                [0.0, *(p.cumulative_high_j / unit.joules for p in m.epochs)],
                color=color,
                alpha=0.12,
            )
    ax.set_ylabel(f"cumulative training energy ({unit.label})")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", framealpha=0.8)


def epochs_figure(b: Benchmark) -> Figure:
    """Cumulative training energy against epochs, one line per model."""
    from matplotlib.ticker import MaxNLocator

    shown, left_out = _shown(b, lambda m: bool(m.epochs), "no epoch recorded")
    fig = _new_figure(4.6)
    ax = fig.subplots()
    title = f"training energy by epoch: {b.id}"
    if not shown:
        return _empty(fig, ax, b, left_out, title)
    unit = energy_unit(max(m.epochs[-1].cumulative_j for m in shown))
    _cumulative(ax, b, shown, unit, lambda m: [float(p.index) for p in m.epochs])
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    note = ["training energy: the 'epoch' windows (evaluation after each epoch not counted)"]
    return _finish(fig, _footnote(b, shown, left_out, note), title)


def time_figure(b: Benchmark) -> Figure:
    """Cumulative training energy against wall-clock time since each model's first epoch
    started, one line per model, a point at each epoch's end."""
    shown, left_out = _shown(b, lambda m: bool(m.epochs), "no epoch recorded")
    fig = _new_figure(4.6)
    ax = fig.subplots()
    title = f"training energy over time: {b.id}"
    if not shown:
        return _empty(fig, ax, b, left_out, title)
    unit = energy_unit(max(m.epochs[-1].cumulative_j for m in shown))
    scale, label = time_unit(max(m.epochs[-1].end - m.epochs[0].start for m in shown))
    _cumulative(
        ax, b, shown, unit, lambda m: [(p.end - m.epochs[0].start) / scale for p in m.epochs]
    )
    ax.set_xlabel(f"wall-clock time since the model's first epoch started ({label})")
    note = [
        "points at epoch ends; the time includes the evaluation after each epoch, whose "
        "energy is not counted as training"
    ]
    return _finish(fig, _footnote(b, shown, left_out, note), title)


# ---------------------------------------------------------------------------- bars
def energy_figure(b: Benchmark) -> Figure:
    """Training energy per model beside the inference energy of its whole test split."""
    shown, left_out = _shown(b, lambda m: m.train_energy is not None, "no training energy")
    fig = _new_figure(4.6)
    ax = fig.subplots()
    title = f"training and inference energy per model: {b.id}"
    if not shown:
        return _empty(fig, ax, b, left_out, title)
    train = [m.train_energy for m in shown if m.train_energy is not None]
    served = [(i, m, m.inference_energy) for i, m in enumerate(shown) if m.inference_energy]
    unit = energy_unit(max(e.j for e in train))
    width = 0.38
    _bars(
        ax,
        [i - width / 2 for i in range(len(shown))],
        train,
        shown,
        unit,
        color=_SERIES_COLORS[0],
        width=width,
        label="training (all epochs)",
    )
    if served:
        _bars(
            ax,
            [i + width / 2 for i, _, _ in served],
            [e for _, _, e in served],
            [m for _, m, _ in served],
            unit,
            color=_SERIES_COLORS[1],
            width=width,
            label="inference (whole test split)",
        )
    scale = _log_if_spread(ax, [e.j for e in train] + [e.j for _, _, e in served])
    ax.set_ylabel(f"energy ({unit.label}{scale})")
    _model_ticks(ax, shown)
    ax.grid(axis="y", alpha=0.3)
    _legend(ax, shown)
    note = [
        "training: the 'epoch' windows; inference: one pass over the test split in "
        "'inference_batch' windows, warm-up excluded"
    ]
    no_inference = [m.model for m in shown if m.inference_energy is None]
    if no_inference:
        note.append(f"no inference bar (nothing measured): {', '.join(no_inference)}")
    return _finish(fig, _footnote(b, shown, left_out, note), title)


def inference_figure(b: Benchmark) -> Figure:
    """Energy per inference sample, one bar per model."""
    shown, left_out = _shown(b, lambda m: m.inference_energy_per_sample is not None, "no inference")
    fig = _new_figure(4.6)
    ax = fig.subplots()
    title = f"inference energy per sample: {b.id}"
    if not shown:
        return _empty(fig, ax, b, left_out, title)
    per_sample = [e for m in shown if (e := m.inference_energy_per_sample) is not None]
    unit = per_sample_unit(max(e.j for e in per_sample))
    colors = _model_colors(b)
    _bars(ax, range(len(shown)), per_sample, shown, unit, color=[colors[m.run_id] for m in shown])
    scale = _log_if_spread(ax, [e.j for e in per_sample])
    ax.set_ylabel(f"energy per inference sample ({unit.label}{scale})")
    _model_ticks(ax, shown)
    ax.grid(axis="y", alpha=0.3)
    _legend(ax, shown)
    note = [
        "inference energy of the test split ('inference_batch' windows, warm-up excluded) "
        "divided by its samples; batch sizes as in the first line"
    ]
    return _finish(fig, _footnote(b, shown, left_out, note), title)


def theta_figure(b: Benchmark) -> Figure:
    """The training overhead θ of each model against the rule of thumb θ ≈ 3."""
    shown, left_out = _shown(b, lambda m: m.theta is not None, "no θ: no training or inference")
    fig = _new_figure(4.6)
    ax = fig.subplots()
    title = f"training overhead θ: {b.id}"
    if not shown:
        return _empty(fig, ax, b, left_out, title)
    thetas = [t for m in shown if (t := m.theta) is not None]
    colors = _model_colors(b)
    bars = ax.bar(range(len(shown)), thetas, 0.7, color=[colors[m.run_id] for m in shown])
    ax.bar_label(bars, labels=[f"{t:.3g}" for t in thetas], fontsize=8, padding=2)
    ax.axhline(THETA_RULE_OF_THUMB, color="#444444", linestyle="--", label=THETA_LABEL)
    scale = _log_if_spread(ax, [*thetas, THETA_RULE_OF_THUMB])
    if not scale:  # room above the tallest bar for its value and the legend
        ax.set_ylim(0, 1.3 * max(*thetas, THETA_RULE_OF_THUMB))
    ax.set_ylabel(f"θ (dimensionless{scale})")
    _model_ticks(ax, shown)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="best", framealpha=0.8)
    note = [
        "θ = training energy per sample per epoch / inference energy per sample, the factor "
        "of the life-cycle model T ≈ E·D·I·θ; no range drawn: both energies come from the "
        "same components, so a common error in an estimated constant cancels"
    ]
    return _finish(fig, _footnote(b, shown, left_out, note), title)


# ------------------------------------------------------------------------ quality
def quality_figure(b: Benchmark) -> Figure:
    """Final test metric against training energy, one labelled point per model; one
    panel per metric when the suite mixes them."""
    shown, left_out = _shown(
        b,
        lambda m: m.final_quality is not None and m.train_energy is not None,
        "no test metric or training energy",
    )
    groups: dict[tuple[str, bool], list[ModelResult]] = {}
    for m in shown:
        groups.setdefault((m.metric, m.higher_is_better), []).append(m)
    fig = _new_figure(4.8)
    axes = fig.subplots(1, max(1, len(groups)), squeeze=False)[0]
    title = f"test quality vs training energy: {b.id}"
    if not shown:
        return _empty(fig, axes[0], b, left_out, title)
    unit = energy_unit(max(m.train_energy.j for m in shown if m.train_energy is not None))
    colors = _model_colors(b)
    for ax, ((metric, higher), models) in zip(axes, groups.items(), strict=True):
        points = [
            (m, e, q)
            for m in models
            if (e := m.train_energy) is not None and (q := m.final_quality) is not None
        ]
        energies = [e for _, e, _ in points]
        for (m, e, q), low, high in zip(points, *_errors(energies, unit), strict=True):
            ax.errorbar(
                [e.j / unit.joules],
                [q],
                xerr=[[low], [high]],
                fmt="o",
                ms=6,
                capsize=3,
                color=colors[m.run_id],
                label=f"{m.model} ({m.quality})",
            )
        label_points(ax, [(m.model, e.j / unit.joules, q) for m, e, q in points])
        scale = _log_if_spread(ax, [e.j for e in energies], axis="x")
        ax.set_xlabel(f"training energy ({unit.label}{scale}; bars: range)")
        ax.set_ylabel(f"test {metric} ({'higher' if higher else 'lower'} is better)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="best", framealpha=0.8)
    note = ["test metric: scored over the whole test split after training"]
    return _finish(fig, _footnote(b, shown, left_out, note), title)


# ----------------------------------------------------------------------- dispatch
_MAKERS: dict[str, Callable[[Benchmark], Figure]] = {
    "epochs": epochs_figure,
    "time": time_figure,
    "energy": energy_figure,
    "inference": inference_figure,
    "theta": theta_figure,
    "quality": quality_figure,
}
BENCH_PLOT_KINDS = tuple(_MAKERS)


def benchmark_figure(kind: str, b: Benchmark) -> Figure:
    """The figure of ``kind`` (one of ``BENCH_PLOT_KINDS``) for benchmark ``b``."""
    maker = _MAKERS.get(kind)
    if maker is None:
        raise ConfigError(
            f"benchmark plot kind {kind!r} is not one of: {', '.join(BENCH_PLOT_KINDS)}"
        )
    return maker(b)
