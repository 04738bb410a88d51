"""The stopper's decisions on hand-made trainings."""

from __future__ import annotations

import pytest

from wattprint.analysis.stopping import EnergyAwareStopper
from wattprint.errors import ConfigError

KWH = 3.6e6


def test_plateau_stops_after_patience() -> None:
    # 0.36 MJ (0.1 kWh) per epoch; gain per kWh = 10 x the loss drop
    losses = [1.0, 0.5, 0.3, 0.29, 0.285, 0.284, 0.2839]
    s = EnergyAwareStopper(monitor="val_loss", min_gain_per_kwh=0.5, patience=2)
    decisions = [s.update(i + 1, 0.1 * KWH, 60, v) for i, v in enumerate(losses)]
    # epoch 4: 0.1/kWh < 0.5 (1st), epoch 5: 0.05 (2nd) -> stop after epoch 5
    assert [d.stop for d in decisions][:5] == [False, False, False, False, True]
    assert decisions[3].evidence["gain_per_kwh"] == pytest.approx(0.1)
    assert "val_loss improved by less than 0.5 per kWh for 2 evaluations" in decisions[4].reason


def test_metric_every_other_epoch_uses_the_energy_since_the_last_value() -> None:
    s = EnergyAwareStopper(monitor="acc", min_gain_per_kwh=1.0, patience=1)
    assert not s.update(1, 0.1 * KWH, 1, 0.5).stop
    assert not s.update(2, 0.1 * KWH, 1, None).stop
    d = s.update(3, 0.1 * KWH, 1, 0.75)  # +0.25 over 0.2 kWh = 1.25/kWh (not 2.5)
    assert not d.stop and d.evidence["gain_per_kwh"] == pytest.approx(1.25)
    assert s.update(4, 0.1 * KWH, 1, 0.82).stop  # 0.7/kWh


def test_budget_stops_before_the_epoch_that_would_exceed_it() -> None:
    s = EnergyAwareStopper(monitor="loss", energy_budget_j=1000, total_epochs=20)
    stops = [s.update(i, 100, 1, 1.0 / i).stop for i in range(1, 11)]
    # after 9 epochs: 900 + 100 = 1000, not above the budget; after 10: 1100 > 1000
    assert stops == [False] * 9 + [True]
    assert s.decision is not None and s.decision.evidence["predicted_energy_j"] == 2000
    exact = EnergyAwareStopper(monitor="loss", energy_budget_j=950)
    assert [exact.update(i, 100, 1, None).stop for i in range(1, 10)] == [False] * 8 + [True]


def test_co2e_budget_and_errors() -> None:
    # 1 kg at 500 g/kWh and PUE 2 = 1 kWh of IT energy
    s = EnergyAwareStopper(monitor="loss", co2e_budget_kg=1.0, intensity_g_per_kwh=500, pue=2)
    assert s.budget_j == pytest.approx(KWH)
    with pytest.raises(ConfigError, match="needs intensity_g_per_kwh"):
        EnergyAwareStopper(monitor="loss", co2e_budget_kg=1.0)
    with pytest.raises(ConfigError, match="patience=0"):
        EnergyAwareStopper(monitor="loss", min_gain_per_kwh=1, patience=0)
    with pytest.raises(ConfigError, match="nothing to check"):
        EnergyAwareStopper(monitor="loss")
