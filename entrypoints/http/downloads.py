"""Download responses: headers, conditional requests and byte ranges over a blob.

Filesystem blobs are served with ``wsgi.file_wrapper`` (sendfile under gunicorn); other
stores stream in chunks. Either way memory stays bounded whatever the file size.
"""

from __future__ import annotations

import contextlib
import json
from email.utils import format_datetime

from flask import Response, request
from werkzeug.http import parse_range_header

from domain.model import Artifact
from domain.names import content_disposition
from domain.ports import BlobStore

CHUNK = 1024 * 1024


def artifact_headers(artifact: Artifact, filename: str | None) -> dict[str, str]:
    headers = {
        "ETag": f'"{artifact.id}"',
        "X-Checksum-SHA256": artifact.id,
        "X-Artifact-Id": artifact.id,
        "Accept-Ranges": "bytes",
        "Last-Modified": format_datetime(artifact.created_at, usegmt=True),
    }
    if filename is not None:
        headers["Content-Disposition"] = content_disposition(filename)
    return headers


def send_blob(
    blobs: BlobStore,
    artifact: Artifact,
    filename: str | None,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """A 200, 206, 304 or 416 response for GET and HEAD of the artifact."""
    headers = {**artifact_headers(artifact, filename), **(extra_headers or {})}
    if request.if_none_match.contains_weak(artifact.id):
        return Response(status=304, headers=headers)
    start, end, status = _range(artifact.size)
    if status == 416:
        headers["Content-Range"] = f"bytes */{artifact.size}"
        detail = (
            f"The requested range is outside the file: it has {artifact.size} bytes "
            f"(bytes 0-{artifact.size - 1})."
        )
        body = json.dumps({"detail": detail})
        return Response(body, status=416, headers=headers, mimetype="application/json")
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end}/{artifact.size}"
    length = end - start + 1 if artifact.size else 0
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return Response(status=status, headers=headers, content_type=artifact.content_type)
    body = _body(blobs, artifact, start, end, length)
    return Response(
        body,
        status=status,
        headers=headers,
        content_type=artifact.content_type,
        direct_passthrough=True,
    )


def _range(size: int) -> tuple[int, int, int]:
    header = request.headers.get("Range")
    if not header or size == 0:
        return 0, size - 1, 200
    parsed = parse_range_header(header)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        return 0, size - 1, 200  # a range we do not serve: send it all (RFC 9110 allows)
    bounds = parsed.range_for_length(size)
    if bounds is None:
        return 0, 0, 416
    return bounds[0], bounds[1] - 1, 206


def _body(blobs: BlobStore, artifact: Artifact, start: int, end: int, length: int):
    sha256 = artifact.id
    wrapper = request.environ.get("wsgi.file_wrapper")
    whole = wrapper is not None and 0 < length == artifact.size
    path = blobs.local_path(sha256, artifact.size) if whole else None
    if wrapper is not None and path is not None:
        # Whole-file GET from disk: let the server sendfile it. Unbuffered, since sendfile
        # reads the descriptor: a buffered reader would only cost two more system calls.
        with contextlib.suppress(FileNotFoundError):  # gone since (a GC): the store says
            return wrapper(open(path, "rb", buffering=0), CHUNK)
    reader = blobs.open(sha256, start, end) if length else None
    return _iterate(reader)


def _iterate(reader):
    if reader is None:
        return
    try:
        yield from reader
    finally:
        reader.close()
