"""Figures of a stored benchmark: one line or bar per finished model, failed runs and
models without data left out with a note, and a footnote on quality and data."""

from __future__ import annotations

import dataclasses

import pytest
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from tests.report.conftest import FAILED, MODELS, StoredBenchmark
from wattprint.bench.results import Benchmark
from wattprint.errors import ConfigError
from wattprint.report.bench_plots import (
    BENCH_PLOT_KINDS,
    THETA_RULE_OF_THUMB,
    benchmark_figure,
    energy_figure,
    epochs_figure,
    inference_figure,
    quality_figure,
    theta_figure,
    time_figure,
)


def footnote(fig: Figure) -> str:
    """The title and footnote, the footnote's wrapped lines joined again."""
    return " ".join(" ".join(t.get_text() for t in fig.texts).split())


def legend_labels(fig: Figure) -> list[str]:
    legend = fig.axes[0].get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


def bar_groups(fig: Figure) -> list[BarContainer]:
    """The bar series of the first axes (their whiskers are containers too)."""
    return [c for c in fig.axes[0].containers if isinstance(c, BarContainer)]


def bar_heights(fig: Figure) -> list[list[float]]:
    return [[bar.get_height() for bar in c] for c in bar_groups(fig)]


def tick_labels(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_xticklabels()]


@pytest.mark.parametrize("kind", BENCH_PLOT_KINDS)
def test_every_kind_has_title_labels_and_an_honest_footnote(
    stored: StoredBenchmark, kind: str
) -> None:
    fig = benchmark_figure(kind, stored.benchmark)
    ax = fig.axes[0]
    assert fig.get_suptitle().endswith(stored.benchmark.id)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
    note = footnote(fig)
    assert "SYNTHETIC DATA" in note and stored.benchmark.models[0].data_reason in note
    assert "energy estimated for distilbert, gpt2" in note
    assert f"left out, no data for this figure: {FAILED} (failed)" in note


def test_cumulative_lines_one_per_model_from_the_origin(stored: StoredBenchmark) -> None:
    b = stored.benchmark
    for fig in (epochs_figure(b), time_figure(b)):
        ax = fig.axes[0]
        assert len(ax.lines) == len(MODELS)
        assert legend_labels(fig) == [f"{m} (estimated)" for m in MODELS]
        for line, m in zip(ax.lines, b.models, strict=False):
            x, y = line.get_xdata(), line.get_ydata()
            assert (x[0], y[0]) == (0.0, 0.0)
            assert len(x) == len(m.epochs) + 1
            assert line.get_linestyle() == "--"  # estimated
        assert len(ax.collections) == len(MODELS)  # the low-high bands
    epochs = epochs_figure(b).axes[0]
    assert list(epochs.lines[0].get_xdata()) == [0.0, 1.0, 2.0]
    timed = time_figure(b).axes[0]
    first = b.models[0]
    assert timed.lines[0].get_xdata()[-1] == pytest.approx(
        first.epochs[-1].end - first.epochs[0].start
    )
    assert "time since the model's first epoch started (s)" in timed.get_xlabel()


def test_energy_bars_training_and_inference_per_model(stored: StoredBenchmark) -> None:
    b = stored.benchmark
    fig = energy_figure(b)
    assert tick_labels(fig) == list(MODELS)
    train, served = bar_groups(fig)
    assert len(train) == len(served) == len(MODELS)
    assert all(bar.get_hatch() for bar in (*train, *served))  # estimated: hatched
    assert "estimated (whiskers: low-high range)" in legend_labels(fig)
    ratios = [t.get_height() / s.get_height() for t, s in zip(train, served, strict=True)]
    expected = [m.train_energy.j / m.inference_energy.j for m in b.models[:2]]  # type: ignore[union-attr]
    assert ratios == pytest.approx(expected)


def test_inference_and_theta_bars_carry_the_models_values(stored: StoredBenchmark) -> None:
    b = stored.benchmark
    finished = b.models[: len(MODELS)]
    per_sample = inference_figure(b)
    assert tick_labels(per_sample) == list(MODELS)
    assert "(mJ" in per_sample.axes[0].get_ylabel()
    assert bar_heights(per_sample)[0] == pytest.approx(
        [m.inference_energy_per_sample.j * 1e3 for m in finished]  # type: ignore[union-attr]
    )
    theta = theta_figure(b)
    assert tick_labels(theta) == list(MODELS)
    assert bar_heights(theta)[0] == pytest.approx([m.theta for m in finished])
    (reference,) = theta.axes[0].lines
    assert list(reference.get_ydata()) == [THETA_RULE_OF_THUMB] * 2
    assert reference.get_linestyle() == "--"
    assert legend_labels(theta) == ["≈3: forward + backward ≈ 3 forward passes (rule of thumb)"]


def test_quality_points_against_training_energy(stored: StoredBenchmark) -> None:
    b = stored.benchmark
    fig = quality_figure(b)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "test accuracy (higher is better)"
    assert legend_labels(fig) == [f"{m} (estimated)" for m in MODELS]
    assert [t.get_text() for t in ax.texts] == list(MODELS)
    ys = [c.lines[0].get_ydata()[0] for c in ax.containers]
    assert ys == pytest.approx([m.final_quality for m in b.models[:2]])


def test_a_model_without_inference_is_left_out_not_drawn_as_zero(
    stored: StoredBenchmark,
) -> None:
    first, *rest = stored.benchmark.models
    unserved = dataclasses.replace(first, inference_energy=None, inference_samples=0)
    b = dataclasses.replace(stored.benchmark, models=(unserved, *rest))
    per_sample = inference_figure(b)
    assert tick_labels(per_sample) == [MODELS[1]]
    assert f"{MODELS[0]} (no inference)" in footnote(per_sample)
    energy = energy_figure(b)
    assert [len(c) for c in bar_groups(energy)] == [2, 1]
    assert f"no inference bar (nothing measured): {MODELS[0]}" in footnote(energy)
    assert f"{MODELS[0]} (no θ" in footnote(theta_figure(b))


def test_real_measured_data_says_so(stored: StoredBenchmark) -> None:
    b = _measured_real(stored.benchmark)
    note = footnote(energy_figure(b))
    assert "SYNTHETIC" not in note and "data: real (tokens)" in note
    assert "energy measured" in note
    fig = epochs_figure(b)
    assert all(line.get_linestyle() == "-" for line in fig.axes[0].lines)
    assert not fig.axes[0].collections  # no band without an estimate


def test_no_model_with_data_gives_an_empty_figure_with_a_note(stored: StoredBenchmark) -> None:
    failed = dataclasses.replace(stored.benchmark, models=stored.benchmark.models[-1:])
    fig = energy_figure(failed)
    assert not fig.axes[0].containers
    assert [t.get_text() for t in fig.axes[0].texts] == ["no model has data for this figure"]
    assert f"{FAILED} (failed)" in footnote(fig)


def test_a_bad_kind_names_the_kinds(stored: StoredBenchmark) -> None:
    with pytest.raises(ConfigError) as err:
        benchmark_figure("pie", stored.benchmark)
    assert "'pie'" in str(err.value)
    assert "epochs, time, energy, inference, theta, quality" in str(err.value)


def _measured_real(b: Benchmark) -> Benchmark:
    """``b`` as if its energy had been measured and its data real."""
    models = tuple(
        dataclasses.replace(
            m,
            quality="measured",
            synthetic_data=False,
            data_reason="local copy",
            train_energy=m.train_energy
            and dataclasses.replace(
                m.train_energy, low_j=m.train_energy.j, high_j=m.train_energy.j
            ),
            epochs=tuple(
                dataclasses.replace(
                    p, cumulative_low_j=p.cumulative_j, cumulative_high_j=p.cumulative_j
                )
                for p in m.epochs
            ),
        )
        for m in b.models[: len(MODELS)]
    )
    return dataclasses.replace(b, models=models)
