"""One table from domain errors to HTTP statuses, and the handlers that render them.

Every error body is JSON ``{"detail": "<sentence>"}``. Unexpected exceptions are logged
with their traceback server-side and answered with a generic sentence: no stack trace
or internal path ever reaches a client.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import ClientDisconnected, HTTPException

from domain import errors
from entrypoints.http.limits import too_large_detail

log = logging.getLogger("orchard.http")

STATUS_BY_ERROR: dict[type[errors.DomainError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.ChecksumMismatch: 422,
    errors.Unprocessable: 422,
    errors.TooManyAttempts: 429,
    errors.BackendUnavailable: 503,
    errors.UpstreamUnavailable: 502,
    errors.UpstreamTimeout: 504,
}

WWW_AUTHENTICATE = 'Basic realm="orchard"'
RETRY_AFTER_SECONDS = "5"


def status_for(error: errors.DomainError) -> int:
    """The status of the nearest class in the table (subclasses inherit their parent's)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_headers(status: int) -> dict[str, str]:
    """What an error of that status says besides its body, in every format: a 401 names
    the scheme to sign in with (so clients prompt), a 503 when to try again."""
    if status == 401:
        return {"WWW-Authenticate": WWW_AUTHENTICATE}
    if status == 503:
        return {"Retry-After": RETRY_AFTER_SECONDS}
    return {}


def error_response(status: int, detail: str) -> Response:
    response = jsonify(detail=detail)
    response.status_code = status
    response.headers.update(error_headers(status))
    return response


def with_retry_after(response: Response, error: errors.DomainError) -> Response:
    """A throttled client is told when to come back (twine and pip honour it)."""
    if isinstance(error, errors.TooManyAttempts):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(errors.DomainError)
    def _domain(error: errors.DomainError) -> Response:
        return with_retry_after(error_response(status_for(error), error.detail), error)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        return error_response(error.code or 500, _http_detail(error))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "Internal server error.")


def _http_detail(error: HTTPException) -> str:
    if isinstance(error, ClientDisconnected):
        return "The request body ended before its announced Content-Length; nothing was stored."
    if error.code == 413:
        return too_large_detail()
    if error.code == 404:
        return "Not found."
    if error.code == 405:
        return "Method not allowed."
    return error.description or error.name
