"""A browser's cross-origin write riding on the session cookie is refused (403, nothing
stored); the same request from a client that is not a browser (no ``Origin``, no
``Sec-Fetch-Site``), or authenticated with Basic, works as before."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import create_package, create_project, login, unique_content, unique_name
from tests.integration.pypi.distributions import write_wheel

CROSS_ORIGIN = [
    pytest.param({"Origin": "https://evil.example"}, id="origin-other-site"),
    pytest.param({"Origin": "http://127.0.0.1:1"}, id="origin-other-port"),
    pytest.param({"Origin": "null"}, id="origin-null"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, id="fetch-cross-site"),
    pytest.param({"Sec-Fetch-Site": "same-site"}, id="fetch-same-site"),
]


@pytest.fixture
def browser(live_server) -> Iterator[httpx.Client]:
    """The admin's session cookie, as a browser would hold it."""
    with login(live_server.url, live_server.admin_user, live_server.admin_password) as client:
        yield client


@pytest.fixture
def generic(browser: httpx.Client) -> str:
    project = unique_name("csrf")
    create_project(browser, project)
    create_package(browser, project, "pkg")
    return f"/api/v1/project/{project}/pkg"


def _upload(client: httpx.Client, package_url: str, content: bytes, **kw) -> httpx.Response:
    files = {"file": ("f.bin", io.BytesIO(content), "application/octet-stream")}
    return client.post(f"{package_url}/upload", files=files, data={"tag": "t"}, **kw)


def _stored(client: httpx.Client, content: bytes) -> bool:
    return client.get(f"/api/v1/artifact/{hashlib.sha256(content).hexdigest()}").status_code == 200


@pytest.mark.parametrize("headers", CROSS_ORIGIN)
def test_a_cross_origin_multipart_upload_with_the_cookie_is_refused(browser, generic, headers):
    content = unique_content("csrf")
    response = _upload(browser, generic, content, headers=headers)
    assert response.status_code == 403, response.text
    assert "Cross-origin request refused" in response.json()["detail"]
    assert not _stored(browser, content)
    assert browser.get(f"{generic}/tags").json()["items"] == []


def test_the_same_upload_from_this_origin_or_no_browser_works(live_server, browser, generic):
    for headers in ({}, {"Sec-Fetch-Site": "same-origin"}, {"Origin": live_server.url}):
        content = unique_content("same-origin")
        assert _upload(browser, generic, content, headers=headers).status_code == 200
        assert _stored(browser, content)


def test_basic_credentials_are_not_affected_by_a_cross_origin_header(live_server, generic):
    content = unique_content("basic")
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        response = _upload(
            client,
            generic,
            content,
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
            auth=(live_server.admin_user, live_server.admin_password),
        )
    assert response.status_code == 200, response.text


def _pypi_upload(client: httpx.Client, project: str, wheel: Path, **kw) -> httpx.Response:
    name, version = wheel.name.split("-")[:2]
    with wheel.open("rb") as content:
        return client.post(
            f"/pypi/{project}/legacy/",
            data={":action": "file_upload", "name": name, "version": version},
            files={"content": (wheel.name, content)},
            **kw,
        )


@pytest.fixture
def index(browser: httpx.Client) -> str:
    project = unique_name("csrf-index")
    create_project(browser, project)
    return project


def test_a_cross_origin_pypi_upload_with_the_cookie_is_refused(browser, index, tmp_path):
    wheel = write_wheel(tmp_path, "csrf-wheel", "1.0.0")
    refused = _pypi_upload(browser, index, wheel, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403
    assert "Cross-origin request refused" in refused.reason_phrase
    assert browser.get(f"/pypi/{index}/simple/csrf-wheel/").status_code == 404
    assert _pypi_upload(browser, index, wheel).status_code == 200


def test_a_cross_origin_form_encoded_yank_with_the_cookie_is_refused(browser, index, tmp_path):
    wheel = write_wheel(tmp_path, "csrf-yank", "1.0.0")
    assert _pypi_upload(browser, index, wheel).status_code == 200
    yank = f"/api/v1/project/{index}/csrf-yank/files/{wheel.name}/yank"
    refused = browser.post(
        yank, data={"reason": "csrf"}, headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403, refused.text
    page = browser.get(f"/pypi/{index}/simple/csrf-yank/").text
    assert "data-yanked" not in page
    assert browser.post(yank, data={"reason": "mine"}).status_code == 200
    assert "data-yanked" in browser.get(f"/pypi/{index}/simple/csrf-yank/").text
