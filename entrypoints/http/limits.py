"""How large a request body may be: a file upload may be large, any other body is small.

Without this every endpoint accepted and buffered bodies up to ``ORCHARD_MAX_UPLOAD_SIZE``
(a 128 MiB login body grew a worker by 530 MB). Views that stream a file part into the
blob store are marked with ``@file_upload``; every other request gets
``ORCHARD_MAX_BODY_SIZE``. A declared ``Content-Length`` over the limit is refused before
a byte of the body is read; a chunked body is refused as soon as it passes the limit
(werkzeug's limited input stream). Every 413 names the limit it enforced.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from entrypoints.http.context import services

# Room for the multipart framing and form fields around an upload's file part.
UPLOAD_FRAMING = 1024 * 1024

View = TypeVar("View", bound=Callable)


def file_upload(view: View) -> View:
    """Mark a view whose body carries a file part streamed into the blob store."""
    view.orchard_file_upload = True  # type: ignore[attr-defined]
    return view


def is_file_upload() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "orchard_file_upload", False))


def body_limit() -> int:
    """The most bytes this request's body may have."""
    settings = services().settings
    if is_file_upload():
        return settings.max_upload_size + UPLOAD_FRAMING
    return settings.max_body_size


def too_large_detail() -> str:
    """The sentence of a 413: which limit, how many bytes, which setting raises it."""
    settings = services().settings
    if is_file_upload():
        return (
            f"The upload is larger than the server accepts: at most "
            f"{_size(settings.max_upload_size)} per file (ORCHARD_MAX_UPLOAD_SIZE), and "
            f"{_size(settings.max_body_size)} for the other form fields together "
            "(ORCHARD_MAX_BODY_SIZE)."
        )
    return (
        f"The request body is larger than the server accepts: at most "
        f"{_size(settings.max_body_size)} "
        "(ORCHARD_MAX_BODY_SIZE) for a request that is not a file upload."
    )


def install(app: Flask) -> None:
    @app.before_request
    def _limit_body() -> None:
        limit = body_limit()
        request.max_content_length = limit
        declared = request.content_length
        if declared is not None and declared > limit:
            raise RequestEntityTooLarge(too_large_detail())
        if declared is None and not is_file_upload() and _is_chunked():
            _read_small_chunked_body(limit)


def _is_chunked() -> bool:
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _read_small_chunked_body(limit: int) -> None:
    """Read a chunked body now, refusing it once it passes ``limit``.

    werkzeug's limited stream stops at the limit without an error when the body is read
    whole (``get_data``): the view would see a truncated body (a 400 for cut JSON) instead
    of a 413. Reading one byte past the limit tells the two apart; the body is cached for
    the view (``get_json`` and ``form`` read the cache).
    """
    request.max_content_length = limit + 1
    if len(request.get_data(cache=True)) > limit:
        raise RequestEntityTooLarge(too_large_detail())


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"
