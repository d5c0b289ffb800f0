"""Bodies a broken client or an attacker sends, against a live server (gunicorn, one worker).

A body that is not a file upload is small (``ORCHARD_MAX_BODY_SIZE``): refused with 413
from its declared length before it is sent, or as soon as a chunked one passes the limit,
and the worker does not buffer it. File parts keep ``ORCHARD_MAX_UPLOAD_SIZE``. Every 413
names its limit; a refused body closes the connection instead of promising keep-alive.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.factories import (
    assert_error,
    create_package,
    create_project,
    login,
    unique_name,
    upload_test_file,
)
from tests.harness.live_server import LiveServer, build_server

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(request, tmp_path_factory) -> Iterator[LiveServer]:
    live = build_server("sqlite-fs", tmp_path_factory.mktemp("bodies"), request)
    live.env["ORCHARD_WORKERS"] = "1"  # one worker: its memory is the one measured
    live.workers = 1
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def admin(server) -> Iterator[httpx.Client]:
    with login(server.url, server.admin_user, server.admin_password) as client:
        yield client


def connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", urlsplit(server.url).port), timeout=30)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response (Content-Length framed) from the socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"the server closed without an answer: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def login_head(server: LiveServer, extra: str) -> bytes:
    host = urlsplit(server.url).netloc
    return (
        f"POST /api/v1/auth/login HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


def worker_peak_rss(server: LiveServer) -> int:
    """The peak resident memory (bytes) of the server's one worker so far: a buffered body
    is freed after the request, so only the high-water mark shows it was held."""
    pids = _descendants(server.process.pid)
    workers = [pid for pid in pids if not _descendants(pid)]
    assert len(workers) == 1, f"expected one worker, found {workers}"
    status = Path(f"/proc/{workers[0]}/status").read_text()
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kib) * 1024


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *_descendants(int(child))]
    return found


class TestSmallBodies:
    def test_a_declared_oversized_login_body_is_refused_before_it_is_sent(self, server):
        with connect(server) as sock:
            sock.sendall(login_head(server, f"Content-Length: {100 * MIB}\r\n"))
            status, headers, body = read_response(sock)  # no byte of the body was sent
        assert status == 413
        assert "json" in headers["content-type"]
        detail = json.loads(body)["detail"]
        assert "1 MiB" in detail and "ORCHARD_MAX_BODY_SIZE" in detail

    def test_a_declared_oversized_body_with_expect_continue_gets_no_100(self, server):
        with connect(server) as sock:
            head = f"Content-Length: {100 * MIB}\r\nExpect: 100-continue\r\n"
            sock.sendall(login_head(server, head))
            status, _, _ = read_response(sock)
        assert status == 413  # not 100: the client is told before it sends the body

    def test_a_chunked_oversized_login_body_is_refused_while_it_is_read(self, server):
        chunk = b"%x\r\n%s\r\n" % (MIB, b" " * MIB)
        with connect(server) as sock:
            sock.sendall(login_head(server, "Transfer-Encoding: chunked\r\n"))
            for _ in range(64):  # at most 64 MiB; the server answers long before
                try:
                    sock.sendall(chunk)
                except OSError:
                    break  # it stopped reading and closed: the answer is waiting
            status, _, body = read_response(sock)
        assert status == 413
        assert "ORCHARD_MAX_BODY_SIZE" in json.loads(body)["detail"]

    def test_the_worker_does_not_buffer_an_oversized_json_body(self, server):
        before = worker_peak_rss(server)
        chunk = b"%x\r\n%s\r\n" % (MIB, b'"' + b"a" * (MIB - 2) + b'"')
        for _ in range(2):
            with connect(server) as sock:
                sock.sendall(login_head(server, "Transfer-Encoding: chunked\r\n"))
                sock.sendall(b"1\r\n[\r\n")
                for _ in range(128):  # 128 MiB offered, as in the review
                    try:
                        sock.sendall(chunk)
                    except OSError:
                        break
                with contextlib.suppress(AssertionError, OSError):  # answered, or reset
                    read_response(sock)
        growth = worker_peak_rss(server) - before
        assert growth < 32 * MIB, f"the worker's peak memory grew by {growth // MIB} MiB"

    def test_an_oversized_package_description_is_refused_and_nothing_stored(self, admin):
        project = create_project(admin, unique_name("bodies"))["name"]
        name = unique_name("pkg")
        response = admin.post(
            f"/api/v1/project/{project}/packages", json={"name": name, "description": "d" * 2 * MIB}
        )
        assert "ORCHARD_MAX_BODY_SIZE" in assert_error(response, 413)
        assert admin.get(f"/api/v1/project/{project}/packages/{name}").status_code == 404

    def test_a_file_part_larger_than_the_body_limit_is_still_an_upload(self, admin):
        project = create_project(admin, unique_name("bodies"))["name"]
        package = create_package(admin, project, "files")["name"]
        result = upload_test_file(admin, project, package, b"x" * 3 * MIB, tag="big")
        assert result["size"] == 3 * MIB


class TestUploadForms:
    def test_oversized_form_fields_of_an_upload_are_refused_and_nothing_stored(self, server, admin):
        project = create_project(admin, unique_name("bodies"))["name"]
        package = create_package(admin, project, "fields")["name"]
        blobs = server.blob_count()
        response = admin.post(
            f"/api/v1/project/{project}/{package}/upload",
            files={"file": ("a.bin", b"content", "application/octet-stream")},
            data={"tag": "t", **{f"extra{i}": "v" * 512 * 1024 for i in range(6)}},
        )
        assert "ORCHARD_MAX_BODY_SIZE" in assert_error(response, 413)
        assert server.blob_count() == blobs and server.temp_count() == 0
        assert admin.get(f"/api/v1/project/{project}/{package}/tags").json()["items"] == []

    def test_an_oversized_pypi_description_is_refused_and_nothing_stored(self, server, admin):
        project = create_project(admin, unique_name("bodies"))["name"]
        create_package(admin, project, "demo", package_format="pypi")
        blobs = server.blob_count()
        response = admin.post(
            f"/pypi/{project}/legacy/",
            files={"content": ("demo-1.0.tar.gz", b"not really", "application/octet-stream")},
            data={
                ":action": "file_upload",
                "name": "demo",
                "version": "1.0",
                "description": "d" * 2 * MIB,
            },
        )
        assert response.status_code == 413
        assert "ORCHARD_MAX_BODY_SIZE" in response.json()["detail"]
        assert server.blob_count() == blobs and server.temp_count() == 0

    def test_a_declared_oversized_upload_names_the_upload_limit(self, server, admin):
        project = create_project(admin, unique_name("bodies"))["name"]
        package = create_package(admin, project, "huge")["name"]
        with connect(server) as sock:
            host = urlsplit(server.url).netloc
            cookie = "; ".join(f"{k}={v}" for k, v in admin.cookies.items())
            sock.sendall(
                f"POST /api/v1/project/{project}/{package}/upload HTTP/1.1\r\nHost: {host}\r\n"
                f"Cookie: {cookie}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {server.max_upload_size * 2}\r\n\r\n".encode()
            )
            status, _, body = read_response(sock)
        assert status == 413
        assert "ORCHARD_MAX_UPLOAD_SIZE" in json.loads(body)["detail"]

    def test_a_file_part_over_the_upload_limit_names_the_upload_limit(self, server, admin):
        project = create_project(admin, unique_name("bodies"))["name"]
        package = create_package(admin, project, "over")["name"]
        part = (
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (MIB, b"x" * MIB)
        with connect(server) as sock:
            host = urlsplit(server.url).netloc
            cookie = "; ".join(f"{k}={v}" for k, v in admin.cookies.items())
            sock.sendall(
                f"POST /api/v1/project/{project}/{package}/upload HTTP/1.1\r\nHost: {host}\r\n"
                f"Cookie: {cookie}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                "Transfer-Encoding: chunked\r\n\r\n".encode()
                + b"%x\r\n%s\r\n" % (len(part), part)
            )
            for _ in range(server.max_upload_size // MIB + 8):  # past the limit, no length
                try:
                    sock.sendall(chunk)
                except OSError:
                    break
            status, _, body = read_response(sock)
        assert status == 413
        assert "ORCHARD_MAX_UPLOAD_SIZE" in json.loads(body)["detail"]
        assert server.temp_count() == 0


class TestConnectionAfterRefusal:
    def test_a_refusal_of_an_unread_body_closes_the_connection(self, server):
        with connect(server) as sock:
            sock.sendall(login_head(server, f"Content-Length: {100 * MIB}\r\n"))
            status, headers, _ = read_response(sock)
            assert status == 413
            assert headers["connection"] == "close"
            assert sock.recv(1) == b""  # closed, as announced

    def test_a_read_body_keeps_the_connection_alive(self, server):
        body = b'{"username": "nobody", "password": "wrong"}'
        with connect(server) as sock:
            for _ in range(2):
                sock.sendall(login_head(server, f"Content-Length: {len(body)}\r\n") + body)
                status, headers, _ = read_response(sock)
                assert status == 401 and headers["connection"] == "keep-alive"


class TestErrorsAreJson:
    @pytest.mark.parametrize(
        ("request_bytes", "status"),
        [
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
            (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-N: a\r\n" * 120 + b"\r\n", 431),
            (b"NOT HTTP AT ALL\r\n\r\n", 400),
        ],
        ids=["long-request-line", "long-header", "too-many-headers", "garbage"],
    )
    def test_refusals_of_the_http_server_are_json(self, server, request_bytes, status):
        with connect(server) as sock:
            sock.sendall(request_bytes)
            got, headers, body = read_response(sock)
        assert got == status
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["detail"].strip()

    def test_an_unsatisfiable_range_has_a_json_detail(self, admin):
        project = create_project(admin, unique_name("bodies"))["name"]
        package = create_package(admin, project, "ranges")["name"]
        upload_test_file(admin, project, package, b"0123456789", tag="t")
        response = admin.get(
            f"/api/v1/project/{project}/{package}/+/tag:t", headers={"Range": "bytes=100-200"}
        )
        assert "10 bytes" in assert_error(response, 416)
        assert response.headers["content-range"] == "bytes */10"


class TestExpectContinue:
    def test_a_small_body_behind_expect_continue_gets_one_100_and_an_answer(self, server):
        body = b'{"username": "nobody", "password": "wrong"}'
        head = f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n"
        with connect(server) as sock:
            sock.sendall(login_head(server, head))
            status, _, _ = read_response(sock)
            assert status == 100
            sock.sendall(body)
            status, _, _ = read_response(sock)  # a second 100 would show up here
        assert status == 401
