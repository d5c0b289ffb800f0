"""Which representation of an index page to send (PEP 691 content negotiation).

A pure function of the ``Accept`` header (and warehouse's ``?format=`` override), so the
table test can cover it without a request.
"""

from __future__ import annotations

from functools import lru_cache

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"
# Server preference on a tie: plain HTML first, so a browser or curl with */* gets HTML.
SERVED = (TEXT_HTML, HTML_V1, JSON_V1)


@lru_cache(maxsize=256)  # a client sends the same header every time: parse it once
def choose_media_type(accept: str | None, format_override: str | None = None) -> str | None:
    """The media type to serve, or None when the client accepts nothing we serve (406).

    Highest q-value wins; on equal q an exact match beats ``type/*``, which beats ``*/*``;
    then the server's order. No ``Accept`` at all means ``text/html`` (PEP 503 clients).
    """
    if format_override:
        # "?format=application/vnd.pypi.simple.v1+json" typed as is arrives with its "+"
        # decoded to a space; no media type holds a space, so it can only mean "+".
        wanted = format_override.strip().replace(" ", "+")
        return wanted if wanted in SERVED else None
    if not accept or not accept.strip():
        return TEXT_HTML
    ranges = parse_accept_header(accept, MIMEAccept)
    scored = [(_score(ranges, offer), -rank, offer) for rank, offer in enumerate(SERVED)]
    best = max(scored)
    return best[2] if best[0][0] > 0 else None


def _score(ranges: MIMEAccept, offer: str) -> tuple[float, int]:
    """(quality, specificity) of the most specific range in the header matching ``offer``."""
    offer_type = offer.split("/")[0]
    best = (0.0, -1)
    for value, quality in ranges:
        media = value.split(";")[0].strip().lower()
        if media == offer:
            specificity = 2
        elif media == f"{offer_type}/*":
            specificity = 1
        elif media in ("*/*", "*"):
            specificity = 0
        else:
            continue
        if specificity > best[1]:
            best = (quality, specificity)
    return best
