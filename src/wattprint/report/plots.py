"""Matplotlib figures of stored runs: one function per kind, each returning a
``matplotlib.figure.Figure``; ``save_figure`` writes it as PNG or SVG.

Every figure says what was measured and what was estimated (estimated components are
hatched or dashed and labelled "(estimated)"), carries its units on the axes, and ends
with a footnote naming the run(s) and the sources of its figures.

Figures are built as ``Figure`` objects without ``pyplot``, so nothing here touches a
notebook's interactive backend; when ``pyplot`` was not imported yet, the Agg backend
is selected first. Importing this module imports no matplotlib.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattprint.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from wattprint.analysis.curves import EpochPoint
    from wattprint.analysis.footprint import RunFootprint
    from wattprint.analysis.prediction import Prediction
    from wattprint.analysis.returns import DiminishingReturns
    from wattprint.analysis.whatif import RegionOption
    from wattprint.store.records import ComponentTotal, RunDetail
    from wattprint.store.repository import Store

KINDS = ("timeline", "epochs", "metric", "prediction", "regions", "compare")
FORMATS = (".png", ".svg")
J_PER_KWH = 3.6e6
DPI = 110
WIDTH_IN = 9.0
_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
ESTIMATED_HATCH = "//"
HIGHLIGHT = "#d62728"


# ------------------------------------------------------------------------ helpers
@dataclass(frozen=True)
class EnergyUnit:
    """A display unit for energy: joules are divided by ``joules`` to show ``label``."""

    label: str
    joules: float


def energy_unit(largest_j: float) -> EnergyUnit:
    """kWh for runs of 0.1 kWh or more, Wh down to 0.01 Wh, joules below."""
    if largest_j >= 0.1 * J_PER_KWH:
        return EnergyUnit("kWh", J_PER_KWH)
    if largest_j >= 36.0:
        return EnergyUnit("Wh", 3600.0)
    return EnergyUnit("J", 1.0)


def time_unit(longest_s: float) -> tuple[float, str]:
    """Seconds per display unit and its label: minutes beyond 10 minutes, else seconds."""
    return (60.0, "min") if longest_s > 600 else (1.0, "s")


def _new_figure(height_in: float) -> Figure:
    if "matplotlib.pyplot" not in sys.modules:
        import matplotlib

        matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)


def _label(c: ComponentTotal) -> str:
    return f"{c.name} ({c.quality})"


def _color(i: int) -> str:
    return _COLORS[i % len(_COLORS)]


def _run_name(d: RunDetail) -> str:
    return f"{d.project}/{d.name} [{d.run_id[:8]}]"


def label_points(ax: Axes, points: Sequence[tuple[str, float, float]]) -> None:
    """Name scatter points (call it once they and their error bars are drawn). Points
    closer than a label's width (12 % of the x axis, 6 % of the y axis), such as models
    or variants that cost and score about the same, share one label listing their names
    instead of labels printed over each other."""
    if not points:
        return
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    near_x = 0.12 * abs(x1 - x0)
    near_y = 0.06 * abs(y1 - y0)
    groups: list[list[tuple[str, float, float]]] = []
    for point in points:
        for group in groups:
            _, gx, gy = group[0]
            if abs(point[1] - gx) <= near_x and abs(point[2] - gy) <= near_y:
                group.append(point)
                break
        else:
            groups.append([point])
    for group in groups:
        _, x, y = group[0]
        names = ", ".join(name for name, _, _ in group)
        ax.annotate(names, (x, y), xytext=(5, 5), textcoords="offset points", fontsize=8)


def quality_text(qualities: Sequence[tuple[str, str]], noun: str, how: str) -> str:
    """Which of the ``(name, quality)`` items were measured and which estimated, with
    ``how`` an estimate's range is shown; ``noun`` names the items when there are none."""
    estimated = [name for name, quality in qualities if quality != "measured"]
    measured = [name for name, quality in qualities if quality == "measured"]
    if not qualities:
        return f"energy: no {noun} shown"
    if not estimated:
        return "energy measured"
    text = f"energy estimated for {', '.join(estimated)} ({how})"
    return text + (f"; measured for {', '.join(measured)}" if measured else "")


def component_notes(components: Iterable[ComponentTotal]) -> list[str]:
    """Each distinct component (by name and basis) once: its quality, source, basis and,
    for an estimate with a spread, its range; what a reader needs to trust the energy."""
    seen: set[tuple[str, str]] = set()
    parts: list[str] = []
    for c in components:
        key = (c.name, c.basis)
        if key in seen:
            continue
        seen.add(key)
        spread = (
            ""
            if c.quality == "measured" or c.low_ratio == c.high_ratio
            else f", range x{c.low_ratio:g}-x{c.high_ratio:g}"
        )
        parts.append(f"{c.name} {c.quality} ({c.source}: {c.basis}{spread})")
    return parts


def _provenance(details: Sequence[RunDetail], extra: Sequence[str] = ()) -> list[str]:
    """Footnote lines: the runs, then each component's quality and basis, then extras."""
    lines = ["data: wattprint run store, " + ", ".join(_run_name(d) for d in details)]
    parts = component_notes(c for d in details for c in d.components)
    if parts:
        lines.append("; ".join(parts))
    lines.extend(extra)
    return lines


def _finish(fig: Figure, footnote: Sequence[str], title: str) -> Figure:
    """Title, wrapped footnote at the bottom, and a layout that leaves room for both."""
    import textwrap

    wrapped: list[str] = []
    for line in footnote:
        wrapped.extend(textwrap.wrap(line, width=150) or [""])
    height_in = fig.get_figheight()
    foot_in = 0.16 * len(wrapped) + 0.1
    fig.suptitle(title, fontsize=12, x=0.01, ha="left")
    fig.text(0.01, 0.01, "\n".join(wrapped), fontsize=7, color="#444444", va="bottom", ha="left")
    fig.tight_layout(rect=(0.0, min(0.5, foot_in / height_in), 1.0, 0.97))
    return fig


def _no_data(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])


def _charged(detail: RunDetail) -> list[ComponentTotal]:
    return [c for c in detail.components if c.energy_j > 0] or list(detail.components)


def _measured_first(components: Sequence[ComponentTotal]) -> list[ComponentTotal]:
    return sorted(components, key=lambda c: (c.quality != "measured", c.name))


# ----------------------------------------------------------------------- timeline
@dataclass(frozen=True)
class TimelineData:
    """Cumulative energy and mean power of each component on a common time grid
    (seconds since the run's start), from the run's stored samples."""

    times_s: tuple[float, ...]
    cumulative_j: Mapping[str, tuple[float, ...]]
    power_w: Mapping[str, tuple[float, ...]]


def timeline_data(store: Store, detail: RunDetail) -> TimelineData:
    """The run's samples on the union of their times: each component's cumulative energy
    is interpolated (0 at the start), power is its slope between grid points."""
    import numpy as np

    names = [c.name for c in _charged(detail)]
    series: dict[str, tuple[list[float], list[float]]] = {n: ([0.0], [0.0]) for n in names}
    for s in store.samples(detail.run_id):
        if s.component in series and s.t >= detail.started_at:
            ts, es = series[s.component]
            ts.append(s.t - detail.started_at)
            es.append(max(s.energy_j, es[-1]))
    grid = sorted({t for ts, _ in series.values() for t in ts})
    if len(grid) < 2:
        return TimelineData((), {}, {})
    x = np.asarray(grid)
    cumulative: dict[str, tuple[float, ...]] = {}
    power: dict[str, tuple[float, ...]] = {}
    for name, (ts, es) in series.items():
        if len(ts) < 2:
            continue
        y = np.interp(x, np.asarray(ts), np.asarray(es), right=es[-1])
        cumulative[name] = tuple(float(v) for v in y)
        slope = np.diff(y) / np.maximum(np.diff(x), 1e-9)
        power[name] = (float(slope[0]), *(float(v) for v in slope))
    return TimelineData(tuple(grid), cumulative, power)


def timeline_figure(store: Store, run_ref: str) -> Figure:
    """Power (W) and cumulative energy over the run, stacked by component; estimated
    components hatched."""
    detail = store.get_run(run_ref)
    data = timeline_data(store, detail)
    fig = _new_figure(6.0)
    ax_p, ax_e = fig.subplots(2, 1, sharex=True)
    comps = [c for c in _measured_first(_charged(detail)) if c.name in data.cumulative_j]
    if not comps:
        _no_data(ax_p, "no energy samples recorded")
        _no_data(ax_e, "no energy samples recorded")
        return _finish(fig, _provenance([detail]), f"energy over time: {_run_name(detail)}")
    total = sum(data.cumulative_j[c.name][-1] for c in comps)
    unit = energy_unit(total)
    scale, t_label = time_unit(data.times_s[-1])
    x = [t / scale for t in data.times_s]
    colors = [_color(i) for i in range(len(comps))]
    hatches = [ESTIMATED_HATCH if c.quality != "measured" else "" for c in comps]
    labels = [_label(c) for c in comps]
    ax_p.stackplot(
        x,
        [data.power_w[c.name] for c in comps],
        labels=labels,
        colors=colors,
        hatch=hatches,
        alpha=0.85,
        step="pre",
    )
    ax_p.set_ylabel("power (W)")
    ax_p.legend(loc="upper left", fontsize=8, ncols=min(4, len(comps)), framealpha=0.8)
    ax_p.set_ylim(bottom=0)
    ax_e.stackplot(
        x,
        [[v / unit.joules for v in data.cumulative_j[c.name]] for c in comps],
        colors=colors,
        hatch=hatches,
        alpha=0.85,
    )
    ax_e.set_ylabel(f"cumulative energy ({unit.label})")
    ax_e.set_xlabel(f"time since start ({t_label})")
    ax_e.set_ylim(bottom=0)
    for ax in (ax_p, ax_e):
        ax.grid(alpha=0.3)
        ax.set_xlim(x[0], x[-1])
    note = [
        f"total {total / unit.joules:.4g} {unit.label} ({detail.quality}); "
        "hatched = estimated, solid = measured; power is each component's mean between samples"
    ]
    return _finish(fig, _provenance([detail], note), f"energy over time: {_run_name(detail)}")


# ------------------------------------------------------------------------- epochs
@dataclass(frozen=True)
class EpochBar:
    """One ``epoch`` window: its energy per component and that of ``eval`` windows
    inside it."""

    index: int
    duration_s: float
    energy_j: Mapping[str, float]
    eval_j: float


def epoch_bars(store: Store, run_id: str, window: str = "epoch") -> list[EpochBar]:
    """The run's ``window`` windows in time order, with the evaluation inside each."""
    windows = store.windows(run_id)
    epochs = sorted((w for w in windows if w.name == window), key=lambda w: w.started_at)
    evals = [w for w in windows if w.name == "eval"]
    bars: list[EpochBar] = []
    for i, w in enumerate(epochs, 1):
        inside = [
            e.total_energy_j
            for e in evals
            if e.started_at >= w.started_at and e.ended_at <= w.ended_at + 1e-6
        ]
        bars.append(EpochBar(i, w.duration_s, dict(w.energy_j), float(sum(inside))))
    return bars


def epochs_figure(store: Store, run_ref: str, window: str = "epoch") -> Figure:
    """Energy of each epoch stacked by component, evaluation marked inside it."""
    detail = store.get_run(run_ref)
    bars = epoch_bars(store, detail.run_id, window)
    fig = _new_figure(4.6)
    ax = fig.subplots()
    title = f"energy per {window}: {_run_name(detail)}"
    if not bars:
        _no_data(ax, f"no '{window}' windows recorded")
        return _finish(fig, _provenance([detail]), title)
    comps = _measured_first(detail.components)
    known = {c.name for c in comps}
    unit = energy_unit(max(sum(b.energy_j.values()) for b in bars))
    x = [b.index for b in bars]
    bottom = [0.0] * len(bars)
    for i, c in enumerate(comps):
        heights = [b.energy_j.get(c.name, 0.0) / unit.joules for b in bars]
        if not any(heights):
            continue
        ax.bar(
            x,
            heights,
            bottom=bottom,
            color=_color(i),
            hatch=ESTIMATED_HATCH if c.quality != "measured" else None,
            edgecolor="white",
            label=_label(c),
            width=0.8,
        )
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    other = [sum(v for k, v in b.energy_j.items() if k not in known) / unit.joules for b in bars]
    if any(other):
        ax.bar(x, other, bottom=bottom, color="#cccccc", label="other (estimated)", width=0.8)
    if any(b.eval_j for b in bars):
        ax.bar(
            x,
            [b.eval_j / unit.joules for b in bars],
            width=0.25,
            color="none",
            edgecolor="black",
            linewidth=1.2,
            label="of which eval",
        )
    ax.set_xlabel(f"{window} (1-based)")
    ax.set_ylabel(f"energy ({unit.label})")
    if len(x) <= 30:
        ax.set_xticks(x)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), framealpha=0.8)
    total = sum(sum(b.energy_j.values()) for b in bars)
    note = [
        f"{len(bars)} {window} windows, {total / unit.joules:.4g} {unit.label} in all; "
        "hatched = estimated; eval = energy of 'eval' windows inside each epoch"
    ]
    return _finish(fig, _provenance([detail], note), title)


# ------------------------------------------------------------------------- metric
EVALUATION_PREFIXES = ("eval_", "val_", "test_")
OPTIMISER_METRICS = frozenset({"learning_rate", "lr", "grad_norm"})


def default_metric(
    points: Sequence[EpochPoint], metric: str | None, logged: Sequence[str] = ()
) -> str | None:
    """``metric`` if the run logged it per epoch (else a ``ConfigError`` listing those it
    did), or the first one it logged (in the order of ``logged``, the names as logged):
    evaluation metrics (``eval_``, ``val_``, ``test_``) first, optimiser settings and
    statistics (learning rate, gradient norm) last; ``None`` when it logged none. The live
    ``predicted_energy*`` metrics are skipped."""
    from wattprint.analysis.curves import metric_names

    per_epoch = [n for n in metric_names(points) if not n.startswith("predicted_energy")]
    rank = {n: i for i, n in reversed(list(enumerate(logged)))}

    def tier(name: str) -> int:
        if name.startswith(EVALUATION_PREFIXES):
            return 0
        return 2 if name in OPTIMISER_METRICS else 1

    names = sorted(per_epoch, key=lambda n: (tier(n), rank.get(n, len(rank)), n))
    if metric is None:
        return names[0] if names else None
    if metric not in names:
        raise ConfigError(
            f"metric {metric!r} was not logged per epoch by this run; "
            f"logged: {', '.join(names) or 'none'}"
        )
    return metric


def draw_metric(
    ax: Axes,
    points: Sequence[EpochPoint],
    metric: str,
    unit: EnergyUnit,
    returns: DiminishingReturns | None,
    *,
    color: str = _COLORS[0],
    label: str | None = None,
) -> None:
    """``metric`` against cumulative energy, with the range of the energy as error bars
    and, when given, the diminishing-returns region shaded."""
    pts = [p for p in points if metric in p.metrics]
    x = [p.cumulative_j / unit.joules for p in pts]
    y = [p.metrics[metric] for p in pts]
    xerr = [
        [max(0.0, (p.cumulative_j - p.cumulative_low_j) / unit.joules) for p in pts],
        [max(0.0, (p.cumulative_high_j - p.cumulative_j) / unit.joules) for p in pts],
    ]
    ax.errorbar(x, y, xerr=xerr, marker="o", ms=4, color=color, label=label or metric, capsize=2)
    if returns is not None and returns.epoch_within_epsilon is not None and pts:
        start = next((p for p in pts if p.index == returns.epoch_within_epsilon), None)
        if start is not None:
            ax.axvspan(
                start.cumulative_j / unit.joules,
                pts[-1].cumulative_j / unit.joules,
                color="#ff7f0e",
                alpha=0.15,
                label=(
                    f"{returns.share_after_within_epsilon:.0%} of the energy, after epoch "
                    f"{returns.epoch_within_epsilon}"
                ),
            )


def metric_figure(store: Store, run_ref: str, metric: str | None = None) -> Figure:
    """A metric against the cumulative energy spent to reach it, per epoch, with the
    diminishing returns shaded and stated."""
    from wattprint.analysis.curves import epoch_points
    from wattprint.analysis.returns import diminishing_returns

    detail = store.get_run(run_ref)
    points = epoch_points(store, detail.run_id)
    name = default_metric(points, metric, [m.name for m in store.metrics(detail.run_id)])
    fig = _new_figure(4.8)
    ax = fig.subplots()
    title = f"energy vs {name or 'metric'}: {_run_name(detail)}"
    if name is None or not points:
        _no_data(ax, "no metrics logged per epoch")
        return _finish(fig, _provenance([detail]), title)
    unit = energy_unit(points[-1].cumulative_j)
    returns: DiminishingReturns | None
    notes: list[str] = []
    try:
        returns = diminishing_returns(points, name)
    except ConfigError as exc:
        returns, notes = None, [f"no diminishing returns: {exc}"]
    draw_metric(ax, points, name, unit, returns)
    ax.set_xlabel(f"cumulative energy ({unit.label}, {detail.quality}; bars: range)")
    ax.set_ylabel(name)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best", framealpha=0.8)
    if returns is not None:
        ax.set_title(returns.sentence, fontsize=10)
        notes.append(
            f"shaded: epochs after {name} came within {returns.epsilon:.3g} of its final "
            f"value {returns.final:.4g} ({returns.goal}imised)"
        )
    return _finish(fig, _provenance([detail], notes), title)


# --------------------------------------------------------------------- prediction
@dataclass(frozen=True)
class PredictionSeries:
    """Predicted totals against the actual one. ``logged`` when the predictions were
    logged during the run (``predicted_energy_j``), else one ``predict_run`` from the
    first ``after`` epochs."""

    source: str
    epochs: tuple[int, ...]
    predicted_j: tuple[float, ...]
    low_j: tuple[float, ...]
    high_j: tuple[float, ...]
    actual_cumulative_j: tuple[float, ...]
    actual_total_j: float
    method: str
    after: int | None


def prediction_series(store: Store, run_id: str) -> PredictionSeries | None:
    """What to compare: the run's own logged predictions, else a prediction from its
    first half of its epochs (at least three); ``None`` below four epochs."""
    from wattprint.analysis.curves import epoch_points
    from wattprint.analysis.prediction import predict_run

    points = epoch_points(store, run_id)
    if not points:
        return None
    actual = tuple(p.cumulative_j for p in points)
    logged = [p for p in points if "predicted_energy_j" in p.metrics]
    if logged:
        return PredictionSeries(
            source="logged",
            epochs=tuple(p.index for p in logged),
            predicted_j=tuple(p.metrics["predicted_energy_j"] for p in logged),
            low_j=tuple(
                p.metrics.get("predicted_energy_low_j", p.metrics["predicted_energy_j"])
                for p in logged
            ),
            high_j=tuple(
                p.metrics.get("predicted_energy_high_j", p.metrics["predicted_energy_j"])
                for p in logged
            ),
            actual_cumulative_j=actual,
            actual_total_j=actual[-1],
            method="predictions logged during the run (predicted_energy_j)",
            after=None,
        )
    if len(points) < 4:
        return None
    after = max(3, len(points) // 2)
    p: Prediction = predict_run(store, run_id, len(points), after=after)
    return PredictionSeries(
        source="predicted",
        epochs=(after,),
        predicted_j=(p.energy_j,),
        low_j=(p.low_j,),
        high_j=(p.high_j,),
        actual_cumulative_j=actual,
        actual_total_j=actual[-1],
        method=p.method,
        after=after,
    )


def prediction_figure(store: Store, run_ref: str) -> Figure:
    """Predicted total energy (with its range) against the actual cumulative energy."""
    detail = store.get_run(run_ref)
    series = prediction_series(store, detail.run_id)
    fig = _new_figure(4.6)
    ax = fig.subplots()
    title = f"predicted vs actual energy: {_run_name(detail)}"
    if series is None:
        _no_data(ax, "fewer than 4 epochs and no logged predictions")
        return _finish(fig, _provenance([detail]), title)
    draw_prediction(ax, series)
    error = (series.predicted_j[-1] - series.actual_total_j) / max(series.actual_total_j, 1e-12)
    note = [
        f"prediction: {series.method}; last prediction {error:+.1%} vs the actual total "
        f"(actual: epoch windows, {detail.quality})"
    ]
    return _finish(fig, _provenance([detail], note), title)


def draw_prediction(ax: Axes, series: PredictionSeries) -> None:
    largest = max(series.actual_total_j, *series.high_j)
    unit = energy_unit(largest)
    n = len(series.actual_cumulative_j)
    epochs = list(range(1, n + 1))
    ax.plot(
        epochs,
        [v / unit.joules for v in series.actual_cumulative_j],
        marker="o",
        ms=4,
        color=_COLORS[0],
        label="actual cumulative energy",
    )
    ax.axhline(
        series.actual_total_j / unit.joules,
        color=_COLORS[0],
        linestyle=":",
        label=f"actual total {series.actual_total_j / unit.joules:.4g} {unit.label}",
    )
    x = list(series.epochs)
    y = [v / unit.joules for v in series.predicted_j]
    low = [(p - lo) / unit.joules for p, lo in zip(series.predicted_j, series.low_j, strict=True)]
    high = [(hi - p) / unit.joules for p, hi in zip(series.predicted_j, series.high_j, strict=True)]
    label = (
        "predicted total (logged, with range)"
        if series.source == "logged"
        else f"predicted total from the first {series.after} epochs (with range)"
    )
    if series.source == "predicted" and series.after is not None and series.after < n:
        start = series.actual_cumulative_j[series.after - 1] / unit.joules
        xs = [series.after, n]
        ax.fill_between(
            xs,
            [start, series.low_j[0] / unit.joules],
            [start, series.high_j[0] / unit.joules],
            color=_COLORS[1],
            alpha=0.15,
            label="predicted range",
        )
        ax.plot(xs, [start, y[0]], "--", color=_COLORS[1], linewidth=1)
        x = [n]
    ax.errorbar(
        x,
        y,
        yerr=[low, high],
        marker="s",
        ms=5,
        color=_COLORS[1],
        linestyle="--",
        capsize=3,
        label=label,
    )
    ax.set_xlabel(
        "epoch (a logged prediction is drawn at the epoch it was made)"
        if series.source == "logged"
        else "epoch"
    )
    ax.set_ylabel(f"energy ({unit.label})")
    ax.set_xlim(0.5, n + 0.5)
    ax.set_ylim(0, 1.12 * largest / unit.joules)
    if n <= 30:
        ax.set_xticks(epochs)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right", framealpha=0.8)


# ------------------------------------------------------------------------ regions
def pick_regions(
    options: Sequence[RegionOption], own: RegionOption | None, lowest: int = 10, highest: int = 4
) -> list[RegionOption]:
    """The ``lowest`` and ``highest`` options, plus the run's own, lowest first."""
    chosen = list(options[:lowest]) + list(options[max(lowest, len(options) - highest) :])
    if own is not None and all(o.code != own.code for o in chosen):
        chosen.append(own)
    return sorted(chosen, key=lambda o: o.kg)


def own_region(options: Sequence[RegionOption], footprint: RunFootprint) -> RegionOption:
    """The run's own place among ``options``, or built from its footprint."""
    from wattprint.analysis.whatif import RegionOption

    for o in options:
        if o.code == footprint.location.code:
            return o
    e = footprint.emissions
    return RegionOption(
        code=footprint.location.code,
        name=footprint.location.name,
        kg=e.kg,
        low_kg=e.low_kg,
        high_kg=e.high_kg,
        g_per_kwh=footprint.intensity.g_per_kwh,
        source=footprint.intensity.source,
        year=footprint.intensity.year,
    )


def regions_figure(
    store: Store,
    run_ref: str,
    *,
    region: str | None = None,
    pue: float | None = None,
    lowest: int = 10,
    highest: int = 4,
) -> Figure:
    """The run's operational emissions re-priced in other places (bar chart, lowest
    first), its own place highlighted."""
    from wattprint.analysis.footprint import run_footprint
    from wattprint.analysis.whatif import region_whatif

    detail = store.get_run(run_ref)
    fp = run_footprint(store, detail, region=region, pue=pue)
    options = region_whatif(store, detail.run_id, pue=fp.pue.value)
    own = own_region(options, fp)
    shown = pick_regions(options, own, lowest, highest)
    fig = _new_figure(max(3.5, 0.28 * len(shown) + 1.6))
    ax = fig.subplots()
    title = f"the same run elsewhere: {_run_name(detail)}"
    draw_regions(ax, shown, own.code)
    sources = sorted({f"{o.source} {o.year or ''}".strip() for o in shown})
    note = [
        f"operational emissions = energy ({detail.quality}) x PUE {fp.pue.value:g} x yearly "
        f"grid intensity; {len(shown)} of {len(options)} places shown (the lowest, the "
        "highest and this run's own, in red); bars: range of the sources and of estimated "
        "energy",
        "intensity sources: " + "; ".join(sources),
    ]
    return _finish(fig, _provenance([detail], note), title)


def draw_regions(ax: Axes, shown: Sequence[RegionOption], own_code: str) -> None:
    grams = [o.kg * 1000 for o in shown]
    y = list(range(len(shown)))
    colors = [HIGHLIGHT if o.code == own_code else "#7f9fbf" for o in shown]
    err = [
        [max(0.0, (o.kg - o.low_kg) * 1000) for o in shown],
        [max(0.0, (o.high_kg - o.kg) * 1000) for o in shown],
    ]
    ax.barh(y, grams, color=colors, xerr=err, error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(y, [_region_label(o) for o in shown], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("operational emissions (gCO2e)")
    ax.grid(axis="x", alpha=0.3)
    for i, (o, g) in enumerate(zip(shown, grams, strict=True)):
        right = max(g, o.high_kg * 1000)  # after the error bar, not over it
        ax.text(right, i, f"  {g:.3g} g ({o.g_per_kwh:.0f} g/kWh)", va="center", fontsize=7)
    ax.margins(x=0.3)


def _region_label(o: RegionOption, width: int = 34) -> str:
    """The code alone for cloud regions (it names them), else code and country name."""
    text = o.code if ":" in o.code else f"{o.code} ({o.name})"
    return text if len(text) <= width else text[: width - 1] + "…"


# ------------------------------------------------------------------------ compare
def compare_figure(store: Store, run_refs: Sequence[str], metric: str | None = None) -> Figure:
    """Several runs overlaid: cumulative energy vs time and vs epoch, and a metric vs
    energy when the runs logged one."""
    from wattprint.analysis.curves import epoch_points, metric_names

    if not run_refs:
        raise ConfigError("compare needs at least one run")
    details = [store.get_run(r) for r in run_refs]
    points = {d.run_id: epoch_points(store, d.run_id) for d in details}
    timelines = {d.run_id: timeline_data(store, d) for d in details}
    shared: list[str] | None = None
    for d in details:
        names = [n for n in metric_names(points[d.run_id]) if not n.startswith("predicted")]
        if names:
            shared = names if shared is None else [n for n in shared if n in names]
    if metric is not None and metric not in (shared or []):
        raise ConfigError(
            f"metric {metric!r} was not logged per epoch by every run; "
            f"logged by all: {', '.join(shared or []) or 'none'}"
        )
    name = metric or (shared[0] if shared else None)
    panels = 3 if name else 2
    fig = _new_figure(3.4 * panels)
    axes = fig.subplots(panels, 1)
    largest = max(
        [d.energy_j for d in details] + [p[-1].cumulative_j for p in points.values() if p] + [1e-9]
    )
    unit = energy_unit(largest)
    longest = max((tl.times_s[-1] for tl in timelines.values() if tl.times_s), default=0.0)
    t_scale, t_label = time_unit(longest)
    for i, d in enumerate(details):
        color, label = _color(i), f"{_run_name(d)} ({d.quality})"
        style = "-" if d.quality == "measured" else "--"
        tl = timelines[d.run_id]
        if tl.times_s:
            total = [
                sum(v[k] for v in tl.cumulative_j.values()) / unit.joules
                for k in range(len(tl.times_s))
            ]
            axes[0].plot([t / t_scale for t in tl.times_s], total, style, color=color, label=label)
        pts = points[d.run_id]
        if pts:
            axes[1].plot(
                [0, *(p.index for p in pts)],
                [0.0, *(p.cumulative_j / unit.joules for p in pts)],
                style,
                marker="o",
                ms=3,
                color=color,
                label=label,
            )
        if name and pts:
            draw_metric(axes[2], pts, name, unit, None, color=color, label=label)
    axes[0].set_xlabel(f"time since start ({t_label})")
    axes[0].set_ylabel(f"cumulative energy ({unit.label})")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel(f"cumulative energy ({unit.label})")
    if name:
        axes[2].set_xlabel(f"cumulative energy ({unit.label})")
        axes[2].set_ylabel(name)
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.has_data():
            ax.legend(fontsize=7, loc="best", framealpha=0.8)
        else:
            _no_data(ax, "no data for these runs")
    note = ["dashed lines: runs with estimated components"]
    return _finish(fig, _provenance(details, note), f"{len(details)} runs compared")


# ---------------------------------------------------------------------- dispatch
def figure(
    kind: str,
    store: Store,
    run_refs: Sequence[str],
    *,
    metric: str | None = None,
    region: str | None = None,
    pue: float | None = None,
) -> Figure:
    """The figure of ``kind`` (one of ``KINDS``); all kinds but ``compare`` take one run."""
    if kind not in KINDS:
        raise ConfigError(f"plot kind {kind!r} is not one of: {', '.join(KINDS)}")
    if kind == "compare":
        return compare_figure(store, run_refs, metric)
    if len(run_refs) != 1:
        raise ConfigError(
            f"plot kind {kind!r} takes one run, got {len(run_refs)}; use --kind compare"
        )
    ref = run_refs[0]
    makers: dict[str, Any] = {
        "timeline": lambda: timeline_figure(store, ref),
        "epochs": lambda: epochs_figure(store, ref),
        "metric": lambda: metric_figure(store, ref, metric),
        "prediction": lambda: prediction_figure(store, ref),
        "regions": lambda: regions_figure(store, ref, region=region, pue=pue),
    }
    result: Figure = makers[kind]()
    return result


def save_figure(fig: Figure, path: Path | str) -> Path:
    """Write ``fig`` as PNG or SVG, by the suffix of ``path``; returns the path."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(
            f"cannot write a figure to {str(target)!r}: accepted suffixes: {', '.join(FORMATS)}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, format=suffix[1:], dpi=DPI)
    return target


def figure_bytes(fig: Figure, fmt: str = "png") -> bytes:
    """``fig`` encoded as PNG or SVG bytes."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=DPI)
    return buffer.getvalue()
