"""What keeps the pages safe in a browser: a per-session CSRF token checked on every
POST (on top of the cross-origin rule of ``entrypoints.http.cross_origin``), and headers
that forbid inline scripts, framing and MIME sniffing.

The token lives in the signed session cookie, so a page from another origin can neither
read it nor forge it; it is compared in constant time. Every template's form carries it
(``csrf_field()``).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, request, session
from markupsafe import Markup, escape

from domain.access import Principal
from domain.errors import DomainError, Forbidden
from entrypoints.http.auth import current_principal
from entrypoints.http.web.snippets import file_link

View = TypeVar("View", bound=Callable[..., Any])
CSRF_FIELD = "csrf_token"
CSRF_KEY = "csrf"
# No inline script or style: one vendored script and one stylesheet, from this server.
# Images may come from https (badges in package descriptions); nothing else leaves.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def csrf_token() -> str:
    """This session's token, made on first use (an anonymous visitor's sign-in form too)."""
    token = session.get(CSRF_KEY)
    if not token:
        token = session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FIELD, escape(csrf_token())
    )


def rotate_csrf() -> None:
    """A new token when who is signed in changes (sign-in, sign-out)."""
    session[CSRF_KEY] = secrets.token_urlsafe(32)


def check_csrf() -> None:
    expected = session.get(CSRF_KEY)
    sent = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden(
            "The form's security token is missing or out of date: reload the page and "
            "submit it again."
        )


_OWN_CHECK: set[str] = set()


def checks_own_csrf(view: View) -> View:
    """For a view that must refuse before reading its body (an upload): it calls
    ``check_csrf()`` itself, after the access check."""
    _OWN_CHECK.add(view.__name__)
    return view


def install(bp: Blueprint) -> None:
    @bp.before_request
    def _check_forms() -> None:
        endpoint = (request.endpoint or "").rpartition(".")[2]
        if request.method == "POST" and endpoint not in _OWN_CHECK:
            check_csrf()

    @bp.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @bp.context_processor
    def _helpers() -> dict[str, object]:
        return {"csrf_field": csrf_field, "principal": _principal(), "file_link": file_link}


def _principal() -> Principal | None:
    """Who is signed in, for the header; None on a page explaining that their
    credentials were refused."""
    try:
        return current_principal()
    except DomainError:
        return None
