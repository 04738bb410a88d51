from __future__ import annotations

import math

import pytest

from wattprint.carbon import equivalences
from wattprint.errors import ConfigError


def test_default_set_has_sources() -> None:
    rows = equivalences(1.0)
    assert len(rows) >= 4
    for row in rows:
        assert row.label and row.unit and row.source
        assert row.amount > 0


def test_car_km_hand_computed() -> None:
    (car,) = equivalences(1.75, ids=["ga_passengerCar_EU_perkm"])  # 0.175 kg/km
    assert car.unit == "km"
    assert math.isclose(car.amount, 10.0)


def test_zero_and_bad_values() -> None:
    assert all(e.amount == 0 for e in equivalences(0.0))
    with pytest.raises(ConfigError, match="accepted: a finite number ≥ 0"):
        equivalences(-1.0)
    with pytest.raises(ConfigError, match="unknown equivalence 'walrus'"):
        equivalences(1.0, ids=["walrus"])
