"""Refuse state changes that a browser made cross-origin with the session cookie.

A cookie rides along on any request the browser sends, whoever's page asked for it;
``SameSite=Lax`` stops that only across sites, not from a sibling subdomain or another
port of the same host. Browsers say where a request comes from: ``Sec-Fetch-Site`` (all
current browsers) and ``Origin`` (on every cross-origin request, and on same-origin ones
that are not GET or HEAD). OWASP's Fetch Metadata and origin-verification defences read
those: a state-changing request carrying the session cookie is refused when
``Sec-Fetch-Site`` says anything but ``same-origin`` or ``none`` (the user typed it), or,
from a browser that sends no ``Sec-Fetch-Site``, when ``Origin`` is not this server
(its scheme as a trusted proxy reports it, ``ORCHARD_TRUSTED_PROXIES``).

Clients that are not browsers (the seed suite, scripts) send neither header and are
unaffected, and so are requests that carry ``Authorization``: Basic and Bearer
credentials are never sent by a browser on its own, and they win over the cookie.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Request, request

from domain.errors import Forbidden
from entrypoints.http.client_address import client_scheme, trusted_proxies
from entrypoints.http.context import SAFE_METHODS

_DEFAULT_PORTS = {"http": 80, "https": 443}


def install(app: Flask) -> None:
    cookie_name = app.config["SESSION_COOKIE_NAME"]

    @app.before_request
    def _refuse_cross_origin_cookie_writes() -> None:
        if request.method in SAFE_METHODS or "Authorization" in request.headers:
            return
        if cookie_name not in request.cookies:
            return
        reason = cross_origin_reason(request)
        if reason:
            raise Forbidden(
                f"Cross-origin request refused: {reason}. A session cookie only authorizes "
                "changes made from this server's own pages; other clients use an API key."
            )


def cross_origin_reason(req: Request) -> str | None:
    """Why the browser's own headers mark this request as cross-origin, or None."""
    fetch_site = req.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if fetch_site.strip().lower() in ("same-origin", "none"):
            return None
        return f"the browser sent it from another origin (Sec-Fetch-Site: {fetch_site[:20]})"
    origin = req.headers.get("Origin")
    server = f"{client_scheme(req, trusted_proxies())}://{req.host}"
    if origin is not None and _origin_of(origin) != _origin_of(server):
        return f"it came from {origin[:100]!r}, not from this server"
    return None


def _origin_of(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) with the scheme's default port made explicit; None when the
    value is not an origin at all (``Origin: null`` from a sandboxed page)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port
