"""The run store: journals written by trackers, ingested into a SQL database.

Importing this package is cheap: ``wattprint.store.journal`` (what the tracker uses)
needs only the standard library. ``Store``, ``open_store`` and the record dataclasses
are loaded on first access, which imports SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wattprint.store.jobs import JobStore
    from wattprint.store.records import (
        ComponentTotal,
        EventRecord,
        JobRecord,
        MetricRecord,
        ProjectSummary,
        RunDetail,
        RunSummary,
        SampleRecord,
        WindowRecord,
    )
    from wattprint.store.repository import Store, open_store

__all__ = [
    "ComponentTotal",
    "EventRecord",
    "JobRecord",
    "JobStore",
    "MetricRecord",
    "ProjectSummary",
    "RunDetail",
    "RunSummary",
    "SampleRecord",
    "Store",
    "WindowRecord",
    "open_store",
]

_LAZY = {
    "Store": "wattprint.store.repository",
    "open_store": "wattprint.store.repository",
    "ComponentTotal": "wattprint.store.records",
    "EventRecord": "wattprint.store.records",
    "JobRecord": "wattprint.store.records",
    "JobStore": "wattprint.store.jobs",
    "MetricRecord": "wattprint.store.records",
    "ProjectSummary": "wattprint.store.records",
    "RunDetail": "wattprint.store.records",
    "RunSummary": "wattprint.store.records",
    "SampleRecord": "wattprint.store.records",
    "WindowRecord": "wattprint.store.records",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
