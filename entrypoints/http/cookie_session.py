"""Flask's signed-cookie session, opened only when the request carries the cookie.

Flask builds the signing serializer (a key derivation and a few objects) for every
request before looking for the cookie; API clients, pip and uv never send one, and on an
index page that was a measurable share of the request. Without the cookie the session
starts empty, exactly as Flask's own interface would leave it.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)
