"""A request body the server cannot frame is the client's mistake: a 400 with a reason.

gunicorn decodes ``Transfer-Encoding: chunked`` lazily, while the view reads the body, so a
chunk size that is not hexadecimal, a chunk without its CRLF, or a body that stops in the
middle of a chunk surfaces as gunicorn's parse exception inside the view, where it used to
fall through to the generic 500 handler. Nothing is stored: the view has not committed,
and the upload's unclaimed staging object is aborted at teardown.
"""

from __future__ import annotations

from flask import Flask, Response
from gunicorn.http.errors import NoMoreData, ParseException

from entrypoints.http.errors import error_response


def install(app: Flask) -> None:
    @app.errorhandler(ParseException)
    def _malformed(error: ParseException) -> Response:
        reason = str(error)[:200] or type(error).__name__
        return error_response(400, f"The request body is malformed ({reason}); nothing was stored.")

    @app.errorhandler(NoMoreData)
    def _truncated(_error: NoMoreData) -> Response:
        return error_response(
            400, "The request body ended in the middle of a chunk; nothing was stored."
        )
