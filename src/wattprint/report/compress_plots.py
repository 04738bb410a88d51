"""The Pareto figure of a compression comparison, and the texts its table shares.

Energy per inference sample (x) against the test metric (y), one labelled point per
variant with the low-high range of an estimated energy as horizontal error bars. The
Pareto front (the variants that no other variant beats on both energy and metric,
respecting whether the metric is better high or low) is drawn as a step line through
its highlighted points. In the style of ``report.plots``: units on the axes, a footnote
saying what was measured or estimated, on which data and device. Importing this module
imports no matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from wattprint.report.bench_plots import (
    SYNTHETIC_DATA,
    _errors,
    _log_if_spread,
    per_sample_unit,
)
from wattprint.report.plots import (
    HIGHLIGHT,
    _color,
    _finish,
    _new_figure,
    _no_data,
    label_points,
    quality_text,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from wattprint.compress.results import Comparison, VariantResult

__all__ = [
    "data_text",
    "energy_text",
    "notes",
    "pareto_figure",
    "pareto_front",
    "setup_text",
    "synthetic_warning",
]


# ------------------------------------------------------------------------- texts
def setup_text(c: Comparison) -> str:
    """Which comparison, where the original came from, and where it was measured."""
    devices = ", ".join(dict.fromkeys(f"{v.device} ({v.device_name})" for v in c.variants))
    return (
        f"comparison {c.id}: {c.model}, {c.source}; batch size {c.batch_size}; measured on "
        f"{devices or c.requested_device}"
    )


def synthetic_warning(c: Comparison) -> str | None:
    """The warning due when the test data were synthetic, with the reason; else None."""
    return f"{SYNTHETIC_DATA} {c.data_reason}" if c.synthetic_data else None


def data_text(c: Comparison) -> str:
    """The synthetic-data warning, or which real dataset was served."""
    return synthetic_warning(c) or f"data: real ({c.dataset})"


def energy_text(variants: Sequence[VariantResult]) -> str:
    """Which variants' energy was measured and which estimated, and how a range is drawn."""
    return quality_text(
        [(v.variant, v.quality) for v in variants],
        "variant",
        "with the low-high range of the estimate; the variants share its constants, so their "
        "differences are surer than the ranges",
    )


def notes(c: Comparison) -> list[str]:
    """Per-variant notes worth reading: a device other than the one asked for, why a
    variant was not fine-tuned, why one failed."""
    lines = [f"{v.variant}: {v.device_note}" for v in c.variants if v.device_note]
    lines += [f"{v.variant}: {v.finetune_note}" for v in c.variants if v.finetune_note]
    lines += [f"{v.variant}: {v.status} ({v.error})" for v in c.failures]
    return lines


# ------------------------------------------------------------------------ front
def pareto_front(points: Sequence[tuple[float, float]], higher_is_better: bool) -> list[int]:
    """Indices of the (energy, metric) points on the Pareto front, cheapest first.

    A point is dominated when another costs no more energy, scores at least as well and
    is strictly better in one of the two; equal points are all kept.
    """
    sign = 1.0 if higher_is_better else -1.0

    def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
        at_least = a[0] <= b[0] and sign * a[1] >= sign * b[1]
        return at_least and (a[0] < b[0] or sign * a[1] > sign * b[1])

    front = [i for i, p in enumerate(points) if not any(dominates(q, p) for q in points)]
    return sorted(front, key=lambda i: (points[i][0], -sign * points[i][1]))


# ----------------------------------------------------------------------- figure
def pareto_figure(c: Comparison) -> Figure:
    """Energy per inference sample vs the test metric, one point per variant, with the
    Pareto front; variants without both figures are left out and named in the footnote."""

    def has(v: VariantResult) -> bool:
        return (
            v.status == "finished"
            and v.energy_per_sample is not None
            and (v.metric_value is not None)
        )

    shown = [v for v in c.variants if has(v)]
    left_out = [f"{v.variant} ({v.status})" for v in c.variants if not has(v)]
    fig = _new_figure(5.2)
    ax = fig.subplots()
    title = f"energy per inference vs {c.metric}: {c.id}"
    footnote = [setup_text(c), energy_text(shown), data_text(c), *notes(c)]
    if not shown:
        _no_data(ax, "no variant has both an energy per sample and a metric")
        return _finish(fig, [*footnote, "left out: " + ", ".join(left_out)], title)
    energies = [e for v in shown if (e := v.energy_per_sample) is not None]
    metrics = [q for v in shown if (q := v.metric_value) is not None]
    unit = per_sample_unit(max(e.j for e in energies))
    xs = [e.j / unit.joules for e in energies]
    for i, (v, x, y, low, high) in enumerate(
        zip(shown, xs, metrics, *_errors(energies, unit), strict=True)
    ):
        ax.errorbar(
            [x],
            [y],
            xerr=[[low], [high]] if v.quality != "measured" else None,
            fmt="s" if v.variant == "original" else "o",
            ms=7,
            capsize=3,
            color=_color(i),
            label=f"{v.variant} ({v.quality})",
        )
    label_points(ax, [(v.variant, x, y) for v, x, y in zip(shown, xs, metrics, strict=True)])
    front = pareto_front(list(zip(xs, metrics, strict=True)), c.higher_is_better)
    fx, fy = [xs[i] for i in front], [metrics[i] for i in front]
    ax.step(fx, fy, where="post", color=HIGHLIGHT, linewidth=1.5, label="Pareto front")
    ax.scatter(
        fx,
        fy,
        s=180,
        facecolors="none",
        edgecolors=HIGHLIGHT,
        linewidths=1.8,
        zorder=3,
        label="on the front",
    )
    scale = _log_if_spread(ax, [e.j for e in energies], axis="x")
    ax.set_xlabel(f"energy per inference sample ({unit.label}{scale}; bars: estimated range)")
    better = "higher" if c.higher_is_better else "lower"
    ax.set_ylabel(f"test {c.metric} ({better} is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), framealpha=0.8)
    footnote.append(
        "Pareto front: the variants no other variant beats on both energy per sample and "
        f"{c.metric}; energy per sample from the 'inference_batch' windows, warm-up excluded"
    )
    if left_out:
        footnote.append("left out, no energy or metric: " + ", ".join(left_out))
    return _finish(fig, footnote, title)
