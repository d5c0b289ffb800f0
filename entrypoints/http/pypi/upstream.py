"""Index responses of projects with an upstream: merged pages, cached or fetching files.

Merged pages change with the cooldown's clock as well as with their content, so they
are not kept in the per-worker page cache; their ETag is the digest of the body. A page
served from the cache after the upstream failed carries ``X-Orchard-Upstream-Stale``
(the last time the upstream answered).
"""

from __future__ import annotations

import hashlib
from datetime import UTC

from flask import Response, request

from domain.names import content_disposition
from domain.services.pypi.index import RootKey, RootPage
from domain.services.upstream.files import FetchingFile
from domain.services.upstream.pages import MergedPage
from entrypoints.http.pypi import html, json
from entrypoints.http.pypi.negotiation import JSON_V1, TEXT_HTML
from entrypoints.http.pypi.responses import IMMUTABLE, INDEX_CACHE
from entrypoints.http.upstream_metrics import record_cache

STALE_HEADER = "X-Orchard-Upstream-Stale"


def merged_project_response(media: str, merged: MergedPage) -> Response:
    record_cache("page", merged.outcome)
    page = merged.page
    body = (json.render_project(page) if media == JSON_V1 else html.render_project(page)).encode()
    response = _page(body, media)
    if merged.stale_since is not None:
        response.headers[STALE_HEADER] = merged.stale_since.astimezone(UTC).isoformat()
    return response


def merged_root_response(media: str, names: tuple[str, ...]) -> Response:
    page = RootPage(names=names, key=RootKey(0, 0))
    body = (json.render_root(page) if media == JSON_V1 else html.render_root(page)).encode()
    return _page(body, media)


def _page(body: bytes, media: str) -> Response:
    etag = f"u{hashlib.sha256(body + media.encode()).hexdigest()[:32]}"
    headers = {"ETag": f'"{etag}"', "Vary": "Accept", "Cache-Control": INDEX_CACHE}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    content_type = f"{media}; charset=utf-8" if media == TEXT_HTML else media
    return Response(body, content_type=content_type, headers=headers)


def fetching_response(fetching: FetchingFile, sha256: str) -> Response:
    """The first download of an upstream file, streamed as it arrives (a Range is
    answered with the whole file, which RFC 9110 allows)."""
    record_cache("file", "miss")
    headers = {
        "Content-Disposition": content_disposition(fetching.filename),
        "ETag": f'"{sha256}"',
        "X-Checksum-SHA256": sha256,
        "Cache-Control": IMMUTABLE,
    }
    if fetching.size is not None:
        headers["Content-Length"] = str(fetching.size)
    if request.method == "HEAD":
        fetching.chunks.close()  # type: ignore[attr-defined]
        return Response(status=200, headers=headers, content_type=fetching.content_type)
    return Response(
        fetching.chunks,
        headers=headers,
        content_type=fetching.content_type,
        direct_passthrough=True,
    )
