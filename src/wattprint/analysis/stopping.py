"""Energy-aware early stopping: framework-free logic, fed one epoch at a time.

``EnergyAwareStopper.update(epoch, epoch_energy_j, epoch_duration_s, metric)`` says
whether to stop after that epoch, for one of two reasons:

* **low return on energy**: the improvement of ``monitor`` in the goal's direction
  since its previous value, divided by the kWh spent since then (so an epoch without a
  metric, when evaluation runs every N epochs, adds its energy to the next one), stays
  below ``min_gain_per_kwh`` for ``patience`` consecutive metric values (default 3, as
  Keras' and Lightning's ``EarlyStopping`` count epochs without improvement);
* **budget**: the energy spent plus the next epoch's predicted energy (the largest of
  the kept epochs of ``predict_training``, so that an evaluation epoch does not
  overshoot) would exceed ``energy_budget_j`` or the energy that ``co2e_budget_kg``
  allows at ``intensity_g_per_kwh`` and ``pue``: it stops *before* the epoch that would
  exceed the budget, never one earlier.

When ``total_epochs`` is known, each decision carries the predicted total
(``predicted_energy_j`` and its range), and no stop is asked after the last epoch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from wattprint.analysis.prediction import J_PER_KWH, Prediction, predict_training
from wattprint.analysis.returns import check_goal
from wattprint.errors import ConfigError


@dataclass(frozen=True)
class StopDecision:
    """Whether to stop after ``epoch`` (1-based), why, and the figures behind it."""

    stop: bool
    reason: str
    epoch: int
    evidence: Mapping[str, float] = field(default_factory=dict)


def _positive(name: str, value: float | None, *, zero: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name}={value!r}: accepted: a number")
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        accepted = "a number >= 0" if zero else "a number > 0"
        raise ConfigError(f"{name}={value!r}: accepted: {accepted}")
    return float(value)


class EnergyAwareStopper:
    """Decides, epoch by epoch, when training stops paying for its energy."""

    def __init__(
        self,
        *,
        monitor: str,
        goal: Literal["min", "max"] | None = None,
        min_gain_per_kwh: float | None = None,
        patience: int = 3,
        energy_budget_j: float | None = None,
        co2e_budget_kg: float | None = None,
        total_epochs: int | None = None,
        intensity_g_per_kwh: float | None = None,
        pue: float = 1.0,
    ) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise ConfigError(f"monitor={monitor!r}: accepted: the name of a logged metric")
        self.monitor = monitor
        self.goal = check_goal(monitor, goal)
        self.min_gain_per_kwh = _positive("min_gain_per_kwh", min_gain_per_kwh, zero=True)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ConfigError(f"patience={patience!r}: accepted: an int >= 1 (epochs)")
        self.patience = patience
        self.energy_budget_j = _positive("energy_budget_j", energy_budget_j)
        self.co2e_budget_kg = _positive("co2e_budget_kg", co2e_budget_kg)
        if total_epochs is not None and (
            isinstance(total_epochs, bool) or not isinstance(total_epochs, int) or total_epochs < 1
        ):
            raise ConfigError(f"total_epochs={total_epochs!r}: accepted: an int >= 1")
        self.total_epochs = total_epochs
        self.intensity_g_per_kwh = _positive("intensity_g_per_kwh", intensity_g_per_kwh)
        self.pue = _positive("pue", pue) or 1.0
        if self.pue < 1:
            raise ConfigError(f"pue={pue!r}: accepted: a number >= 1")
        if self.co2e_budget_kg is not None and self.intensity_g_per_kwh is None:
            raise ConfigError(
                f"co2e_budget_kg={co2e_budget_kg!r} needs intensity_g_per_kwh (the grid's "
                "gCO2e/kWh, e.g. from wattprint.carbon.yearly_intensity) to turn it into energy"
            )
        if self.min_gain_per_kwh is None and self.budget_j is None:
            raise ConfigError(
                "the stopper has nothing to check: give min_gain_per_kwh, energy_budget_j "
                "or co2e_budget_kg"
            )
        self.energies: list[float] = []
        self.durations: list[float] = []
        self._last_metric: float | None = None
        self._energy_since_metric = 0.0
        self._below = 0
        self.prediction: Prediction | None = None
        self.decision: StopDecision | None = None

    @property
    def budget_j(self) -> float | None:
        """The tighter of the energy budget and the energy the CO2e budget allows."""
        budgets = []
        if self.energy_budget_j is not None:
            budgets.append(self.energy_budget_j)
        if self.co2e_budget_kg is not None and self.intensity_g_per_kwh is not None:
            kwh = self.co2e_budget_kg * 1000.0 / self.intensity_g_per_kwh / self.pue
            budgets.append(kwh * J_PER_KWH)
        return min(budgets) if budgets else None

    def update(
        self, epoch: int, epoch_energy_j: float, epoch_duration_s: float, metric: float | None
    ) -> StopDecision:
        """Feed epoch ``epoch`` (1-based) and get the decision to stop after it."""
        energy = _positive("epoch_energy_j", epoch_energy_j, zero=True) or 0.0
        duration = _positive("epoch_duration_s", epoch_duration_s, zero=True) or 0.0
        self.energies.append(energy)
        self.durations.append(duration)
        spent = sum(self.energies)
        evidence: dict[str, float] = {"spent_j": spent, "epoch_energy_j": energy}
        reasons: list[str] = []

        horizon = max(self.total_epochs or 0, len(self.energies) + 1)
        self.prediction = predict_training(self.energies, self.durations, horizon)
        if self.total_epochs is not None and self.total_epochs >= len(self.energies):
            p = predict_training(self.energies, self.durations, self.total_epochs)
            self.prediction = p
            evidence.update(
                predicted_energy_j=p.energy_j,
                predicted_energy_low_j=p.low_j,
                predicted_energy_high_j=p.high_j,
            )
        last = self.total_epochs is not None and epoch >= self.total_epochs

        budget = self.budget_j
        if budget is not None:
            next_j = self.prediction.per_epoch_high_j
            evidence.update(budget_j=budget, next_epoch_j=next_j)
            if spent + next_j > budget and not last:
                reasons.append(
                    f"energy budget: {spent:.4g} J spent + {next_j:.4g} J for the next epoch "
                    f"would exceed the budget of {budget:.4g} J"
                )

        value = None if metric is None or not math.isfinite(metric) else float(metric)
        self._energy_since_metric += energy
        if value is not None:
            if self._last_metric is not None and self.min_gain_per_kwh is not None:
                sign = -1.0 if self.goal == "min" else 1.0
                gain = sign * (value - self._last_metric)
                kwh = self._energy_since_metric / J_PER_KWH
                rate = gain / kwh if kwh > 0 else (math.inf if gain > 0 else -math.inf)
                self._below = self._below + 1 if rate < self.min_gain_per_kwh else 0
                evidence.update(gain=gain, gain_per_kwh=rate, epochs_below=float(self._below))
                if self._below >= self.patience and not last:
                    reasons.append(
                        f"{self.monitor} improved by less than {self.min_gain_per_kwh:g} per kWh "
                        f"for {self._below} evaluations in a row (last: {rate:.4g} per kWh)"
                    )
            self._last_metric = value
            self._energy_since_metric = 0.0
            evidence["metric"] = value

        stop = bool(reasons)
        self.decision = StopDecision(
            stop=stop,
            reason="; ".join(reasons) if stop else "continue",
            epoch=epoch,
            evidence=evidence,
        )
        return self.decision
