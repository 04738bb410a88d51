"""What every endpoint gets from the app: the store, the access policy and the settings;
and the download responses they share."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO

from fastapi import Request, Response

from wattprint.config import Settings
from wattprint.server.auth import AccessPolicy
from wattprint.store.access import Principal
from wattprint.store.records import RunDetail
from wattprint.store.repository import Store

__all__ = [
    "attachment",
    "find_run",
    "policy",
    "principal",
    "require",
    "settings",
    "store",
    "text_attachment",
]


def store(request: Request) -> Store:
    """The app's run store."""
    found: Store = request.app.state.store
    return found


def principal(request: Request) -> Principal:
    """Who the request acts for (resolved once, by the app's access middleware)."""
    found: Principal = request.state.principal
    return found


def require(request: Request, scope: str, project: str) -> Principal:
    """The request's principal, if it may ``scope`` in ``project`` (else 401/403)."""
    who = principal(request)
    policy(request).require(who, scope, project)
    return who


def find_run(request: Request, ref: str) -> RunDetail:
    """The run ``ref`` names, if the request may read its project; after merging the
    journals, so a run that finished (or is still running) since the last look is shown
    with its latest data."""
    runs = store(request)
    runs.sync()
    detail = runs.get_run(ref)
    require(request, "read", detail.project)
    return detail


def settings(request: Request) -> Settings:
    """The settings the app was started with (data folder, job defaults)."""
    found: Settings = request.app.state.settings
    return found


def policy(request: Request) -> AccessPolicy:
    """Who may read and who may launch."""
    found: AccessPolicy = request.app.state.policy
    return found


def attachment(body: str, filename: str, media_type: str) -> Response:
    """``body`` as a file download named ``filename``."""
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def text_attachment(write: Callable[[IO[str]], object], filename: str, media_type: str) -> Response:
    """What ``write`` writes to a text stream, as a file download."""
    buffer = io.StringIO(newline="")
    write(buffer)
    return attachment(buffer.getvalue(), filename, media_type)
