"""Browser sessions: a random token in the cookie, only its hash in the database.

Logging out deletes the row, so a copied cookie stops working at once on every instance.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from domain.access import Principal
from domain.model import LoginSession
from domain.ports import Clock, UnitOfWork
from domain.services.users import principal_of


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    uow: UnitOfWork, clock: Clock, *, principal: Principal, lifetime: timedelta
) -> str:
    """Record a session for the principal; return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with uow:
        uow.sessions.delete_expired(now)
        uow.sessions.add(LoginSession(_hash(token), principal.user_id, now, now + lifetime))
        uow.commit()
    return token


def session_principal(uow: UnitOfWork, clock: Clock, *, token: str) -> Principal | None:
    """Who the session belongs to, or None when it ended, expired or never existed."""
    with uow:
        login = uow.sessions.get(_hash(token))
        if login is None or login.expires_at <= clock.now():
            return None
        user = uow.users.get_by_id(login.user_id)
    return principal_of(user) if user else None


def end_session(uow: UnitOfWork, *, token: str) -> None:
    with uow:
        uow.sessions.delete(_hash(token))
        uow.commit()
