"""Request JSON with a nesting limit, and only strings a database can store.

``json.loads`` recurses once per level of nesting, so a body of 100,000 ``[`` ends in a
``RecursionError`` (a 500) before any schema sees it. Orchard's request bodies are flat
objects (two or three levels at most); anything nested deeper than the configured
``ORCHARD_MAX_JSON_DEPTH`` is refused with a 400 that says so, whether the parser
overflowed on it or parsed it.

``"\\u0000"`` is valid JSON, but no field of Orchard takes it and PostgreSQL cannot store
it in text (a description, a key name, a login name were 500s there and stored as sent on
SQLite); ``"\\ud800"`` is valid JSON too, but no UTF-8 at all (a 500 on every backend). A
string holding either is refused with a 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from domain.errors import InvalidInput


class NestingLimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, with ``loads`` refusing documents nested too deep."""

    def __init__(self, app: Flask, max_depth: int) -> None:
        super().__init__(app)
        self.max_depth = max_depth

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise self._too_deep() from None
        if nesting_depth(value, stop_after=self.max_depth) > self.max_depth:
            raise self._too_deep()
        if _may_hold_unstorable(s) and not all(map(_storable, strings_of(value))):
            raise InvalidInput(
                "The JSON body contains a NUL character (\\u0000) or an unpaired surrogate "
                "(\\ud800-\\udfff), which no field accepts."
            )
        return value

    def _too_deep(self) -> InvalidInput:
        return InvalidInput(
            f"The JSON body is nested deeper than {self.max_depth} levels; "
            "Orchard's request bodies are flat objects."
        )


def nesting_depth(value: object, *, stop_after: int) -> int:
    """How deep arrays and objects nest in a parsed document (a scalar is 0, ``[]`` 1),
    walked level by level without recursion; the walk stops once ``stop_after`` is
    exceeded."""
    depth, level = 0, [value]
    while depth <= stop_after:
        containers = [item for item in level if isinstance(item, dict | list)]
        if not containers:
            break
        depth += 1
        level = [
            child
            for container in containers
            for child in (container.values() if isinstance(container, dict) else container)
        ]
    return depth


def strings_of(value: object) -> Iterator[str]:
    """Every string of a parsed document, object keys included (its depth is bounded
    already, so recursing here is safe)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_of(item)


# Parsed JSON holds a NUL or a surrogate only where the text spells it as an escape (the
# parser refuses raw control characters, and bytes that decode as UTF-8 hold no surrogate):
# without one, the walk over every string is skipped.
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _may_hold_unstorable(document: str | bytes) -> bool:
    if isinstance(document, str):
        text = document
    else:
        try:
            text = bytes(document).decode("utf-8")
        except UnicodeDecodeError:  # json decodes UTF-16/32 too, and with surrogatepass
            return True
    return _UNSTORABLE_ESCAPE.search(text) is not None or not _storable(text)


def _storable(text: str) -> bool:
    """No NUL (PostgreSQL cannot hold it in text) and no unpaired surrogate (``"\\ud800"``
    is valid JSON, but not UTF-8: no database can store it, the response cannot send it)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def install(app: Flask, max_depth: int) -> None:
    app.json = NestingLimitedJSONProvider(app, max_depth)
