"""The scaling experiments shown: terminal tables with the fits, the four-panel figure,
and the scaling section of the benchmark report, from a real (tiny) stored benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from wattprint.bench import scaling
from wattprint.bench.linearity import ScalingAnalysis, analyse_scaling
from wattprint.bench.results import load_benchmark
from wattprint.bench.runner import BenchOptions
from wattprint.config import Settings
from wattprint.report.bench import write_benchmark_report
from wattprint.report.scaling import scaling_figure, scaling_tables
from wattprint.store.repository import Store

PLAN = scaling.ScalingPlan(
    params=2_000, depths=(1, 2), dense_depth=1, train_sizes=(16, 32), epochs=(1, 2)
)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[ScalingAnalysis, Settings]:
    folder = tmp_path_factory.mktemp("scaling-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TORCH_HOME", str(folder / "no-weights"))
        mp.setattr(scaling, "scaling_plan", lambda options, quick=False: PLAN)
        settings = Settings(dir=folder, project="bench", sources=("cpu-model", "ram-model"))
        outcome = scaling.run_scaling(
            BenchOptions(epochs=1, batch_size=16, test_size=32, eval_size=16), settings=settings
        )
    store = Store.from_settings(settings)
    return analyse_scaling(load_benchmark(store, outcome.benchmark)), settings


def _text(renderable: object) -> str:
    console = Console(width=250, record=True)
    console.print(renderable)
    return console.export_text()


def test_tables_give_every_run_and_both_fits(analysed: tuple[ScalingAnalysis, Settings]) -> None:
    analysis, _ = analysed
    text = _text(scaling_tables(analysis))
    for experiment in ("deep_vs_wide", "dense_vs_conv", "data_size", "epochs"):
        assert experiment in text
    assert "depth=1" in text and "layer=conv" in text and "train_size=32" in text
    fit = analysis.epochs_fit
    assert fit is not None
    assert f"R² = {fit.r2:.3f} over 2 runs" in text
    assert "pretrained vs scratch not run" in text
    assert "SYNTHETIC DATA" in text
    assert "estimated" in text


def test_figure_has_four_panels_with_the_runs(analysed: tuple[ScalingAnalysis, Settings]) -> None:
    analysis, _ = analysed
    fig = scaling_figure(analysis)
    deep, dense, samples, epochs = fig.axes
    assert len(deep.patches) == 2 and len(dense.patches) == 2
    heights = [p.get_height() for p in deep.patches]
    expected = [m.train_energy.j for m in analysis.runs("deep_vs_wide") if m.train_energy]
    assert heights == pytest.approx(expected)  # the unit is J for these tiny runs
    assert len(samples.collections[0].get_offsets()) == 4
    assert len(epochs.lines) == 1  # the fitted line
    assert "R²" in epochs.get_legend().get_texts()[0].get_text()
    assert "SYNTHETIC" in " ".join(t.get_text() for t in fig.texts)


def test_report_and_cli_show_the_scaling_section(
    analysed: tuple[ScalingAnalysis, Settings], tmp_path: Path
) -> None:
    analysis, settings = analysed
    store = Store.from_settings(settings)
    html = write_benchmark_report(store, analysis.benchmark.id, tmp_path / "s.html").read_text()
    assert "Scaling experiments" in html and 'id="scaling"' in html
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "wattprint",
            "benchmarks",
            analysis.benchmark.id,
            "--dir",
            str(settings.dir),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    doc = json.loads(proc.stdout)
    assert doc["suite"] == "scaling"
    assert doc["fits"]["epochs"]["n"] == 2
    assert doc["fits"]["samples"]["r2"] <= 1.0
