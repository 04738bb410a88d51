"""Prediction from the first epochs: a slow first epoch, eval every 2 epochs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysis.test_curves import build_run
from wattprint.analysis.prediction import (
    predict_run,
    predict_training,
    predicted_emissions_kg,
)
from wattprint.errors import ConfigError


def test_slow_first_epoch_is_spent_but_not_extrapolated() -> None:
    p = predict_training([300, 100, 102, 98], [30, 10, 10, 10], 10)
    assert p.first_skipped and "first epoch not extrapolated (3.0x" in p.method
    assert p.per_epoch_j == pytest.approx(100.0)
    assert p.energy_j == pytest.approx(600 + 6 * 100)
    assert (p.low_j, p.high_j) == pytest.approx((600 + 6 * 98, 600 + 6 * 102))
    assert p.duration_s == pytest.approx(60 + 60)
    naive = predict_training([300, 100, 102, 98], [30, 10, 10, 10], 10, skip_first=False)
    # forced into the estimate, the MAD trim still drops it: 300 is > 3 MAD from 101
    assert naive.energy_j == pytest.approx(600 + 6 * 100) and "1 outlier" in naive.method


def test_eval_every_two_epochs() -> None:
    # epochs 2, 4, 6 evaluate (+50 J); the first epoch is inside the range: kept
    p = predict_training([100, 150, 100, 150, 100, 150], [1] * 6, 10)
    assert not p.first_skipped
    assert p.per_epoch_j == pytest.approx(125.0)
    assert p.energy_j == pytest.approx(750 + 4 * 125)
    assert (p.low_j, p.high_j) == pytest.approx((750 + 400, 750 + 600))
    odd = predict_training([100, 150, 100, 150, 100], [1] * 5, 6)  # MAD 0: nothing dropped
    assert odd.per_epoch_j == pytest.approx(120.0) and odd.per_epoch_high_j == 150


def test_outlier_epoch_dropped_and_bad_input() -> None:
    p = predict_training([100, 101, 99, 100, 400, 100], [1] * 6, 6)
    assert p.per_epoch_j == pytest.approx(100.0) and "1 outlier" in p.method
    with pytest.raises(ConfigError, match="total_epochs=2"):
        predict_training([1, 2, 3], [1, 1, 1], 2)
    with pytest.raises(ConfigError, match=r"epoch_energies_j\[1\]=-1"):
        predict_training([1, -1], [1, 1], 3)


def test_predict_run_and_emissions(tmp_path: Path) -> None:
    store, run_id = build_run(tmp_path, [40.0, 10.0, 10.0, 10.0, 99.0])
    p = predict_run(store, run_id, 10, after=4)
    assert p.after_epochs == 4 and p.energy_j == pytest.approx(70 + 6 * 10)
    kg, low, high = predicted_emissions_kg(p, 100.0, 1.5)
    assert kg == pytest.approx(130 / 3.6e6 * 100 * 1.5 / 1000) and low == high == kg
    with pytest.raises(ConfigError, match="after=9"):
        predict_run(store, run_id, 10, after=9)
