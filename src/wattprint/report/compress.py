"""Stored compression comparisons shown in the terminal: one row per variant (size, energy
per inference, speed, metric, and against the original: Δmetric, energy saving,
fine-tuning energy, break-even), the caption saying how it was measured, and the
comparisons listing.

A variant that did not finish shows its status instead of numbers; why it failed is
in the notes under the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from wattprint.report.bench import _count, _energy, _rate
from wattprint.report.bench_plots import per_sample_unit
from wattprint.report.compress_plots import energy_text, notes, setup_text, synthetic_warning
from wattprint.report.plots import EnergyUnit, component_notes, energy_unit

if TYPE_CHECKING:
    from wattprint.compress.results import Comparison, ComparisonSummary, VariantResult

__all__ = [
    "COLUMNS",
    "comparison_caption",
    "comparison_rows",
    "comparison_table",
    "comparisons_table",
]

COLUMNS = (
    "variant",
    "params",
    "non-zero",
    "size",
    "energy/sample",
    "p50/p95 ms/batch",
    "samples/s",
    "metric",
    "Δmetric",
    "energy saving",
    "fine-tune energy",
    "break-even inferences",
    "device",
)


#: Headers for the terminal, where width is short.
_SHORT = {
    "energy/sample": "energy/\nsample",
    "p50/p95 ms/batch": "p50/p95\nms/batch",
    "energy saving": "energy\nsaving",
    "fine-tune energy": "fine-tune\nenergy",
    "break-even inferences": "break-\neven",
}


def _bytes(n: int | None) -> str:
    """``54.3 kB``, ``97.8 MB``: a size at a glance (decimal units, as on disk)."""
    if n is None:
        return "—"
    for factor, suffix in ((1e9, " GB"), (1e6, " MB"), (1e3, " kB")):
        if n >= factor:
            return f"{n / factor:.3g}{suffix}"
    return f"{n} B"


def _ms(seconds: float) -> str:
    """Milliseconds, three significant digits, and no exponent past a second."""
    ms = seconds * 1e3
    return f"{ms:,.0f}" if ms >= 1000 else f"{ms:.3g}"


def _break_even(v: VariantResult) -> str:
    if v.break_even_inferences is not None:
        return _count(round(v.break_even_inferences))
    if v.finetune_energy is not None and v.energy_saving is not None:
        return "never"  # fine-tuned, and no saving per inference to repay it
    return "—"


def _row(v: VariantResult, sample: EnergyUnit, tune: EnergyUnit) -> list[str]:
    if v.status != "finished":
        return [v.variant, *[v.status] * (len(COLUMNS) - 2), v.device]
    latency = (
        "—"
        if v.latency_p50_s is None or v.latency_p95_s is None
        else f"{_ms(v.latency_p50_s)} / {_ms(v.latency_p95_s)}"
    )
    return [
        v.variant,
        _count(v.params),
        _count(v.nonzero_params),
        _bytes(v.size_bytes),
        _energy(v.energy_per_sample, sample, v.quality),
        latency,
        _rate(v.samples_per_s),
        "—" if v.metric_value is None else f"{v.metric_value:.3g}",
        "—" if v.metric_delta is None else f"{v.metric_delta:+.3g}",
        "—" if v.energy_saving is None else f"{v.energy_saving:+.1%}",
        _energy(v.finetune_energy, tune, v.quality),
        _break_even(v),
        v.device,
    ]


def comparison_rows(c: Comparison) -> list[tuple[str, ...]]:
    """One row of ``COLUMNS`` per variant, the original first, each energy column in one
    unit for every variant."""
    done = [v for v in c.variants if v.status == "finished"]
    sample = per_sample_unit(
        max((e.j for v in done if (e := v.energy_per_sample) is not None), default=0.0)
    )
    tune = energy_unit(
        max((e.j for v in done if (e := v.finetune_energy) is not None), default=0.0)
    )
    return [tuple(_row(v, sample, tune)) for v in c.variants]


def comparison_caption(c: Comparison) -> str:
    """The lines under the table: the setup, the basis of the energy, how to read it."""
    basis = "; ".join(component_notes(x for v in c.variants for x in v.components))
    better = "higher" if c.higher_is_better else "lower"
    return (
        f"{setup_text(c)}. {energy_text(c.variants)}: {basis or 'no energy source recorded'}. "
        f"Energy per sample: the inference batches over the test split, warm-up excluded; "
        f"in brackets the low-high range of estimated energy. metric: test {c.metric} "
        f"({better} is better); Δmetric and energy saving against the original; break-even: "
        "the inferences after which the energy saved per inference repays the fine-tuning "
        "(—: not fine-tuned; never: no saving)."
    )


def comparison_table(c: Comparison) -> RenderableType:
    """The comparison for the terminal: the table (the device column folded into a line
    when every variant ran on the same one), its caption, notes and the synthetic-data
    warning."""
    rows = comparison_rows(c)
    devices = {row[-1] for row in rows}
    shown = COLUMNS if len(devices) > 1 else COLUMNS[:-1]
    table = Table(title=f"comparison {c.id}", title_justify="left")
    for column in shown:
        name = f"test\n{c.metric}" if column == "metric" else _SHORT.get(column, column)
        wide = column in ("variant", "energy/sample", "p50/p95 ms/batch", "fine-tune energy")
        table.add_column(name, overflow="fold", no_wrap=wide)
    ranged = {COLUMNS.index("energy/sample"), COLUMNS.index("fine-tune energy")}
    for v, row in zip(c.variants, rows, strict=True):
        cells = [cell.replace(" (", "\n(") if i in ranged else cell for i, cell in enumerate(row)]
        table.add_row(*cells[: len(shown)], style=None if v.status == "finished" else "red")
    parts: list[RenderableType] = [table]
    parts.append(Text(comparison_caption(c), style="dim"))
    parts.extend(Text(f"note: {line}") for line in notes(c))
    warning = synthetic_warning(c)
    if warning is not None:
        parts.append(Text(f"! {warning}", style="bold yellow"))
    return Group(*parts)


def comparisons_table(found: Sequence[ComparisonSummary]) -> RenderableType:
    """The stored comparisons, newest first, one line each."""
    from wattprint.report.console import _when, energy

    if not found:
        return Text(
            "no comparison stored yet: try `wattprint compress gpt2 --size tiny "
            "--techniques quant:int8 --train-size 256 --test-size 128`"
        )
    table = Table(title="comparisons", title_justify="left")
    for column in ("comparison", "model", "started", "variants", "energy", "status"):
        table.add_column(column, overflow="fold", no_wrap=column == "started")
    for s in found:
        table.add_row(
            s.id, s.model, _when(s.started_at), ", ".join(s.variants), energy(s.energy_j), s.status
        )
    return table
