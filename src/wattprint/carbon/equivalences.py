"""Everyday equivalents of an amount of CO2e, from ``equivalences.csv``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from wattprint.carbon import data
from wattprint.errors import ConfigError

DEFAULT_IDS: tuple[str, ...] = (
    "ga_passengerCar_EU_perkm",
    "ga_train_perkm",
    "ga_flight_economy_perkm",
    "ga_streaming_netflix_perhour",
    "smartphone_charge",
    "ga_tree_month",
)
"""Rows shown by default: well sourced and easy to picture (the web-search row is
flagged low quality upstream and the TV row has no stated source, so they are left out)."""


@dataclass(frozen=True)
class Equivalence:
    """``amount`` ``unit`` of ``label`` emit (or absorb, for trees) the same CO2e."""

    label: str
    amount: float
    unit: str
    source: str


def equivalences(kg: float, ids: Sequence[str] | None = None) -> list[Equivalence]:
    """What ``kg`` kgCO2e amounts to in everyday terms (rows ``ids`` of equivalences.csv)."""
    if isinstance(kg, bool) or not math.isfinite(kg) or kg < 0:
        raise ConfigError(f"emissions {kg!r} kg: accepted: a finite number ≥ 0")
    rows = data.equivalence_rows()
    out: list[Equivalence] = []
    for key in DEFAULT_IDS if ids is None else ids:
        row = rows.get(key)
        if row is None:
            raise ConfigError(f"unknown equivalence {key!r}; accepted: {', '.join(sorted(rows))}")
        source = f"{row.source} ({row.source_url})" if row.source_url else row.source
        out.append(
            Equivalence(
                label=row.description,
                amount=kg / row.kg_per_unit,
                unit=row.unit,
                source=source,
            )
        )
    return out
