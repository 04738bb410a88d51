"""Carbon: locations, yearly and time-resolved grid intensity, PUE, operational
emissions and everyday equivalents.

Importing this package reads no data: every table loads on first use.
"""

from __future__ import annotations

from wattprint.carbon.emissions import Emissions, operational_emissions
from wattprint.carbon.equivalences import Equivalence, equivalences
from wattprint.carbon.intensity import Intensity, list_regions, yearly_intensity
from wattprint.carbon.location import Location, resolve_location
from wattprint.carbon.providers import (
    CsvSeriesProvider,
    ElectricityMapsClient,
    IntensityProvider,
    WattTimeClient,
    YearlyProvider,
)
from wattprint.carbon.pue import Pue, resolve_pue

__all__ = [
    "CsvSeriesProvider",
    "ElectricityMapsClient",
    "Emissions",
    "Equivalence",
    "Intensity",
    "IntensityProvider",
    "Location",
    "Pue",
    "WattTimeClient",
    "YearlyProvider",
    "equivalences",
    "list_regions",
    "operational_emissions",
    "resolve_location",
    "resolve_pue",
    "yearly_intensity",
]
