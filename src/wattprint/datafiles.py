"""Reading the reference tables shipped in ``wattprint/data/`` (sources, licences and
years in ``wattprint/data/README.md``). Callers cache what they parse; nothing is read
at import time."""

from __future__ import annotations

import csv
import io
from importlib import resources


def data_text(relpath: str) -> str:
    """The text of ``wattprint/data/<relpath>`` (``/``-separated)."""
    node = resources.files("wattprint").joinpath("data")
    for part in relpath.split("/"):
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def read_csv(relpath: str) -> list[dict[str, str]]:
    """A data CSV as a list of rows keyed by its header."""
    return list(csv.DictReader(io.StringIO(data_text(relpath))))


def float_or_none(text: str) -> float | None:
    """An optional number cell: empty means unknown."""
    text = text.strip()
    return float(text) if text else None


def int_or_none(text: str) -> int | None:
    """An optional whole-number cell (``"64"`` or ``"64.0"``): empty means unknown."""
    text = text.strip()
    return int(float(text)) if text else None
