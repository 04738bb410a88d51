"""Figures read back from labelled runs: what the benchmark and compression readers share.

A benchmark or a compression comparison is the set of runs carrying the same value of
one label (``benchmark``, ``comparison``). This module groups runs by such a label,
resolves a reference to one group (``latest``, an id, a unique prefix), sums the energy
of a run's windows of one name with the low-high range of its estimated components, and
reads a run's last value of each metric. It needs no PyTorch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wattprint.errors import NotFoundError

if TYPE_CHECKING:
    from wattprint.store.records import RunDetail, RunSummary, WindowRecord
    from wattprint.store.repository import Store

__all__ = [
    "Energy",
    "component_ratios",
    "last_values",
    "pick_group",
    "runs_by_label",
    "window_energy",
]

_SCAN_LIMIT = 100_000


@dataclass(frozen=True)
class Energy:
    """Joules with the bounds of the estimated components (equal when all measured)."""

    j: float
    low_j: float
    high_j: float

    def per(self, n: float) -> Energy:
        return Energy(self.j / n, self.low_j / n, self.high_j / n)


def component_ratios(detail: RunDetail) -> dict[str, tuple[float, float]]:
    """Each charged component's (low, high) ratio: the range of an estimate, (1, 1) measured."""
    return {c.name: (c.low_ratio, c.high_ratio) for c in detail.components}


def window_energy(
    windows: Sequence[WindowRecord], name: str, ratios: Mapping[str, tuple[float, float]]
) -> tuple[Energy | None, float, int]:
    """Sum of the ``name`` windows: energy (charged components only), seconds, count."""
    chosen = [w for w in windows if w.name == name]
    if not chosen:
        return None, 0.0, 0
    e = low = high = 0.0
    for w in chosen:
        for comp, j in w.energy_j.items():
            if ratios and comp not in ratios:
                continue
            lo, hi = ratios.get(comp, (1.0, 1.0))
            e, low, high = e + j, low + j * lo, high + j * hi
    return Energy(e, low, high), sum(w.duration_s for w in chosen), len(chosen)


def last_values(store: Store, run_id: str) -> dict[str, float]:
    """The last value logged for each metric of the run (a run's final figures)."""
    last: dict[str, float] = {}
    for m in store.metrics(run_id):
        if m.value is not None:
            last[m.name] = m.value
    return last


def runs_by_label(store: Store, key: str) -> dict[str, list[RunSummary]]:
    """Runs carrying the label ``key``, grouped by its value, each group oldest first."""
    found: dict[str, list[RunSummary]] = {}
    for run in store.list_runs(limit=_SCAN_LIMIT):
        value = run.labels.get(key)
        if value:
            found.setdefault(value, []).append(run)
    for runs in found.values():
        runs.sort(key=lambda r: r.started_at)
    return found


def pick_group(found: Mapping[str, Sequence[RunSummary]], ref: str, what: str, hint: str) -> str:
    """The group ``ref`` names among ``found``: ``latest``, an id, or a unique prefix.

    ``NotFoundError`` says "no {what} in the store; {hint}" when there is none, and lists
    the stored ids when ``ref`` matches none or several.
    """
    if not found:
        raise NotFoundError(f"no {what} in the store; {hint}")
    if ref == "latest":
        return max(found, key=lambda key: found[key][0].started_at)
    if ref in found:
        return ref
    matches = [key for key in found if key.startswith(ref)]
    if len(matches) != 1:
        listed = ", ".join(sorted(found)[:10])
        why = "matches several" if matches else "matches none"
        raise NotFoundError(f"{what} {ref!r} {why} of the stored ones ({listed})")
    return matches[0]
