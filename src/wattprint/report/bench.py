"""Stored benchmarks shown: Rich tables for the terminal, and a report (HTML or Markdown)
with the same table, the figures of ``report.bench_plots``, how to read θ, and where
every figure came from.

The terminal table and the report's table are built from the same rows, so the two
never disagree. A run that did not finish shows its status instead of numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from wattprint.report.bench_plots import per_sample_unit, setup_text, synthetic_warning
from wattprint.report.plots import EnergyUnit, component_notes, energy_unit

if TYPE_CHECKING:
    from wattprint.bench.results import Benchmark, BenchmarkSummary, Energy, ModelResult
    from wattprint.report.build import Block, Report
    from wattprint.store.records import ComponentTotal
    from wattprint.store.repository import Store

__all__ = [
    "COLUMNS",
    "benchmark_caption",
    "benchmark_rows",
    "benchmark_table",
    "benchmarks_table",
    "build_benchmark_report",
    "write_benchmark_report",
]

COLUMNS = (
    "model",
    "params",
    "GFLOPs/sample",
    "epochs",
    "training energy",
    "energy/epoch",
    "train samples/s",
    "inference energy/sample",
    "inference samples/s",
    "latency p50/p95 (ms/batch)",
    "θ",
    "test metric",
    "data",
    "quality",
)

THETA_TEXT = (
    "θ, the training overhead, is the training energy per sample per epoch divided by the "
    "inference energy per sample: how many forward passes one training step on a sample "
    "costs. A forward and a backward pass come to about three forward passes, so θ ≈ 3 is "
    "the rule of thumb; more means optimiser, data-loading or other training-only work, or "
    "an inference that batches better than training (small models, where fixed per-batch "
    "costs dominate, reach far higher values). θ is the factor of the life-cycle model "
    "T ≈ E·D·I·θ: the energy T of training for E epochs over D samples follows from the "
    "energy I of one inference, so a cheap inference measurement predicts a training."
)

# kind -> (heading, caption) of the report's figures
_FIGURES = {
    "epochs": (
        "Training energy by epoch",
        "cumulative training energy after each epoch; dashed with a band: estimated",
    ),
    "time": (
        "Training energy over time",
        "cumulative training energy against wall-clock time since each model's first epoch",
    ),
    "energy": (
        "Training and inference energy per model",
        "all epochs of training beside one inference pass over the whole test split",
    ),
    "inference": (
        "Inference energy per sample",
        "what serving one sample costs, at the benchmark's batch size",
    ),
    "theta": ("Training overhead θ", "θ per model against the rule of thumb θ ≈ 3"),
    "quality": (
        "Test quality vs training energy",
        "what each model's training energy bought, on the test split",
    ),
}


# ----------------------------------------------------------------------- numbers
def _count(n: int | None) -> str:
    """``27.4 k``, ``66.4 M``: a parameter count at a glance."""
    if n is None:
        return "—"
    for factor, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if n >= factor:
            return f"{n / factor:.3g}{suffix}"
    return str(n)


def _rate(per_s: float | None) -> str:
    if per_s is None:
        return "—"
    return f"{per_s:,.0f}" if per_s >= 100 else f"{per_s:.3g}"


def _energy(e: Energy | None, unit: EnergyUnit, quality: str) -> str:
    """``0.546 J`` measured, ``0.546 J (0.191-1.6)`` estimated: the value and its range."""
    if e is None:
        return "—"
    text = f"{e.j / unit.joules:.3g} {unit.label}"
    if quality != "measured" and e.high_j > e.low_j:
        text += f" ({e.low_j / unit.joules:.3g}-{e.high_j / unit.joules:.3g})"
    return text


def _row(m: ModelResult, train: EnergyUnit, epoch: EnergyUnit, sample: EnergyUnit) -> list[str]:
    data = "synthetic" if m.synthetic_data else "real"
    if m.status != "finished":
        return [m.model, *[m.status] * (len(COLUMNS) - 3), data, m.quality]
    latency = (
        "—"
        if m.latency_p50_s is None or m.latency_p95_s is None
        else f"{m.latency_p50_s * 1e3:.3g} / {m.latency_p95_s * 1e3:.3g}"
    )
    return [
        m.model,
        _count(m.params),
        "—" if m.flops_per_sample is None else f"{m.flops_per_sample / 1e9:.3g}",
        str(len(m.epochs)),
        _energy(m.train_energy, train, m.quality),
        _energy(m.energy_per_epoch, epoch, m.quality),
        _rate(m.train_samples_per_s),
        _energy(m.inference_energy_per_sample, sample, m.quality),
        _rate(m.inference_samples_per_s),
        latency,
        "—" if m.theta is None else f"{m.theta:.3g}",
        f"{m.metric} {'—' if m.final_quality is None else f'{m.final_quality:.3g}'}",
        data,
        m.quality,
    ]


def benchmark_rows(b: Benchmark) -> list[tuple[str, ...]]:
    """One row of ``COLUMNS`` per model, each energy column in one unit for all models."""
    done = [m for m in b.models if m.status == "finished"]

    def largest(energies: Sequence[Energy | None]) -> float:
        return max((e.j for e in energies if e is not None), default=0.0)

    train = energy_unit(largest([m.train_energy for m in done]))
    epoch = energy_unit(largest([m.energy_per_epoch for m in done]))
    sample = per_sample_unit(largest([m.inference_energy_per_sample for m in done]))
    return [tuple(_row(m, train, epoch, sample)) for m in b.models]


def benchmark_caption(b: Benchmark) -> str:
    """The line under the table: where and how it ran, and the basis of the energy."""
    basis = "; ".join(component_notes(_components(b))) or "no energy source recorded"
    return (
        f"{setup_text(b)}. Energy {b.quality}: {basis}. In brackets: the low-high range of "
        "estimated energy. Latency per batch; θ = training energy per sample per epoch / "
        "inference energy per sample."
    )


# ------------------------------------------------------------------------ terminal
def _components(b: Benchmark) -> list[ComponentTotal]:
    return [c for m in b.models for c in m.components]


#: Headers for the terminal, where width is short; the report keeps ``COLUMNS``.
_SHORT = {
    "GFLOPs/sample": "GFLOPs/\nsample",
    "training energy": "training\nenergy",
    "energy/epoch": "energy/\nepoch",
    "train samples/s": "train\nsamples/s",
    "inference energy/sample": "energy/\ninference",
    "inference samples/s": "serving\nsamples/s",
    "latency p50/p95 (ms/batch)": "p50/p95\nms/batch",
    "test metric": "test\nmetric",
}
#: Columns folded into one line under the table when every model has the same value.
_FOLDABLE = ("epochs", "data", "quality")


def benchmark_table(b: Benchmark) -> RenderableType:
    """The benchmark for the terminal: one row per model (columns that are the same for
    every model said once below it), the caption, and the warning when any model used
    synthetic data."""
    rows = benchmark_rows(b)
    same = {c for c in _FOLDABLE if rows and len({r[COLUMNS.index(c)] for r in rows}) == 1}
    shown = [i for i, c in enumerate(COLUMNS) if c not in same]
    table = RichTable(title=f"benchmark {b.id}", title_justify="left")
    for i in shown:
        table.add_column(
            _SHORT.get(COLUMNS[i], COLUMNS[i]), overflow="fold", no_wrap=COLUMNS[i] == "model"
        )
    for m, row in zip(b.models, rows, strict=True):
        cells = [row[i] for i in shown]
        table.add_row(*cells, style=None if m.status == "finished" else "red")
    parts: list[RenderableType] = [table]
    if same:
        common = ", ".join(f"{c} {rows[0][COLUMNS.index(c)]}" for c in _FOLDABLE if c in same)
        parts.append(Text(f"every model: {common}"))
    parts.append(Text(benchmark_caption(b), style="dim"))
    warning = synthetic_warning(b)
    if warning is not None:
        parts.append(Text(f"! {warning}", style="bold yellow"))
    return Group(*parts)


def benchmarks_table(found: Sequence[BenchmarkSummary]) -> RenderableType:
    """The stored benchmarks, newest first, one line each."""
    from wattprint.report.console import _when, energy

    if not found:
        return Text("no benchmark stored yet: try `wattprint bench --suite vision --size tiny`")
    table = RichTable(title="benchmarks", title_justify="left")
    for column in ("benchmark", "suite", "started", "models", "energy", "status"):
        table.add_column(column, overflow="fold", no_wrap=column == "started")
    for s in found:
        table.add_row(
            s.id, s.suite, _when(s.started_at), ", ".join(s.models), energy(s.energy_j), s.status
        )
    return table


# -------------------------------------------------------------------------- report
def build_benchmark_report(store: Store, ref: str = "latest") -> Report:
    """The report of benchmark ``ref`` (an id, a unique prefix, or ``latest``)."""
    from wattprint.bench.results import load_benchmark
    from wattprint.bench.windows import BATCH_WINDOW, EPOCH_WINDOW, EVAL_WINDOW, WARMUP_WINDOW
    from wattprint.report.bench_plots import benchmark_figure
    from wattprint.report.build import (
        Bullets,
        Heading,
        Paragraph,
        Report,
        Table,
        _image,
        _when,
    )

    b = load_benchmark(store, ref)
    blocks: list[Block] = [Paragraph(f"{setup_text(b)}; started {_when(b.started_at)}.")]
    warning = synthetic_warning(b)
    if warning is not None:
        blocks.append(Paragraph(warning, warning=True))
    blocks.extend(
        Paragraph(f"{m.model}: run {m.status}" + (f" ({m.error})" if m.error else ""), True)
        for m in b.models
        if m.status != "finished"
    )
    blocks.append(Heading("Results", 2))
    blocks.append(Table(COLUMNS, tuple(benchmark_rows(b)), benchmark_caption(b)))
    blocks.append(Heading("Figures", 2))
    for kind, (heading, caption) in _FIGURES.items():
        blocks.append(Heading(heading, 3))
        blocks.append(_image(f"bench-{kind}", heading, benchmark_figure(kind, b), caption))
    if b.suite == "scaling":
        from wattprint.bench.linearity import analyse_scaling
        from wattprint.report.scaling import scaling_blocks

        blocks.extend(scaling_blocks(analyse_scaling(b)))
    blocks.append(Heading("How to read θ", 2))
    blocks.append(Paragraph(THETA_TEXT))
    provenance = [
        *component_notes(_components(b)),
        f"training energy: the '{EPOCH_WINDOW}' windows; inference: the '{BATCH_WINDOW}' "
        f"windows over the whole test split, warm-up ('{WARMUP_WINDOW}') excluded; the "
        f"evaluation after each epoch ('{EVAL_WINDOW}') counts in neither",
        "GFLOPs: forward pass per sample, counted by torch.utils.flop_counter (matrix "
        "products, convolutions, attention; not element-wise operations)",
        *(
            f"{m.model}: run {m.run_id} ({m.status}), dataset {m.dataset}, "
            f"{'synthetic' if m.synthetic_data else 'real'} data: {m.data_reason}; "
            f"torch {m.labels.get('torch', 'not recorded')}"
            for m in b.models
        ),
    ]
    blocks.append(Heading("Provenance", 2))
    blocks.append(Bullets(tuple(provenance)))
    return Report(
        title=f"wattprint benchmark: {b.id}",
        run_ids=tuple(m.run_id for m in b.models),
        blocks=tuple(blocks),
    )


def write_benchmark_report(store: Store, ref: str, path: Path | str) -> Path:
    """Build the report of benchmark ``ref`` and write it to ``path``: ``.html``/``.htm``
    (self-contained) or ``.md`` (PNGs beside it); returns the path written."""
    from wattprint.report.build import write_document

    return write_document(path, lambda: build_benchmark_report(store, ref))
