"""One page of a listing: every list use case asks its repository the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.errors import InvalidInput
from domain.model import Page

MAX_LIMIT = 1000


def paged(page: int, limit: int, fetch: Callable[[int, int], tuple[list[Any], int]]) -> Page:
    """Check ``page`` and ``limit``, then ``fetch(limit, offset)`` the rows and the total.

    Called inside the caller's unit of work; the repository reads the page and its count.
    """
    if page < 1 or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"page must be at least 1 and limit between 1 and {MAX_LIMIT}.")
    items, total = fetch(limit, (page - 1) * limit)
    return Page(items=items, total=total, page=page, limit=limit)
