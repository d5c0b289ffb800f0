"""Index responses of projects with an upstream: merged pages, cached or fetching files.

A merged page is rendered once per key (``MergedPageKey``: the cached upstream page's
serial, the local package's, and the minute when a cooldown is set) and kept per worker,
like local pages; its ETag is built from the key, so a client's revalidation costs no
file read. A page served after the upstream failed carries ``X-Orchard-Upstream-Stale``
(the last time the upstream answered).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC

from flask import Response, request

from domain.names import content_disposition
from domain.services.pypi.index import RootKey, RootPage
from domain.services.upstream.files import FetchingFile
from domain.services.upstream.pages import MergedPage, MergedPageKey
from entrypoints.http.pypi import html, json
from entrypoints.http.pypi.negotiation import JSON_V1, TEXT_HTML
from entrypoints.http.pypi.page_cache import RenderedPages
from entrypoints.http.pypi.responses import IMMUTABLE, INDEX_CACHE
from entrypoints.http.upstream_metrics import record_cache

STALE_HEADER = "X-Orchard-Upstream-Stale"
_PAGES = RenderedPages(16 * 1024 * 1024)  # per worker; a 5,000-file page is ~2 MB of JSON


def merged_project_response(media: str, fetch: Callable[..., MergedPage]) -> Response:
    """``fetch(have)`` reads the merged page, or only its key where ``have(key)``: when
    the client's ETag or this worker's rendering already covers it."""
    found = fetch(lambda key: _client_has(key, media) or (key, media) in _PAGES)
    etag = _etag(found.key, media)
    body = None
    if found.page is None:
        if _client_has(found.key, media):
            return _headed(Response(status=304, headers=_headers(etag)), found)
        body = _PAGES.get((found.key, media))
        if body is None:  # evicted by another request since: read the page after all
            found = fetch(None)
    if body is None:
        assert found.page is not None
        page = found.page
        rendered = json.render_project(page) if media == JSON_V1 else html.render_project(page)
        body = rendered.encode()
        _PAGES.put((found.key, media), body)
    content_type = f"{media}; charset=utf-8" if media == TEXT_HTML else media
    return _headed(Response(body, content_type=content_type, headers=_headers(etag)), found)


def _headed(response: Response, found: MergedPage) -> Response:
    record_cache("page", found.outcome)
    if found.stale_since is not None:
        response.headers[STALE_HEADER] = found.stale_since.astimezone(UTC).isoformat()
    return response


def _client_has(key: MergedPageKey, media: str) -> bool:
    return request.if_none_match.contains(_etag(key, media))


def _etag(key: MergedPageKey, media: str) -> str:
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
    return f"u{digest}.{media.rsplit('/', 1)[-1]}"


def _headers(etag: str) -> dict[str, str]:
    return {"ETag": f'"{etag}"', "Vary": "Accept", "Cache-Control": INDEX_CACHE}


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
