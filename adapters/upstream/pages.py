"""Reading an upstream project page: PEP 691 JSON, else PEP 503 HTML (stdlib parser).

Everything the page says of a file is kept (hashes, requires-python, yank and reason,
size, upload-time, core-metadata), URLs are resolved against the page's own URL (or its
``<base href>``), and only http(s) URLs are followed. A file without a sha256 is left
out: Orchard verifies every byte it caches against it. A page that cannot be read raises
``UpstreamUnavailable``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from domain.errors import UpstreamUnavailable
from domain.upstream import UpstreamFile

JSON_V1 = "application/vnd.pypi.simple.v1+json"
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def parse_page(body: bytes, content_type: str, page_url: str) -> tuple[UpstreamFile, ...]:
    """The files of a project page, by its media type (JSON v1, else HTML)."""
    media = content_type.split(";")[0].strip().lower()
    if media == JSON_V1 or media.endswith("+json") or media == "application/json":
        return parse_json(body, page_url)
    return parse_html(body.decode("utf-8", "replace"), page_url)


def parse_json(body: bytes, page_url: str) -> tuple[UpstreamFile, ...]:
    try:
        document = json.loads(body)
        entries = document["files"]
    except (ValueError, KeyError, TypeError):
        raise UpstreamUnavailable("The upstream sent a JSON page that is not PEP 691.") from None
    if not isinstance(entries, list):
        raise UpstreamUnavailable("The upstream sent a JSON page without a file list.")
    files = (_json_file(entry, page_url) for entry in entries if isinstance(entry, dict))
    return tuple(f for f in files if f is not None)


def _json_file(entry: dict[str, Any], page_url: str) -> UpstreamFile | None:
    hashes = entry.get("hashes")
    sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
    url = _absolute(entry.get("url"), page_url)
    filename = entry.get("filename")
    if url is None or not _valid_sha256(sha256) or not _valid_filename(filename):
        return None
    metadata = entry.get("core-metadata", entry.get("dist-info-metadata"))
    yanked = entry.get("yanked", False)
    size = entry.get("size")
    return UpstreamFile(
        filename=str(filename),
        url=url,
        sha256=str(sha256).lower(),
        size=size if isinstance(size, int) and size >= 0 else None,
        upload_time=_timestamp(entry.get("upload-time")),
        requires_python=_text(entry.get("requires-python")),
        yanked=bool(yanked),
        yanked_reason=yanked if isinstance(yanked, str) and yanked else None,
        metadata_sha256=_metadata_digest(metadata),
    )


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "a":
            self.anchors.append(dict(attrs))


def parse_html(text: str, page_url: str) -> tuple[UpstreamFile, ...]:
    parser = _Anchors()
    parser.feed(text)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    files = (_html_file(anchor, base) for anchor in parser.anchors)
    return tuple(f for f in files if f is not None)


def _html_file(anchor: dict[str, str | None], base: str) -> UpstreamFile | None:
    href = anchor.get("href")
    if not href:
        return None
    url, fragment = urldefrag(urljoin(base, href))
    digest_name, _, digest = fragment.partition("=")
    filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if (
        digest_name != "sha256"
        or not _valid_sha256(digest)
        or _absolute(url, base) is None
        or not _valid_filename(filename)
    ):
        return None
    yanked = anchor.get("data-yanked")
    metadata = anchor.get("data-core-metadata", anchor.get("data-dist-info-metadata"))
    return UpstreamFile(
        filename=filename,
        url=url,
        sha256=digest.lower(),
        requires_python=_text(anchor.get("data-requires-python")),
        yanked="data-yanked" in anchor,  # a bare attribute (value None) yanks too
        yanked_reason=yanked or None,
        metadata_sha256=_metadata_digest(_html_metadata(metadata)),
    )


def _html_metadata(value: str | None) -> object:
    """``data-core-metadata="sha256=<hex>"`` (or bare / ``true``: present, unhashed)."""
    if value is None:
        return False
    name, _, digest = value.partition("=")
    return {name: digest} if digest else True


def _metadata_digest(value: object) -> str | None:
    """Only a sha256 is worth advertising: Orchard serves what verifies against it."""
    if isinstance(value, dict) and _valid_sha256(value.get("sha256")):
        return str(value["sha256"]).lower()
    return None


def _absolute(url: object, base: str) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    resolved = urljoin(base, url)
    parts = urlsplit(resolved)
    return resolved if parts.scheme in ("http", "https") and parts.netloc else None


def _valid_sha256(value: object) -> bool:
    return isinstance(value, str) and bool(_SHA256.match(value))


def _valid_filename(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value.encode()) <= 255
        and not _UNSAFE_NAME.search(value)
        and value not in (".", "..")
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
