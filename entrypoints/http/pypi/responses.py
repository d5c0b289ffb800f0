"""Index responses: negotiated representation, ETag, ``Vary``, caching."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Response, request
from werkzeug.exceptions import NotAcceptable

from domain.services.pypi.index import PageKey, ProjectPage, RootKey, RootPage
from entrypoints.http.pypi import html, json
from entrypoints.http.pypi.negotiation import JSON_V1, TEXT_HTML, choose_media_type
from entrypoints.http.pypi.page_cache import RenderedPages

# Revalidate every time (a 304 is cheap): a fresh upload must be installable at once.
INDEX_CACHE = "max-age=0, must-revalidate"
IMMUTABLE = "public, max-age=31536000, immutable"
_PAGES = RenderedPages()  # per worker process; keys change whenever content does


def negotiated_media_type() -> str:
    media = choose_media_type(request.headers.get("Accept"), request.args.get("format"))
    if media is None:
        raise NotAcceptable(
            "Acceptable: application/vnd.pypi.simple.v1+json, "
            "application/vnd.pypi.simple.v1+html, text/html."
        )
    return media


# The two kinds of index page, each with the key its content depends on.
Page = TypeVar("Page", RootPage, ProjectPage)
Key = TypeVar("Key", RootKey, PageKey)
# fetch(have) -> the page, or only its key where have(key) (``index.project_page``)
Fetch = Callable[[Callable[[Key], bool] | None], Page | Key]
Render = Callable[[Page], str]


def root_response(media: str, fetch: Fetch[RootKey, RootPage]) -> Response:
    """The index root: a 304, a cached rendering, or a fresh one (see ``_page_response``)."""
    return _page_response(media, fetch, (json.render_root, html.render_root))


def project_response(media: str, fetch: Fetch[PageKey, ProjectPage]) -> Response:
    """A project page: a 304, a cached rendering, or a fresh one (see ``_page_response``)."""
    return _page_response(media, fetch, (json.render_project, html.render_project))


def _page_response(
    media: str, fetch: Fetch[Key, Page], renderers: tuple[Render[Page], Render[Page]]
) -> Response:
    """``fetch(have)`` reads the page in one transaction, or only its key where
    ``have(key)``: when the client's ETag or this worker's cache already covers it."""
    found = fetch(lambda key: _client_has(key, media) or (key, media) in _PAGES)
    if isinstance(found, PageKey | RootKey):
        etag = _etag(found, media)
        if _client_has(found, media):
            return _not_modified(etag)
        body = _PAGES.get((found, media))
        if body is not None:
            return _conditional(body, media, etag)
        found = fetch(None)  # evicted by another request since: read the page after all
    if isinstance(found, PageKey | RootKey):
        raise TypeError("fetch(None) answered a key: it must read the whole page.")
    render_json, render_html = renderers
    body = (render_json(found) if media == JSON_V1 else render_html(found)).encode()
    _PAGES.put((found.key, media), body)
    return _conditional(body, media, _etag(found.key, media))


def _client_has(key: PageKey | RootKey, media: str) -> bool:
    return request.if_none_match.contains_weak(_etag(key, media))


def _etag(key: PageKey | RootKey, media: str) -> str:
    if isinstance(key, RootKey):
        return f"r{key.project_id}.{key.serial}.{_kind(media)}"
    return f"{key.package_id}.{key.serial}.{_kind(media)}"


def _conditional(body: bytes, media: str, etag: str) -> Response:
    if request.if_none_match.contains_weak(etag):
        return _not_modified(etag)
    content_type = f"{media}; charset=utf-8" if media == TEXT_HTML else media
    response = Response(body, content_type=content_type)
    response.headers.update(_headers(etag))
    return response


def _not_modified(etag: str) -> Response:
    return Response(status=304, headers=_headers(etag))


def _headers(etag: str) -> dict[str, str]:
    return {"ETag": f'"{etag}"', "Vary": "Accept", "Cache-Control": INDEX_CACHE}


def _kind(media: str) -> str:
    return {JSON_V1: "json", TEXT_HTML: "html"}.get(media, "v1html")
