"""Errors of the index and upload endpoints: RFC 9457 ``application/problem+json`` (uv
shows its ``detail``) with the same sentence as the HTTP reason phrase (twine prints it).
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from domain.errors import DomainError
from entrypoints.http.errors import error_headers, status_for, with_retry_after
from entrypoints.http.limits import too_large_detail

MAX_REASON = 400
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]+")


def reason_phrase(detail: str) -> str:
    """A reason phrase any HTTP stack accepts: one line, printable ASCII, bounded."""
    line = _UNSAFE.sub(" ", detail).encode("ascii", "replace").decode("ascii").strip()
    return (line[: MAX_REASON - 3] + "...") if len(line) > MAX_REASON else line


def problem(status: int, detail: str) -> Response:
    title = HTTP_STATUS_CODES.get(status, "Error")
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    response = Response(json.dumps(body), mimetype="application/problem+json")
    response.status = f"{status} {reason_phrase(detail) or title}"
    response.headers.update(error_headers(status))
    return response


def install(bp: Blueprint) -> None:
    """Answer every error raised in the blueprint's views as a problem."""

    @bp.errorhandler(DomainError)
    def _domain(error: DomainError) -> Response:
        return with_retry_after(problem(status_for(error), error.detail), error)

    @bp.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        code = error.code or 500
        if code == 413:
            return problem(413, too_large_detail())
        return problem(code, error.description or HTTP_STATUS_CODES.get(code, "Error"))
