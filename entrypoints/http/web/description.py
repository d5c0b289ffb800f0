"""A package's description, rendered from its core metadata as pypi.org renders it.

readme-renderer turns Markdown (CommonMark or GFM), reStructuredText or plain text into
HTML and cleans it with an allow-list (nh3): a ``<script>``, an event attribute or a
``javascript:`` link in a description comes out inert. Renderings are kept per process,
keyed by the metadata's bytes, since a release's metadata never changes.
"""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup
from packaging.metadata import parse_email
from readme_renderer import markdown, rst, txt


def render_description(core_metadata: bytes | None) -> Markup | None:
    """Safe HTML of the description, or None when the metadata has none."""
    if not core_metadata:
        return None
    return _render(core_metadata)


@lru_cache(maxsize=256)
def _render(core_metadata: bytes) -> Markup | None:
    raw, _unparsed = parse_email(core_metadata)
    text = raw.get("description")
    if not text or not text.strip():
        return None
    content_type = raw.get("description_content_type") or "text/x-rst"
    media, _, parameters = content_type.partition(";")
    media = media.strip().lower()
    html: str | None
    if media == "text/markdown":
        variant = _parameter(parameters, "variant") or "GFM"
        html = markdown.render(text, variant=variant)
    elif media == "text/plain":
        html = txt.render(text)
    else:
        html = rst.render(text)
    return Markup(html if html is not None else txt.render(text))  # noqa: S704 - cleaned


def _parameter(parameters: str, name: str) -> str | None:
    for part in parameters.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value.strip()
    return None
