"""``wattprint.track``: the one-line entry point."""

from __future__ import annotations

from typing import Any

from wattprint.config import Settings
from wattprint.tracking.tracker import Tracker


def track(
    project: str | None = None,
    run: str | None = None,
    *,
    settings: Settings | None = None,
    **options: Any,
) -> Tracker:
    """A tracker for ``project``/``run``, to use with ``with``, as a decorator, or with
    ``start()``/``stop()``. Other options are ``Settings`` fields (e.g.
    ``sample_interval_s=0.1``, ``attribution="machine"``) or tracker options
    (``labels={"model": "resnet50"}``, ``sinks=…``); invalid values raise ``ConfigError``."""
    return Tracker(settings, project=project, run=run, **options)
