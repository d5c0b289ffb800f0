"""Who is calling: session cookie, ``Authorization: Bearer <key>``, or HTTP Basic.

Basic accepts a user's password or the username ``__token__`` with an API key (what
twine, uv and pip send). Every request reads the user row afresh, so a deleted user, a
changed password or a revoked admin flag counts from the next request on; only the
password hash's verification is remembered (``adapters.passwords``).
"""

from __future__ import annotations

import base64
import binascii

from flask import g, request, session

from domain.access import Principal
from domain.errors import Unauthenticated
from domain.services import sessions, users
from entrypoints.http.context import request_uow, services


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
    return users.authenticate_api_key(request_uow(), svc.clock, secret=secret, pepper=svc.pepper)


def by_password(username: str, password: str) -> Principal:
    svc = services()
    return users.authenticate_password(
        request_uow(), svc.hasher, username=username, password=password
    )


def _by_session() -> Principal | None:
    token = session.get("token")
    if not token:
        return None
    svc = services()
    principal = sessions.session_principal(request_uow(), svc.clock, token=token)
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
