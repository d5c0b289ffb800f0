"""No NUL character in a URL's path parameters or query string: a 400, on every backend.

A name in a URL is only looked up, but a lookup of ``a%00b`` reached PostgreSQL, which
cannot hold NUL in text and failed the request with a 500 (SQLite looked it up and found
nothing). No name, reference or query value of Orchard can contain one, so such a URL is
refused before any view runs, alike on both backends.
"""

from __future__ import annotations

from flask import Flask, request

from domain.errors import InvalidInput


def install(app: Flask) -> None:
    @app.before_request
    def _refuse_nul() -> None:
        values = [*(request.view_args or {}).values(), *request.args.values()]
        if any(isinstance(value, str) and "\x00" in value for value in values):
            raise InvalidInput(
                "The URL contains the control character NUL (%00), which no name or query "
                "value holds."
            )
