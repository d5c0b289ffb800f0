"""The one paging helper of the list use cases."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from domain.services.paging import paged

ROWS = list(range(7))


def fetch(limit: int, offset: int) -> tuple[list[int], int]:
    return ROWS[offset : offset + limit], len(ROWS)


@pytest.mark.parametrize(
    ("page", "limit", "items", "pages"),
    [(1, 3, [0, 1, 2], 3), (3, 3, [6], 3), (4, 3, [], 3), (1, 1000, ROWS, 1)],
)
def test_a_page_is_its_slice_of_the_whole(page, limit, items, pages):
    found = paged(page, limit, fetch)
    assert (found.items, found.total, found.page, found.limit) == (items, 7, page, limit)
    assert found.pages == pages


@pytest.mark.parametrize(("page", "limit"), [(0, 10), (-1, 10), (1, 0), (1, 1001)])
def test_a_page_outside_the_bounds_is_refused_before_reading(page, limit):
    def never(limit: int, offset: int) -> tuple[list[int], int]:
        raise AssertionError("read although the page was refused")

    with pytest.raises(InvalidInput):
        paged(page, limit, never)
