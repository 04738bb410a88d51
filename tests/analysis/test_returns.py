"""Diminishing returns on hand-made curves (numbers checked by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysis.test_curves import build_run
from wattprint.analysis.curves import epoch_points
from wattprint.analysis.returns import diminishing_returns, infer_goal
from wattprint.errors import ConfigError

LOSS = [1.0, 0.5, 0.2, 0.105, 0.101, 0.1]  # total change 0.9, epsilon 0.009


def test_loss_plateau(tmp_path: Path) -> None:
    store, run_id = build_run(tmp_path, [10.0] * 6, [{"val_loss": v} for v in LOSS])
    dr = diminishing_returns(epoch_points(store, run_id), "val_loss")
    assert dr.goal == "min" and dr.final == 0.1 and dr.best == 0.1
    assert dr.epsilon == pytest.approx(0.009)
    # within 0.009 of 0.1 from epoch 4 (0.105) on: epochs 5-6 = 20 of 60 J
    assert dr.epoch_within_epsilon == 4
    assert dr.share_after_within_epsilon == pytest.approx(1 / 3)
    # gains 0, .5, .8, .895, .899, .9 of 0.9: 50 % (.45) at epoch 2, 90-99 % (.81-.891) at 4
    assert dr.energy_to_reach_j == {50: 20.0, 90: 40.0, 95: 40.0, 99: 40.0}
    # last 3 epochs: 0.2 -> 0.1 for 30 J
    assert dr.marginal_j_per_unit == pytest.approx(300.0)
    assert dr.sentence.startswith("33% of the energy (epochs 5-6) bought the last 0.005")


def test_accuracy_and_flat_metric() -> None:
    from wattprint.analysis.curves import EpochPoint

    def pt(i: int, acc: float) -> EpochPoint:
        return EpochPoint(i, i, i + 1, 5.0, 5.0, 5.0, 5.0 * i, 5.0 * i, 5.0 * i, {}, {"acc": acc})

    dr = diminishing_returns([pt(1, 0.5), pt(2, 0.9), pt(3, 0.95)], "acc", last_k=1)
    assert dr.goal == "max" and dr.epoch_within_epsilon == 3
    assert dr.marginal_j_per_unit == pytest.approx(5.0 / 0.05)
    assert dr.energy_to_reach_j[90] == 15.0  # 0.4 of 0.45 = 89 % at epoch 2
    flat = diminishing_returns([pt(1, 0.5), pt(2, 0.5)], "acc")
    assert flat.marginal_j_per_unit is None and flat.energy_to_reach_j[50] is None


def test_goal_inference_and_errors() -> None:
    assert infer_goal("eval_loss") == "min" and infer_goal("val_wer") == "min"
    assert infer_goal("val_accuracy") == "max" and infer_goal("f1") == "max"
    with pytest.raises(ConfigError, match=r"'throughput'.*goal='min'"):
        infer_goal("throughput")
    with pytest.raises(ConfigError, match="no epoch has metric 'acc'"):
        diminishing_returns([], "acc")
