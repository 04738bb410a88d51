"""The Pareto front and figure of a compression comparison, and its terminal table, on
hand-made comparisons whose every figure is known."""

from __future__ import annotations

from dataclasses import replace

import pytest
from matplotlib.collections import PathCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from rich.console import Console

from wattprint.analysis.stored import Energy
from wattprint.compress.results import Comparison, VariantResult
from wattprint.report.compress import COLUMNS, comparison_rows, comparison_table
from wattprint.report.compress_plots import pareto_figure, pareto_front


def variant(name: str, mj: float | None, metric: float | None, **changes: object) -> VariantResult:
    """A finished variant that served 100 samples at ``mj`` millijoules each (estimated,
    range x0.5-x2) and scored ``metric``."""
    energy = None if mj is None else Energy(mj * 0.1, mj * 0.05, mj * 0.2)  # 100 samples
    base = VariantResult(
        variant=name,
        run_id=f"run-{name}",
        status="finished",
        error=None,
        device="cpu",
        device_name="x86_64",
        device_note="",
        input_dtype="float32",
        quality="estimated",
        components=(),
        params=1000,
        nonzero_params=1000,
        size_bytes=4000,
        samples=100,
        energy=energy,
        duration_s=0.5,
        latency_p50_s=0.01,
        latency_p95_s=0.02,
        metric_value=metric,
        finetune_run_id=None,
        finetune_status=None,
        finetune_epochs=0,
        finetune_energy=None,
        finetune_note="",
        metric_delta=None,
        energy_saving=None,
        break_even_inferences=None,
        labels={},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def comparison(*variants: VariantResult, higher_is_better: bool = True) -> Comparison:
    return Comparison(
        id="cmp-20250101-000000-abcdef",
        started_at=0.0,
        model="tiny",
        task="image classification",
        dataset="cifar10",
        synthetic_data=True,
        data_reason="no CIFAR-10 under the data root",
        metric="accuracy" if higher_is_better else "cer",
        higher_is_better=higher_is_better,
        batch_size=16,
        requested_device="cpu",
        source="tiny trained here for 1 epoch(s)",
        train_run_id="run-train",
        train_energy=Energy(10.0, 5.0, 20.0),
        variants=variants,
    )


def footnote(fig: Figure) -> str:
    return " ".join(" ".join(t.get_text() for t in fig.texts).split())


POINTS = [(1.0, 0.5), (2.0, 0.7), (3.0, 0.6), (0.5, 0.4), (2.0, 0.7), (1.0, 0.45)]


def test_the_front_keeps_points_nothing_beats_on_both_axes() -> None:
    # (3, 0.6) costs more than (2, 0.7) and scores less; (1, 0.45) ties (1, 0.5) on energy
    # and scores less; equal points are both kept; cheapest first
    assert pareto_front(POINTS, higher_is_better=True) == [3, 0, 1, 4]
    # lower is better: the cheapest point also scores best, nothing else survives
    assert pareto_front(POINTS, higher_is_better=False) == [3]
    lower = [(1.0, 0.3), (2.0, 0.2), (3.0, 0.25), (0.5, 0.5)]
    assert pareto_front(lower, higher_is_better=False) == [3, 0, 1]
    assert pareto_front([], higher_is_better=True) == []


def test_the_figure_has_a_point_per_variant_the_front_and_an_honest_footnote() -> None:
    c = comparison(
        variant("original", 4.0, 0.60),
        variant("prune:0.5", 3.0, 0.55, quality="measured"),
        variant("quant:int8", 1.0, 0.58, device_note="int8 kernels run on CPU only"),
        variant("lowrank:4", 5.0, 0.50),
        variant("cast:fp16", None, None, status="failed", error="RuntimeError: boom"),
    )
    fig = pareto_figure(c)
    ax = fig.axes[0]
    bars = [x for x in ax.containers if isinstance(x, ErrorbarContainer)]
    assert len(bars) == 4  # the failed variant is left out
    assert [x.has_xerr for x in bars] == [True, False, True, True]  # measured: no range
    assert [t.get_text() for t in ax.texts] == ["original", "prune:0.5", "quant:int8", "lowrank:4"]
    (step,) = [line for line in ax.lines if line.get_drawstyle() == "steps-post"]
    # energies in mJ per sample; front: quant:int8 (cheapest) then original (best)
    assert list(step.get_xdata()) == pytest.approx([1.0, 4.0])
    assert list(step.get_ydata()) == pytest.approx([0.58, 0.60])
    (ring,) = [x for x in ax.collections if isinstance(x, PathCollection)]
    assert ring.get_offsets().flatten().tolist() == pytest.approx([1.0, 0.58, 4.0, 0.60])
    assert ax.get_xlabel() == "energy per inference sample (mJ; bars: estimated range)"
    assert ax.get_ylabel() == "test accuracy (higher is better)"
    note = footnote(fig)
    assert "measured on cpu (x86_64)" in note
    assert "energy estimated for original, quant:int8, lowrank:4" in note
    assert "measured for prune:0.5" in note
    assert "SYNTHETIC DATA" in note and "no CIFAR-10 under the data root" in note
    assert "quant:int8: int8 kernels run on CPU only" in note
    assert "left out, no energy or metric: cast:fp16 (failed)" in note


def test_lower_is_better_flips_the_front() -> None:
    c = comparison(
        variant("original", 4.0, 0.20),
        variant("quant:int8", 1.0, 0.30),
        variant("prune:0.5", 2.0, 0.35),
        higher_is_better=False,
    )
    ax = pareto_figure(c).axes[0]
    (step,) = [line for line in ax.lines if line.get_drawstyle() == "steps-post"]
    assert list(step.get_xdata()) == pytest.approx([1.0, 4.0])  # prune:0.5 is dominated
    assert ax.get_ylabel() == "test cer (lower is better)"


def test_the_table_sets_each_variant_against_the_original() -> None:
    c = comparison(
        variant("original", 4.0, 0.60),
        variant(
            "prune:0.5",
            2.0,
            0.55,
            nonzero_params=500,
            metric_delta=-0.05,
            energy_saving=0.5,
            finetune_energy=Energy(30.0, 15.0, 60.0),
            finetune_run_id="run-ft",
            break_even_inferences=15_000.0,
        ),
        variant(
            "lowrank:4",
            5.0,
            0.50,
            metric_delta=-0.1,
            energy_saving=-0.25,
            finetune_energy=Energy(8.0, 4.0, 16.0),
            finetune_run_id="run-ft2",
        ),
        variant("quant:int8", 1.0, 0.58, size_bytes=1500, energy_saving=0.75, metric_delta=-0.02),
        variant("cast:fp16", None, None, status="failed", error="RuntimeError: boom"),
    )
    rows = {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in comparison_rows(c)}
    assert rows["original"]["energy/sample"] == "4 mJ (2-8)"
    assert rows["original"]["Δmetric"] == "—" and rows["original"]["break-even inferences"] == "—"
    pruned = rows["prune:0.5"]
    assert pruned["non-zero"] == "500" and pruned["params"] == "1 k"
    assert pruned["Δmetric"] == "-0.05" and pruned["energy saving"] == "+50.0%"
    assert pruned["fine-tune energy"] == "30 J (15-60)"
    assert pruned["break-even inferences"] == "15 k"
    assert rows["lowrank:4"]["energy saving"] == "-25.0%"
    assert rows["lowrank:4"]["break-even inferences"] == "never"
    assert rows["quant:int8"]["size"] == "1.5 kB" and rows["quant:int8"]["fine-tune energy"] == "—"
    assert rows["cast:fp16"]["energy/sample"] == "failed"
    console = Console(width=200, record=True)
    console.print(comparison_table(c))
    text = console.export_text()
    assert "comparison cmp-20250101-000000-abcdef" in text
    assert "cast:fp16: failed (RuntimeError: boom)" in text
    assert "SYNTHETIC DATA" in text
    header = " ".join(text.splitlines()[2:4])
    assert "variant" in header and "device" not in header  # one device for all: folded
    moved = replace(c, variants=(*c.variants, variant("cast:bf16", 3.0, 0.6, device="cuda:0")))
    console.print(comparison_table(moved))
    header = " ".join(console.export_text().splitlines()[2:4])
    assert "variant" in header and "device" in header
