"""The web dashboard: a FastAPI app with a JSON API under ``/api`` and HTML pages over the
run store and the job queue (``wattprint ui``). Needs the ``ui`` extra."""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from wattprint.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
