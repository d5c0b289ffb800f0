"""The per-worker cache of rendered index pages: bounded in bytes, least recent first out."""

from __future__ import annotations

from entrypoints.http.pypi.page_cache import RenderedPages


def test_a_stored_page_comes_back_until_evicted():
    pages = RenderedPages(max_bytes=100)
    pages.put("a", b"x" * 20)
    assert pages.get("a") == b"x" * 20
    assert pages.get("missing") is None


def test_the_least_recently_used_page_goes_first_when_the_budget_is_exceeded():
    pages = RenderedPages(max_bytes=100)
    for key in ("a", "b", "c", "d"):
        pages.put(key, key.encode() * 25)
    pages.get("a")  # a is now the most recent
    pages.put("e", b"e" * 25)
    assert pages.get("b") is None
    assert pages.get("a") is not None and pages.get("e") is not None
    assert pages.size <= 100


def test_replacing_a_page_keeps_the_byte_count_right():
    pages = RenderedPages(max_bytes=100)
    pages.put("a", b"1" * 20)
    pages.put("a", b"2" * 10)
    assert pages.size == 10 and pages.get("a") == b"2" * 10


def test_a_page_larger_than_a_quarter_of_the_budget_is_not_kept():
    pages = RenderedPages(max_bytes=100)
    pages.put("small", b"s" * 10)
    pages.put("huge", b"h" * 26)
    assert pages.get("huge") is None and pages.get("small") == b"s" * 10
