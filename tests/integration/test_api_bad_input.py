"""Hostile and broken input to the REST API (SPEC §1 Names, §2 errors, §5 Safe names, Atomic).

Every refusal must be a 4xx with a JSON ``{"detail": ...}`` sentence, no stack trace and no
server path, and must leave nothing behind: no artifact row, no tag, no new blob.
Requests httpx would refuse or escape (CR/LF or NUL in a filename, a lying
Content-Length, a client that hangs up) are written by hand on a raw socket.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.factories import (
    BOUNDARY,
    SeededContent,
    artifact_status,
    assert_error,
    assert_no_leak,
    compute_sha256,
    create_api_key,
    create_package,
    create_project,
    delete_project_quietly,
    encoded_filename,
    generate_content,
    items_of,
    login,
    multipart_body,
    multipart_content_type,
    post_file,
    quoted_filename,
    raw_request,
    request_head,
    tag_names,
    unique_content,
    unique_name,
    upload_test_file,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def admin(live_server) -> Iterator[httpx.Client]:
    with login(live_server.url, live_server.admin_user, live_server.admin_password) as client:
        yield client


@pytest.fixture(scope="module")
def bearer(admin) -> str:
    """An Authorization header value for the raw-socket requests."""
    return f"Bearer {create_api_key(admin)['key']}"


@pytest.fixture
def target(admin) -> Iterator[tuple[str, str]]:
    """A fresh public project and generic package: ``(project, package)``."""
    project, package = unique_name("badin"), unique_name("pkg")
    create_project(admin, project)
    create_package(admin, project, package)
    yield project, package
    delete_project_quietly(admin, project)


def upload_path(target: tuple[str, str]) -> str:
    project, package = target
    return f"/api/v1/project/{project}/{package}/upload"


def assert_nothing_stored(admin, live_server, target, sha256, blobs_before, tag=None) -> None:
    """No artifact row for ``sha256``, no ``tag`` in the package, no new blob."""
    assert artifact_status(admin, sha256) == 404, "an artifact row was created"
    if tag is not None:
        assert tag not in tag_names(admin, *target), f"tag {tag!r} was created"
    assert not live_server.blob_exists(sha256), "the blob was stored"
    assert live_server.blob_count() == blobs_before, "a blob was added to the store"


def raw_upload(live_server, bearer, target, body: bytes, content_type: str, **kw):
    head = request_head(
        live_server.url,
        "POST",
        upload_path(target),
        {"Content-Type": content_type},
        kw.pop("content_length", len(body)),
        auth=bearer,
    )
    return raw_request(live_server.url, head, [body], **kw)


# --- filenames -------------------------------------------------------------------------

BAD_FILENAMES = [
    pytest.param(quoted_filename("../x"), "../x", (400,), id="dot-dot-slash"),
    pytest.param(quoted_filename("/etc/passwd"), "/etc/passwd", (400,), id="absolute-path"),
    pytest.param(quoted_filename("..\\x.bin"), "..\\x.bin", (400,), id="backslash"),
    pytest.param(quoted_filename("a\x00b.bin"), "a\x00b.bin", (400,), id="nul"),
    # Sent RFC 5987-encoded, the server really receives CR/LF in the name: a 400.
    pytest.param(encoded_filename("a\r\nb.bin"), "a\r\nb.bin", (400,), id="cr-lf-encoded"),
    # Raw CR/LF breaks the part header itself: the part has no usable filename (422 "no
    # file") or the request is refused as malformed (400).
    pytest.param(quoted_filename("a\r\nb.bin"), "a\r\nb.bin", (400, 422), id="cr-lf-raw"),
    pytest.param(quoted_filename("f" * 300 + ".bin"), "f" * 300 + ".bin", (400,), id="300-bytes"),
]


@pytest.mark.parametrize(("filename_param", "filename", "statuses"), BAD_FILENAMES)
def test_upload_with_unsafe_filename_is_refused_and_stores_nothing(
    admin, live_server, bearer, target, filename_param, filename, statuses
):
    content = unique_content("unsafe filename")
    sha256 = compute_sha256(content)
    tag = unique_name("t")
    blobs_before = live_server.blob_count()

    body = multipart_body(filename_param, content, {"tag": tag})
    response = raw_upload(live_server, bearer, target, body, multipart_content_type())

    assert_error(response, *statuses, sent=[filename])
    assert_nothing_stored(admin, live_server, target, sha256, blobs_before, tag)


# --- tags, versions, package and project names ------------------------------------------

BAD_REF_NAMES = [
    pytest.param("a/b", id="slash"),
    pytest.param("../etc", id="dot-dot"),
    pytest.param("a b", id="space"),
    pytest.param("r" * 300, id="300-chars"),
    pytest.param("répertoire", id="non-ascii"),
    pytest.param("<b>x", id="html"),
    pytest.param("a\r\nb", id="cr-lf"),
]


@pytest.mark.parametrize("tag", [*BAD_REF_NAMES, pytest.param("tag:latest", id="tag-prefix")])
def test_upload_with_invalid_tag_is_400_and_stores_nothing(admin, live_server, target, tag):
    content = unique_content("invalid tag")
    blobs_before = live_server.blob_count()

    response = post_file(admin, *target, content, tag=tag)

    assert_error(response, 400, sent=[tag])
    assert_nothing_stored(admin, live_server, target, compute_sha256(content), blobs_before, tag)


@pytest.mark.parametrize(
    "version", [*BAD_REF_NAMES, pytest.param("version:1.0", id="version-prefix")]
)
def test_upload_with_invalid_version_is_400_and_stores_nothing(admin, live_server, target, version):
    content = unique_content("invalid version")
    blobs_before = live_server.blob_count()

    response = post_file(admin, *target, content, version=version)

    assert_error(response, 400, sent=[version])
    assert_nothing_stored(admin, live_server, target, compute_sha256(content), blobs_before)
    versions = admin.get(f"/api/v1/project/{target[0]}/{target[1]}/versions")
    assert versions.status_code == 200
    assert items_of(versions.json()) == []


def test_put_tag_with_tag_prefix_is_400(admin, target):
    """``tag:`` is a reference prefix: it cannot become part of a name through PUT either."""
    project, package = target
    result = upload_test_file(admin, project, package, unique_content("put prefix"))

    response = admin.put(
        f"/api/v1/project/{project}/{package}/tags/tag:stable",
        json={"artifact_id": result["artifact_id"]},
    )

    assert_error(response, 400)
    assert not any(name.startswith("tag:") for name in tag_names(admin, project, package))


BAD_NAMES = [
    pytest.param("a/b", id="slash"),
    pytest.param("..", id="dot-dot"),
    pytest.param("a b", id="space"),
    pytest.param("n" * 300, id="300-chars"),
    pytest.param("paquete-ñ", id="non-ascii"),
    pytest.param("<b>x", id="html"),
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_create_package_with_invalid_name_is_400(admin, target, name):
    project, _ = target

    response = admin.post(
        f"/api/v1/project/{project}/packages",
        json={"name": name, "description": "", "format": "generic"},
    )

    assert_error(response, 400, sent=[name])
    listing = admin.get(f"/api/v1/project/{project}/packages")
    assert listing.status_code == 200
    assert name not in [package["name"] for package in items_of(listing.json())]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_create_project_with_invalid_name_is_400(admin, name):
    response = admin.post(
        "/api/v1/projects", json={"name": name, "description": "", "is_public": True}
    )

    assert_error(response, 400, sent=[name])
    listing = admin.get("/api/v1/projects")
    assert listing.status_code == 200
    assert name not in [project["name"] for project in items_of(listing.json())]


# --- malformed multipart ----------------------------------------------------------------


def test_multipart_without_boundary_is_refused(admin, live_server, target):
    content = unique_content("no boundary")
    tag = unique_name("t")
    blobs_before = live_server.blob_count()
    body = multipart_body(quoted_filename("a.bin"), content, {"tag": tag})

    response = admin.post(
        upload_path(target), content=body, headers={"Content-Type": "multipart/form-data"}
    )

    assert_error(response, 400, 422)
    assert_nothing_stored(admin, live_server, target, compute_sha256(content), blobs_before, tag)


def test_truncated_multipart_body_is_refused(admin, live_server, target):
    """The body ends inside the file part, with no closing boundary."""
    content = generate_content(64 * 1024) + unique_content()
    tag = unique_name("t")
    blobs_before = live_server.blob_count()
    body = multipart_body(quoted_filename("a.bin"), content, {"tag": tag})
    truncated = body[: len(body) - 1000]

    response = admin.post(
        upload_path(target), content=truncated, headers={"Content-Type": multipart_content_type()}
    )

    assert_error(response, 400, 422)
    assert_nothing_stored(admin, live_server, target, compute_sha256(content), blobs_before, tag)


# --- size limit ---------------------------------------------------------------------------


def test_body_over_max_upload_size_is_413(admin, live_server, bearer, target):
    limit = live_server.max_upload_size
    assert limit, "the harness must start the server with ORCHARD_MAX_UPLOAD_SIZE"
    content = SeededContent(limit + 1, seed=int(time.time()))
    blobs_before = live_server.blob_count()
    prefix, suffix = multipart_body(quoted_filename("big.bin"), b"\0").split(b"\0")
    head = request_head(
        live_server.url,
        "POST",
        upload_path(target),
        {"Content-Type": multipart_content_type()},
        len(prefix) + content.size + len(suffix),
        auth=bearer,
    )

    response = raw_request(live_server.url, head, [prefix, *content.chunks(), suffix])

    assert_error(response, 413)
    assert_nothing_stored(admin, live_server, target, content.sha256, blobs_before)


# --- clients that hang up or lie about the length ----------------------------------------


def sweep_and_count_temporaries(live_server, attempts: int = 20) -> int:
    """Run GC with no grace until no temporary upload is left (the worker may still be
    noticing the hang-up); returns what is left at the end."""
    for _ in range(attempts):
        result = live_server.cli("gc", "--apply", "--grace", "0")
        assert result.returncode == 0, f"orchard gc failed: {result.stdout} {result.stderr}"
        if live_server.temp_count() == 0:
            return 0
        time.sleep(0.5)
    return live_server.temp_count()


def test_client_disconnecting_mid_upload_leaves_nothing(admin, live_server, bearer, target):
    content = generate_content(2 * 1024 * 1024) + unique_content()
    sha256 = compute_sha256(content)
    tag = unique_name("t")
    blobs_before = live_server.blob_count()
    body = multipart_body(quoted_filename("half.bin"), content, {"tag": tag})

    raw_upload(
        live_server,
        bearer,
        target,
        body[: len(body) // 2],
        multipart_content_type(),
        content_length=len(body),
        hang_up=True,
    )
    time.sleep(1)  # let the worker notice the hang-up

    assert_nothing_stored(admin, live_server, target, sha256, blobs_before, tag)
    assert sweep_and_count_temporaries(live_server) == 0, "temporary upload left after GC"
    assert artifact_status(admin, sha256) == 404


def assert_refused_or_closed(response) -> None:
    """A 4xx (with a clean body), or the server simply closed the connection."""
    if response.status is None:
        return
    assert 400 <= response.status < 500, f"{response.status}: {response.text[:300]}"
    assert_no_leak(response.text)


def test_content_length_larger_than_body_is_refused(admin, live_server, bearer, target):
    """The client promises more bytes than it sends, then closes its side. The multipart
    body itself looks complete, but the message is not (RFC 9112 §8: a body cut short of
    its Content-Length is incomplete), so nothing may be stored."""
    content = unique_content("declares more") * 100
    tag = unique_name("t")
    blobs_before = live_server.blob_count()
    body = multipart_body(quoted_filename("more.bin"), content, {"tag": tag})

    response = raw_upload(
        live_server,
        bearer,
        target,
        body,
        multipart_content_type(),
        content_length=len(body) + 4096,
        half_close=True,
        timeout=30,
    )

    assert_refused_or_closed(response)
    assert_nothing_stored(admin, live_server, target, compute_sha256(content), blobs_before, tag)


def test_content_length_larger_than_a_truncated_body_is_refused(admin, live_server, bearer, target):
    """The body stops inside the file data, short of what Content-Length promised."""
    content = unique_content("declares more, sends half") * 100
    tag = unique_name("t")
    blobs_before = live_server.blob_count()
    body = multipart_body(quoted_filename("more.bin"), content, {"tag": tag})

    response = raw_upload(
        live_server,
        bearer,
        target,
        body[: len(body) - len(content) // 2],
        multipart_content_type(),
        content_length=len(body),
        half_close=True,
        timeout=30,
    )

    assert_refused_or_closed(response)
    assert_nothing_stored(admin, live_server, target, compute_sha256(content), blobs_before, tag)


def test_content_length_smaller_than_body_is_refused(admin, live_server, bearer, target):
    """The declared length ends inside the file data: the server sees a truncated part."""
    content = unique_content("declares less") * 100
    tag = unique_name("t")
    blobs_before = live_server.blob_count()
    body = multipart_body(quoted_filename("less.bin"), content, {"tag": tag})
    closing = len(f"\r\n--{BOUNDARY}--\r\n")

    response = raw_upload(
        live_server,
        bearer,
        target,
        body,
        multipart_content_type(),
        content_length=len(body) - closing - 100,
        timeout=30,
    )

    assert_refused_or_closed(response)
    assert_nothing_stored(admin, live_server, target, compute_sha256(content), blobs_before, tag)


# --- header and markup injection ---------------------------------------------------------


@pytest.mark.parametrize(
    "filename_param",
    [
        pytest.param(encoded_filename("evil\r\nX-Injected: yes.bin"), id="rfc5987"),
        pytest.param(quoted_filename("evil\r\nX-Injected: yes.bin"), id="raw"),
    ],
)
def test_crlf_filename_never_reaches_a_response_header(
    admin, live_server, bearer, target, filename_param
):
    content = unique_content("header injection")
    body = multipart_body(filename_param, content)

    response = raw_upload(live_server, bearer, target, body, multipart_content_type())

    assert response.status is not None, "the server hung up instead of answering"
    assert not any(line.lower().startswith("x-injected") for line in response.header_lines)
    assert b"\r\nX-Injected" not in response.body
    assert_error(response, 400, 422, sent=["evil\r\nX-Injected: yes.bin"])
    assert artifact_status(admin, compute_sha256(content)) == 404


def test_html_filename_comes_back_json_escaped(admin, live_server, bearer, target):
    """Markup in a filename is data: kept as sent, and only ever rendered as JSON."""
    name = f'<img src=x onerror=alert(1)>"{unique_name("q")}".html'
    body = multipart_body(quoted_filename(name), unique_content("html name"))

    response = raw_upload(live_server, bearer, target, body, multipart_content_type())

    assert response.status == 200, response.text
    assert response.headers.get("content-type", "").startswith("application/json")
    assert response.json()["original_name"] == name
    assert name.encode() not in response.body, "the name's quotes were not JSON-escaped"
