"""Sinks: where a tracker's records go besides its journal (MLflow, TensorBoard,
Prometheus, …).

A sink receives every record the journal gets, in the journal's format (see
``wattprint.store.journal``), as it is written: ``run`` at start, ``samples`` from the
sampler thread, ``window`` and ``metric`` from the caller's thread, ``event``, and
``end`` at stop. A sink that raises is dropped, logged once and recorded as an event;
it never breaks the measured program.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Sink(Protocol):
    """Receives the tracker's records; keep ``record`` cheap, it runs on hot paths."""

    def record(self, record: Mapping[str, Any]) -> None:
        """Handle one record (``record["kind"]`` says which); must not mutate it."""
        ...

    def close(self) -> None:
        """Flush and release resources; called once after the ``end`` record."""
        ...
