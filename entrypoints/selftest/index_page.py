"""Reading a PEP 503 page as pip does: every anchor's text, address and ``#sha256=``."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit


@dataclass(frozen=True)
class Link:
    text: str
    url: str  # absolute, without the fragment
    sha256: str | None


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.found.append(("".join(self._text).strip(), self._href))
            self._href = None


def links(page_url: str, html: str) -> list[Link]:
    """The page's anchors, their addresses resolved against ``page_url``."""
    parser = _Anchors()
    parser.feed(html)
    result = []
    for text, href in parser.found:
        absolute = urljoin(page_url, href)
        fragment = urlsplit(absolute).fragment
        sha256 = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else None
        result.append(Link(text, absolute.split("#", 1)[0], sha256))
    return result
