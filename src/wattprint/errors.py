"""Exceptions that wattprint raises to its users."""

from __future__ import annotations


class WattprintError(Exception):
    """Base class of every error wattprint raises on purpose."""


class ConfigError(WattprintError, ValueError):
    """An invalid setting: the message names the value and what is accepted."""


class MeterError(WattprintError):
    """A meter could not be opened or read; the tracker drops it and records why."""


class StoreError(WattprintError):
    """The run store could not be opened, read or written."""


class NotFoundError(WattprintError, LookupError):
    """A run, project or other record asked for by name does not exist."""


class JobStateError(WattprintError):
    """A job cannot do what was asked in its current state (cancel a finished job…)."""
