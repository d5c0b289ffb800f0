"""Client mistakes that only show on a live server (gunicorn's chunked decoding, the real
databases' integers and strings, real redirects): each is a 4xx with a JSON reason, never
a 5xx, and nothing is stored (issue 13, the minor list)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.factories import (
    artifact_status,
    assert_error,
    compute_sha256,
    create_api_key,
    create_package,
    create_project,
    delete_project_quietly,
    login,
    multipart_body,
    multipart_content_type,
    quoted_filename,
    raw_request,
    request_head,
    unique_content,
    unique_name,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def admin(live_server) -> Iterator[httpx.Client]:
    with login(live_server.url, live_server.admin_user, live_server.admin_password) as client:
        yield client


@pytest.fixture(scope="module")
def bearer(admin) -> str:
    return f"Bearer {create_api_key(admin)['key']}"


@pytest.fixture(scope="module")
def target(admin) -> Iterator[tuple[str, str]]:
    project, package = unique_name("hostile"), unique_name("pkg")
    create_project(admin, project)
    create_package(admin, project, package)
    yield project, package
    delete_project_quietly(admin, project)


# ----------------------------------------------------------------- chunked bodies


def chunked_upload(live_server, target, bearer, chunks: bytes, *, half_close: bool = False):
    project, package = target
    head = request_head(
        live_server.url,
        "POST",
        f"/api/v1/project/{project}/{package}/upload",
        {"Content-Type": multipart_content_type(), "Transfer-Encoding": "chunked"},
        None,
        auth=bearer,
    )
    return raw_request(live_server.url, head, [chunks], half_close=half_close, timeout=30)


@pytest.mark.parametrize(
    ("framing", "words"),
    [
        (lambda part: b"zz\r\n" + part + b"\r\n0\r\n\r\n", "chunk size"),
        (lambda part: b"-5\r\n" + part + b"\r\n0\r\n\r\n", "chunk size"),
        (lambda part: b"%x\r\n" % len(part) + part + b"XX0\r\n\r\n", "chunk terminator"),
        (lambda part: b"%x;a=\x01\r\n" % len(part) + part + b"\r\n0\r\n\r\n", "chunk"),
        (lambda part: b"f" * 20_000 + b"\r\n" + part + b"\r\n0\r\n\r\n", "chunk size"),
    ],
    ids=[
        "non-hex size",
        "negative size",
        "no CRLF after the chunk",
        "bad extension",
        "20,000-digit size",
    ],
)
def test_a_malformed_chunked_body_is_a_400_and_stores_nothing(
    live_server, admin, target, bearer, framing, words
) -> None:
    content = unique_content("chunked")
    part = multipart_body(quoted_filename("c.bin"), content)
    response = chunked_upload(live_server, target, bearer, framing(part))
    detail = assert_error(response, 400)
    assert words in detail and "nothing was stored" in detail
    assert artifact_status(admin, compute_sha256(content)) == 404
    assert not live_server.blob_exists(compute_sha256(content))


def test_a_huge_chunk_size_that_never_arrives_is_a_400(live_server, admin, target, bearer):
    content = unique_content("huge-chunk")
    part = multipart_body(quoted_filename("h.bin"), content)
    response = chunked_upload(
        live_server, target, bearer, b"f" * 40 + b"\r\n" + part, half_close=True
    )
    assert_error(response, 400)
    assert artifact_status(admin, compute_sha256(content)) == 404


def test_a_well_formed_chunked_upload_still_works(live_server, admin, target, bearer) -> None:
    content = unique_content("chunked-ok")
    part = multipart_body(quoted_filename("ok.bin"), content)
    response = chunked_upload(live_server, target, bearer, b"%x\r\n" % len(part) + part +
                              b"\r\n0\r\n\r\n")  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["artifact_id"] == compute_sha256(content)


# ----------------------------------------------------------------- listings


@pytest.mark.parametrize("page", [str(2**63), str(2**64), str(10**40)])
def test_a_page_beyond_64_bits_is_a_400_on_every_listing(admin, target, page) -> None:
    project, package = target
    for path in (
        "/api/v1/projects",
        f"/api/v1/project/{project}/packages",
        f"/api/v1/project/{project}/{package}/tags",
        f"/api/v1/project/{project}/{package}/versions",
        f"/api/v1/project/{project}/{package}/artifacts",
    ):
        assert "page" in assert_error(admin.get(path, params={"page": page}), 400)


@pytest.mark.parametrize("search", ["\x00", "a\x00", "\r\n", "\x1b["])
def test_a_search_with_a_control_character_is_a_400_not_everything(admin, target, search):
    project, _ = target
    for path in ("/api/v1/projects", f"/api/v1/project/{project}/packages"):
        detail = assert_error(admin.get(path, params={"search": search}), 400)
        assert "control character" in detail


# ----------------------------------------------------------------- /simple/ redirects


@pytest.mark.parametrize(
    "name", ["Foo%0d%0aSet-Cookie:%20x=1", "Foo%0aX", "Foo%00", "Foo%09Bar", "Foo%e2%80%ae"]
)
@pytest.mark.parametrize("prefix", ["", "/pypi/pypi"])
def test_a_control_character_in_a_simple_name_is_refused_never_redirected(
    live_server, prefix, name
) -> None:
    response = httpx.get(f"{live_server.url}{prefix}/simple/{name}/", follow_redirects=False)
    assert_error(response, 400, 404)
    assert "set-cookie" not in response.headers and "location" not in response.headers


def test_a_control_character_in_the_project_of_a_redirect_never_reaches_a_header(
    live_server,
) -> None:
    response = httpx.get(f"{live_server.url}/pypi/x%0d%0aSet-Cookie:%20a=1/simple/Foo/",
                         follow_redirects=False)  # fmt: skip
    assert response.status_code < 500
    assert "set-cookie" not in response.headers
    assert "\n" not in response.headers.get("location", "")


def test_a_non_normalized_simple_name_still_redirects(live_server) -> None:
    response = httpx.get(f"{live_server.url}/simple/Foo_Bar/?x=1", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"].endswith("/simple/foo-bar/?x=1")


def test_an_api_key_id_beyond_64_bits_is_a_404(admin) -> None:
    assert_error(admin.delete(f"/api/v1/auth/keys/{2**64}"), 404)


# ----------------------------------------------------------------- NUL in stored text


def test_a_nul_in_json_or_in_a_url_is_a_400_on_every_backend(live_server, admin, target):
    """PostgreSQL cannot hold NUL in text: each of these was a 500 there (and stored as
    sent on SQLite). Anonymous login included."""
    project, package = target
    refused = [
        admin.post("/api/v1/projects", json={"name": unique_name("nul"), "description": "\0"}),
        admin.patch(f"/api/v1/projects/{project}", json={"description": "a\x00b"}),
        admin.post(f"/api/v1/project/{project}/packages", json={"name": "n", "description": "\0"}),
        admin.post("/api/v1/auth/keys", json={"name": "a\x00b"}),
        httpx.post(
            f"{live_server.url}/api/v1/auth/login",
            json={"username": "a\x00b", "password": "whatever"},
        ),
        admin.put(f"/api/v1/projects/{project}/members/a%00b", json={"role": "read"}),
        admin.get(f"/api/v1/project/{project}/{package}/tags/a%00b"),
    ]
    for response in refused:
        assert "NUL" in assert_error(response, 400), response.request.url
    assert admin.get(f"/api/v1/projects/{project}").json()["description"] == ""


@pytest.mark.parametrize("path", ["/api/v1/projects", "/simple/"])
def test_http_basic_with_a_nul_in_the_username_is_a_401(live_server, path) -> None:
    response = httpx.get(f"{live_server.url}{path}", auth=("a\x00b", "whatever"))
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == 'Basic realm="orchard"'
