"""Shared builders for the carbon tests."""

from __future__ import annotations

from wattprint.carbon.intensity import Intensity
from wattprint.carbon.location import Location

PLACE = Location(code="XY", kind="country", name="Testland", country="XY", provider=None)


def make_intensity(g: float, low: float | None = None, high: float | None = None) -> Intensity:
    return Intensity(
        g_per_kwh=g,
        low_g_per_kwh=g if low is None else low,
        high_g_per_kwh=g if high is None else high,
        source="test figures",
        year=2024,
        basis="made up for a test",
        location=PLACE,
    )
