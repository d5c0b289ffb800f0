"""Who is calling: session cookie, ``Authorization: Bearer <key>``, or HTTP Basic.

Basic accepts a user's password or the username ``__token__`` with an API key (what
twine, uv and pip send). Every request reads the user row afresh, so a deleted user, a
changed password or a revoked admin flag counts from the next request on; only the
password hash's verification is remembered (``adapters.passwords``).
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import timedelta

from flask import current_app, g, request, session

from domain.access import Principal
from domain.errors import TooManyAttempts, Unauthenticated
from domain.services import login_throttle, sessions, users
from entrypoints.config import Settings
from entrypoints.http.client_address import client_address, trusted_proxies
from entrypoints.http.context import read_uow, services

log = logging.getLogger("orchard.security")


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
    """Session login and HTTP Basic with a password: throttled per username and client
    address (``domain.services.login_throttle``); each refusal is logged."""
    svc = services()
    policy: login_throttle.ThrottlePolicy = current_app.extensions[THROTTLE_POLICY]
    attempt = login_throttle.Attempt(username, client_address(request, trusted_proxies()))
    try:
        return login_throttle.login(
            svc.uow(read_only=True), svc.uow(), svc.hasher, svc.clock, policy,
            attempt=attempt, password=password,
        )  # fmt: skip
    except TooManyAttempts as refused:
        # %r: the username and path are the client's, and must not break the log line.
        log.warning(
            "throttled a login: user %r from %s, %s %r, retry after %d s",
            username[:64], attempt.address, request.method, request.path[:200],
            refused.retry_after,
        )  # fmt: skip
        raise


THROTTLE_POLICY = "orchard.throttle_policy"


def throttle_policy(settings: Settings) -> login_throttle.ThrottlePolicy:
    """The login-throttling numbers of the settings (read once, by the app factory)."""
    return login_throttle.ThrottlePolicy(
        failures_per_user=settings.login_failures_per_user,
        failures_per_address=settings.login_failures_per_address,
        window=timedelta(seconds=settings.login_failure_window),
        lockout=timedelta(seconds=settings.login_lockout),
        max_lockout=timedelta(seconds=settings.login_max_lockout),
    )


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
