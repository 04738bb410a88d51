"""Figures of runs recorded by the real tracker (fake RAPL) and of journaled runs."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import wattprint
from tests.fakes.sysfs import FakePowercap
from tests.report.helpers import journal_run, open_store, plain_run, tracked_run
from wattprint.errors import ConfigError, NotFoundError
from wattprint.report import plots


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG signature and IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_timeline_and_epochs_as_png_and_svg(
    data_dir: Path, powercap: FakePowercap, tmp_path: Path
) -> None:
    run_id = tracked_run(powercap)
    store = open_store(data_dir)
    fig = plots.timeline_figure(store, run_id)
    ax_power, ax_energy = fig.axes[:2]
    assert ax_power.get_ylabel() == "power (W)"
    assert ax_energy.get_ylabel() == "cumulative energy (Wh)"
    labels = ax_power.get_legend_handles_labels()[1]
    assert labels == ["cpu:0 (measured)", "cpu:1 (measured)", "dram:0 (measured)"]
    png = plots.save_figure(fig, tmp_path / "timeline.png")
    assert png_size(png) == (round(plots.WIDTH_IN * plots.DPI), round(6.0 * plots.DPI))
    svg = plots.save_figure(plots.epochs_figure(store, run_id), tmp_path / "epochs.svg")
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    bars = plots.epoch_bars(store, run_id)
    assert [round(sum(b.energy_j.values())) for b in bars] == [1800, 600, 600, 600, 600, 600]
    assert [round(b.eval_j) for b in bars] == [180, 60, 60, 60, 60, 60]


def test_estimated_components_are_hatched_and_labelled(data_dir: Path) -> None:
    run_id = journal_run(wattprint.Settings(dir=data_dir).journal_dir)
    store = open_store(data_dir)
    fig = plots.epochs_figure(store, run_id)
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert "ram (estimated)" in labels and "gpu:0 (measured)" in labels
    hatched = {c.get_label() for c in ax.containers if c.patches[0].get_hatch()}
    assert hatched == {"ram (estimated)"}
    footnote = " ".join(" ".join(t.get_text() for t in fig.texts).split())  # unwrapped
    assert "ram estimated (ram-model: 0.375 W/GB (2023), range x0.5-x1.5)" in footnote
    assert run_id[:8] in footnote


def test_metric_figure_shades_the_diminishing_returns(
    data_dir: Path, powercap: FakePowercap
) -> None:
    run_id = tracked_run(powercap)
    store = open_store(data_dir)
    fig = plots.metric_figure(store, run_id, "loss")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "loss"
    assert "of the energy" in ax.get_title() and "loss" in ax.get_title()
    assert any("of the energy, after epoch" in label for label in ax.get_legend_handles_labels()[1])
    # the default is the first metric the store lists (logged together: by name)
    assert plots.metric_figure(store, run_id).axes[0].get_ylabel() == "accuracy"
    with pytest.raises(ConfigError, match=r"'f1'.*logged: accuracy, loss"):
        plots.metric_figure(store, run_id, "f1")


def test_prediction_from_first_epochs_and_from_logged_metrics(
    data_dir: Path, powercap: FakePowercap
) -> None:
    tracked = tracked_run(powercap)
    journaled = journal_run(wattprint.Settings(dir=data_dir).journal_dir)
    store = open_store(data_dir)
    predicted = plots.prediction_series(store, tracked)
    assert predicted is not None and predicted.source == "predicted" and predicted.after == 3
    # the slow first epoch is not extrapolated: 3 seen + 3 x 600 J
    assert predicted.predicted_j[0] == pytest.approx(3000 + 1800, rel=0.01)
    assert predicted.actual_total_j == pytest.approx(4800, rel=1e-6)
    logged = plots.prediction_series(store, journaled)
    assert logged is not None and logged.source == "logged"
    assert logged.predicted_j[-1] == pytest.approx(logged.actual_total_j)
    fig = plots.prediction_figure(store, journaled)
    assert fig.axes[0].get_ylabel() == "energy (Wh)"


def test_run_without_epochs_gets_empty_panels_not_errors(
    data_dir: Path, powercap: FakePowercap
) -> None:
    run_id = plain_run(powercap)
    store = open_store(data_dir)
    assert plots.epoch_bars(store, run_id) == []
    assert plots.prediction_series(store, run_id) is None
    texts = [t.get_text() for t in plots.epochs_figure(store, run_id).axes[0].texts]
    assert texts == ["no 'epoch' windows recorded"]
    texts = [t.get_text() for t in plots.metric_figure(store, run_id).axes[0].texts]
    assert texts == ["no metrics logged per epoch"]


def test_bad_input_gets_clear_errors(
    data_dir: Path, powercap: FakePowercap, tmp_path: Path
) -> None:
    run_id = tracked_run(powercap)
    store = open_store(data_dir)
    with pytest.raises(NotFoundError, match="no run matches 'nope'"):
        plots.figure("timeline", store, ["nope"])
    with pytest.raises(ConfigError, match="'pie' is not one of: timeline, epochs"):
        plots.figure("pie", store, [run_id])
    with pytest.raises(ConfigError, match="takes one run, got 2"):
        plots.figure("epochs", store, [run_id, run_id])
    fig = plots.figure("epochs", store, [run_id])
    with pytest.raises(ConfigError, match=r"plot\.jpg.*\.png, \.svg"):
        plots.save_figure(fig, tmp_path / "plot.jpg")


def test_default_metric_prefers_evaluation_and_leaves_optimiser_statistics_last() -> None:
    from wattprint.analysis.curves import EpochPoint

    logged = ["grad_norm", "learning_rate", "loss", "eval_loss", "eval_accuracy"]
    point = EpochPoint(1, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, {}, dict.fromkeys(logged, 0.5))
    assert plots.default_metric([point], None, logged) == "eval_loss"
    no_eval = {"grad_norm": 1.0, "learning_rate": 1e-4, "loss": 0.3}
    point = EpochPoint(1, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, {}, no_eval)
    assert plots.default_metric([point], None, list(no_eval)) == "loss"
    only_optimiser = {"learning_rate": 1e-4}
    point = EpochPoint(1, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, {}, only_optimiser)
    assert plots.default_metric([point], None, list(only_optimiser)) == "learning_rate"
