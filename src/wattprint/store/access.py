"""Who may do what on a team server: users, their API tokens (kept as SHA-256 only, shown
once when made), project memberships with scopes (``read``, ``write``, ``launch``), and
the audit log of launches and of access changes.

A store with no user is a personal store: the dashboard then guards itself with its own
token (``server.auth``). Once a user exists, every request needs a user's token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from wattprint.errors import ConfigError, NotFoundError
from wattprint.store.models import SCOPES, ApiToken, AuditEntry, Membership, User
from wattprint.store.repository import Store

__all__ = ["TOKEN_PREFIX", "AccessStore", "AuditRecord", "Principal", "TokenRecord", "hash_token"]

TOKEN_PREFIX = "wp_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def hash_token(token: str) -> str:
    """The SHA-256 of ``token``: what the store keeps (tokens are random, so no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: a user with what each of their projects allows, an admin
    (everything), or, on a personal server, a reader of every project (``reads_all``)."""

    user: str
    admin: bool
    scopes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    reads_all: bool = False

    def may(self, scope: str, project: str) -> bool:
        """Whether the user may ``scope`` (read, write, launch) in ``project``."""
        if self.admin or (scope == "read" and self.reads_all):
            return True
        return scope in self.scopes.get(project, frozenset())

    @property
    def read_projects(self) -> frozenset[str] | None:
        """The projects it may read; ``None`` for all."""
        if self.admin or self.reads_all:
            return None
        return frozenset(p for p, s in self.scopes.items() if "read" in s)


@dataclass(frozen=True)
class TokenRecord:
    id: int
    user: str
    label: str | None
    created_at: float
    last_used_at: float | None
    revoked_at: float | None


@dataclass(frozen=True)
class AuditRecord:
    id: int
    t: float
    user: str
    action: str
    project: str | None
    detail: Mapping[str, Any]


class AccessStore:
    """Users, tokens, memberships and audit of ``store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------ users
    def has_users(self) -> bool:
        """Whether this is a team store (any user exists)."""
        with self.store.engine.connect() as conn:
            return bool(conn.scalar(select(func.count(User.id))))

    def add_user(self, name: str, *, admin: bool = False) -> None:
        """Add user ``name``; ``ConfigError`` for a bad or taken name."""
        if not _NAME.match(name):
            raise ConfigError(
                f"user name {name!r}: accepted: 1-64 letters, digits, '.', '_', '@', '-', "
                "starting with a letter or digit"
            )
        try:
            with self.store.engine.begin() as conn:
                conn.execute(insert(User).values(name=name, admin=admin, created_at=time.time()))
        except IntegrityError:
            raise ConfigError(f"user {name!r} exists already") from None

    def users(self) -> list[dict[str, Any]]:
        """Every user with admin flag and memberships, by name."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(User).order_by(User.name)).all()
            members = conn.execute(select(Membership)).all()
        by_user: dict[int, dict[str, str]] = {}
        for m in members:
            by_user.setdefault(m.user_id, {})[m.project] = m.scopes
        return [{"name": u.name, "admin": u.admin, "projects": by_user.get(u.id, {})} for u in rows]

    def grant(self, user: str, project: str, scopes: Iterable[str]) -> frozenset[str]:
        """Set what ``user`` may do in ``project`` (no scope: remove the membership)."""
        chosen = frozenset(s.strip() for s in scopes if s.strip())
        unknown = sorted(chosen - set(SCOPES))
        if unknown:
            raise ConfigError(f"scope {unknown[0]!r}: accepted: {', '.join(SCOPES)}")
        if not project or "/" in project:
            raise ConfigError(f"project {project!r}: accepted: a project name without '/'")
        with self.store.engine.begin() as conn:
            user_id = _user_id(conn, user)
            conn.execute(
                delete(Membership).where(
                    Membership.user_id == user_id, Membership.project == project
                )
            )
            if chosen:
                text = ",".join(s for s in SCOPES if s in chosen)
                conn.execute(
                    insert(Membership).values(user_id=user_id, project=project, scopes=text)
                )
        return chosen

    # ----------------------------------------------------------------- tokens
    def create_token(self, user: str, label: str | None = None) -> str:
        """A new token of ``user``, returned once (only its hash is kept)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.store.engine.begin() as conn:
            conn.execute(
                insert(ApiToken).values(
                    user_id=_user_id(conn, user),
                    token_hash=hash_token(token),
                    label=label,
                    created_at=time.time(),
                )
            )
        return token

    def tokens(self, user: str | None = None) -> list[TokenRecord]:
        """Tokens (never their value), newest first."""
        query = (
            select(
                ApiToken.id,
                User.name,
                ApiToken.label,
                ApiToken.created_at,
                ApiToken.last_used_at,
                ApiToken.revoked_at,
            )
            .join(User, User.id == ApiToken.user_id)
            .order_by(ApiToken.id.desc())
        )
        if user is not None:
            query = query.where(User.name == user)
        with self.store.engine.connect() as conn:
            return [TokenRecord(*row) for row in conn.execute(query).all()]

    def revoke_token(self, token_id: int) -> None:
        """Revoke token ``token_id`` (it stays listed, marked revoked)."""
        with self.store.engine.begin() as conn:
            done = conn.execute(
                update(ApiToken)
                .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )
        if not done.rowcount:
            raise NotFoundError(f"no active token with id {token_id}")

    def authenticate(self, token: str) -> Principal | None:
        """The user of an active ``token``, or ``None``; notes when it was last used."""
        with self.store.engine.begin() as conn:
            row = conn.execute(
                select(ApiToken.id, User.id, User.name, User.admin)
                .join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
            ).first()
            if row is None:
                return None
            token_id, user_id, name, admin = row
            conn.execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=time.time())
            )
            members = conn.execute(
                select(Membership.project, Membership.scopes).where(Membership.user_id == user_id)
            ).all()
        scopes = {p: frozenset(s.split(",")) for p, s in members}
        return Principal(user=name, admin=bool(admin), scopes=scopes)

    # ------------------------------------------------------------------ audit
    def audit(self, user: str, action: str, project: str | None, detail: Mapping[str, Any]) -> None:
        """Record that ``user`` did ``action`` (e.g. ``job.launch``) in ``project``."""
        with self.store.engine.begin() as conn:
            conn.execute(
                insert(AuditEntry).values(
                    t=time.time(), user=user, action=action, project=project, detail=dict(detail)
                )
            )

    def audit_log(self, limit: int = 100) -> list[AuditRecord]:
        """The newest ``limit`` audit entries, newest first."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        with self.store.engine.connect() as conn:
            return [
                AuditRecord(
                    a["id"], a["t"], a["user"], a["action"], a["project"], dict(a["detail"] or {})
                )
                for a in conn.execute(query).mappings()
            ]


def _user_id(conn: Any, name: str) -> int:
    found = conn.scalar(select(User.id).where(User.name == name))
    if found is None:
        raise NotFoundError(f"no user {name!r}: add it with `wattprint users add {name}`")
    return int(found)
