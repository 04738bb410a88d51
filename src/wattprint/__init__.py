"""wattprint: measure, predict and reduce the energy and carbon footprint of deep learning.

``import wattprint`` is cheap: everything is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Measurement", "RunResult", "Settings", "Tracker", "__version__", "track"]

if TYPE_CHECKING:
    from wattprint.config import Settings
    from wattprint.tracking.api import track
    from wattprint.tracking.results import Measurement, RunResult
    from wattprint.tracking.tracker import Tracker

_LAZY = {
    "Settings": "wattprint.config",
    "track": "wattprint.tracking.api",
    "Tracker": "wattprint.tracking.tracker",
    "Measurement": "wattprint.tracking.results",
    "RunResult": "wattprint.tracking.results",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'wattprint' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
