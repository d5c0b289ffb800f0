"""The cross-origin rule for cookie-authenticated writes, case by case (the live test,
``tests/integration/test_cross_origin.py``, shows nothing is stored when it refuses)."""

from __future__ import annotations

import pytest

from tests.fakes.web import FakeWeb, basic


@pytest.fixture
def web(tmp_path) -> FakeWeb:
    web = FakeWeb(tmp_path)
    web.add_user("root", "root-password", admin=True)
    return web


@pytest.fixture
def browser(web):
    client = web.client()
    response = client.post(
        "/api/v1/auth/login", json={"username": "root", "password": "root-password"}
    )
    assert response.status_code == 200
    return client


def create(client, name: str, headers: dict[str, str], **kw):
    return client.post("/api/v1/projects", json={"name": name}, headers=headers, **kw)


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://localhost:8081"},  # another port
        {"Origin": "https://localhost"},  # another scheme
        {"Origin": "http://sub.localhost"},  # a sibling host
        {"Origin": "null"},
        {"Origin": "not a url"},
        # Fetch metadata decides when present, whatever Origin says.
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"},
    ],
)
def test_a_cookie_write_the_browser_marks_cross_origin_is_refused(web, browser, headers):
    response = create(browser, "refused", headers)
    assert response.status_code == 403
    assert response.get_json()["detail"].startswith("Cross-origin request refused")
    with web.uow() as uow:
        assert uow.projects.get("refused") is None


@pytest.mark.parametrize(
    "headers",
    [
        {},  # not a browser
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},  # typed or bookmarked by the user
        {"Origin": "http://localhost"},
        {"Origin": "http://localhost:80"},  # the default port, spelt out
        {"Origin": "HTTP://LOCALHOST"},
    ],
)
def test_a_cookie_write_from_this_origin_or_no_browser_works(browser, headers):
    assert create(browser, "allowed", headers).status_code == 200


def test_reads_and_other_credentials_are_not_checked(web, browser):
    cross = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    assert browser.get("/api/v1/auth/me", headers=cross).status_code == 200
    with_basic = {**cross, **basic("root", "root-password")}
    assert create(browser, "with-basic", with_basic).status_code == 200
    anonymous = web.client()
    assert create(anonymous, "anonymous", cross).status_code == 401


@pytest.mark.parametrize(
    ("trusted", "peer", "expected"),
    [
        ("127.0.0.1", "127.0.0.1", 200),  # the TLS proxy says the client used https
        ("", "127.0.0.1", 403),  # nobody trusted: the header means nothing
        ("10.0.0.0/8", "127.0.0.1", 403),  # the peer is not a trusted proxy
    ],
)
def test_behind_a_trusted_tls_proxy_the_origin_is_compared_with_https(
    tmp_path, trusted, peer, expected
):
    web = FakeWeb(tmp_path, trusted_proxies=trusted)
    web.add_user("root", "root-password", admin=True)
    client = web.client()
    login = {"username": "root", "password": "root-password"}
    assert client.post("/api/v1/auth/login", json=login).status_code == 200
    headers = {"Origin": "https://localhost", "X-Forwarded-Proto": "https"}
    response = create(client, "proxied", headers, environ_base={"REMOTE_ADDR": peer})
    assert response.status_code == expected
