"""Who a request acts for, in the dashboard's two modes.

- **Personal** (the store has no user): one access token, generated per data folder and
  kept beside the store. Reading needs it when the server listens beyond 127.0.0.1;
  launching or cancelling jobs always does. Its holder may do everything.
- **Team** (``wattprint users add`` made a user): every request needs a user's API token,
  and the user's project memberships say what it may read, write and launch.

A browser hands its token over once through ``/login?token=…`` (an HttpOnly,
SameSite=Strict cookie, so other sites cannot send it); scripts send
``Authorization: Bearer …``.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import HTTPException, Request

from wattprint.store.access import AccessStore, Principal

__all__ = ["COOKIE", "TOKEN_FILE", "AccessPolicy", "load_or_create_token"]

PERSONAL_RECHECK_S = 2.0
COOKIE = "wattprint_token"
TOKEN_FILE = "ui-token"
OWNER = Principal(user="owner", admin=True)
LOCAL_READER = Principal(user="local", admin=False, reads_all=True)
_HOW = "open the URL `wattprint ui` printed (/login?token=...) or send 'Authorization: Bearer …'"


def load_or_create_token(folder: Path) -> tuple[str, bool]:
    """The token kept in ``folder``, created (mode 0600) when missing; and whether it was
    created now (so ``wattprint ui`` prints it at first start)."""
    path = folder / TOKEN_FILE
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    if token:
        return token, False
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token, True


@dataclass
class AccessPolicy:
    """The personal ``token``, whether reading needs it (``token_for_read``: the server
    listens on a non-loopback address), and the store's users (``team``) once it has any."""

    token: str
    token_for_read: bool
    team: AccessStore | None = None
    _team_since: float | None = field(default=None, repr=False)
    _personal_until: float = field(default=0.0, repr=False)

    def principal(self, request: Request) -> Principal:
        """Who ``request`` acts for; 401 without a token where one is needed, 403 with a
        wrong one."""
        given = _token_of(request)
        if self.team is not None and self.team_mode():
            if given is None:
                raise HTTPException(401, f"this team server needs your API token: {_HOW}")
            found = self.team.authenticate(given)
            if found is None:
                raise HTTPException(403, "unknown or revoked API token")
            return found
        if given is not None:
            if not self.valid(given):
                raise HTTPException(403, "wrong access token")
            return OWNER
        if self.token_for_read:
            raise HTTPException(
                401, f"this server (not on 127.0.0.1) needs the access token: {_HOW}"
            )
        return LOCAL_READER

    def require(self, principal: Principal, scope: str, project: str) -> None:
        """403 unless ``principal`` may ``scope`` in ``project``; 401 for the token-less
        local reader asking for more than reading."""
        if principal.may(scope, project):
            return
        if principal is LOCAL_READER:
            raise HTTPException(401, f"{_ACTIONS[scope]} needs the access token: {_HOW}")
        raise HTTPException(403, f"user {principal.user!r} may not {scope} in project {project!r}")

    def team_mode(self) -> bool:
        """Whether the store has users, so every request needs a user's token. Users are
        never removed, so once seen the answer is kept; "no user yet" is asked again after
        ``PERSONAL_RECHECK_S`` (one query per request would cost the ingest path ~1 ms)."""
        if self._team_since is not None:
            return True
        if self.team is None or time.monotonic() < self._personal_until:
            return False
        if self.team.has_users():
            self._team_since = time.monotonic()
            return True
        self._personal_until = time.monotonic() + PERSONAL_RECHECK_S
        return False

    def valid(self, token: str) -> bool:
        """Whether ``token`` opens this server: a user's active token on a team server,
        else the personal token (compared in constant time)."""
        if self.team is not None and self.team_mode():
            return self.team.authenticate(token) is not None
        return hmac.compare_digest(token.encode(), self.token.encode())


_ACTIONS = {"read": "reading", "write": "writing runs", "launch": "launching or cancelling jobs"}


def _token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None
