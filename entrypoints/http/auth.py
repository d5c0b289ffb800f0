"""Who is calling: session cookie, ``Authorization: Bearer <key>``, or HTTP Basic.

Basic accepts a user's password or the username ``__token__`` with an API key (what
twine, uv and pip send). Verified passwords are remembered per process for a short time
so a twine upload of many files pays the slow hash once, not per file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time

from flask import g, request, session

from domain.access import Principal
from domain.errors import Unauthenticated
from domain.services import sessions, users
from entrypoints.http.context import read_uow, services


class PasswordCache:
    """Remembers (username, password) pairs that verified, for ``ttl`` seconds."""

    def __init__(self, ttl: float, pepper: bytes, size: int = 1024) -> None:
        self._ttl, self._pepper, self._size = ttl, pepper, size
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def _key(self, username: str, password: str) -> str:
        return hmac.new(
            self._pepper, f"{username}\0{password}".encode(), hashlib.sha256
        ).hexdigest()

    def get(self, username: str, password: str) -> Principal | None:
        with self._lock:
            entry = self._entries.get(self._key(username, password))
        return entry[1] if entry and entry[0] > time.monotonic() else None

    def put(self, username: str, password: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[self._key(username, password)] = (time.monotonic() + self._ttl, principal)


def current_principal() -> Principal | None:
    """The caller of this request (cached on ``g``); raises 401 for bad credentials."""
    if "principal" not in g:
        g.principal = _authenticate()
    return g.principal


def _authenticate() -> Principal | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return _by_key(value.strip())
    if scheme.lower() == "basic" and value.strip():
        username, password = _basic(value.strip())
        return _by_key(password) if username == "__token__" else by_password(username, password)
    if header:
        raise Unauthenticated("Unsupported Authorization scheme: use Bearer or Basic.")
    return _by_session()


def _by_key(secret: str) -> Principal:
    svc = services()
    return users.authenticate_api_key(read_uow(), svc.clock, secret=secret, pepper=svc.pepper)


def by_password(username: str, password: str) -> Principal:
    svc = services()
    cache: PasswordCache = svc_cache()
    cached = cache.get(username, password)
    if cached is not None:
        return cached
    principal = users.authenticate_password(
        read_uow(), svc.hasher, username=username, password=password
    )
    cache.put(username, password, principal)
    return principal


def _by_session() -> Principal | None:
    token = session.get("token")
    if not token:
        return None
    svc = services()
    principal = sessions.session_principal(read_uow(), svc.clock, token=token)
    if principal is None:
        session.clear()
    return principal


def _basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated("Malformed Basic credentials.") from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise Unauthenticated("Malformed Basic credentials.")
    return username, password


def svc_cache() -> PasswordCache:
    from flask import current_app

    return current_app.extensions["orchard.password_cache"]
