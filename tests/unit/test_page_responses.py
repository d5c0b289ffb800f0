"""How an index page is answered: from the client's ETag, from this worker's cache, or
by reading the files, with each fetch one transaction."""

from __future__ import annotations

import pytest
from flask import Flask

from domain.services.pypi.index import PageKey, ProjectPage
from entrypoints.http.pypi import responses
from entrypoints.http.pypi.negotiation import JSON_V1
from entrypoints.http.pypi.page_cache import RenderedPages

KEY = PageKey(package_id=7, serial=3)
PAGE = ProjectPage("demo", (), (), package_id=7, serial=3)


class Store:
    """What ``index.project_page`` does, counting the reads of the files."""

    def __init__(self) -> None:
        self.file_reads = 0

    def fetch(self, have):
        if have is not None and have(KEY):
            return KEY
        self.file_reads += 1
        return PAGE


class Forgetful(RenderedPages):
    """Another request evicts the page between the check and the read."""

    def get(self, key):
        return None


@pytest.fixture
def app(monkeypatch) -> Flask:
    monkeypatch.setattr(responses, "_PAGES", RenderedPages())
    return Flask(__name__)


def answer(app: Flask, store: Store, **headers):
    with app.test_request_context("/simple/demo/", headers=headers):
        return responses.project_response(JSON_V1, store.fetch)


def test_a_page_is_read_once_then_served_from_the_cache(app) -> None:
    store = Store()
    first, second = answer(app, store), answer(app, store)
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data() and b'"name":"demo"' in first.get_data()
    assert store.file_reads == 1


def test_the_clients_etag_is_answered_with_304_without_reading_files(app) -> None:
    store = Store()
    etag = answer(app, store).headers["ETag"]
    responses._PAGES = RenderedPages()  # even a worker that never rendered it
    assert answer(app, store, **{"If-None-Match": etag}).status_code == 304
    assert store.file_reads == 1


def test_a_page_evicted_after_the_check_is_read_after_all(app, monkeypatch) -> None:
    store = Store()
    body = answer(app, store).get_data()
    forgetful = Forgetful()
    forgetful.put((KEY, JSON_V1), body)  # present for the check, gone for the read
    monkeypatch.setattr(responses, "_PAGES", forgetful)
    again = answer(app, store)
    assert (again.status_code, again.get_data(), store.file_reads) == (200, body, 2)
