"""Flask's signed-cookie session, opened and saved only when there is a cookie to handle.

Flask builds the signing serializer (a key derivation and a few objects) for every
request before looking for the cookie, and reads seven cookie settings after every
response before finding nothing to set; API clients, pip and uv never send a cookie, and
on an index page both were a measurable share of the request. Without the cookie the
session starts empty, and an empty session nobody changed saves as Flask's own would:
no cookie set or deleted, ``Vary: Cookie`` if it was read.
"""

from __future__ import annotations

from flask import Flask, Request, Response, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

from entrypoints.http.client_address import client_scheme, trusted_proxies


class CookieSessions(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # No Cookie header at all (pip, uv, API clients): werkzeug would still walk every
        # header looking for one, 4 % of an index request.
        if "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """``Secure`` when the browser reached us over TLS (directly or through a trusted
        proxy that says so), so the cookie never travels in clear after that."""
        if app.config["SESSION_COOKIE_SECURE"]:
            return True
        return has_request_context() and client_scheme(request, trusted_proxies()) == "https"

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)
