"""Test data and HTTP helpers shared by the integration tests of the live server.

Content and checksums (``generate_content``, ``compute_sha256``...), the upstream
``upload_test_file``, the few REST calls every test needs (login, projects, packages,
API keys), the checks every error response must pass, and a raw HTTP client for the
requests httpx refuses to send (malformed multipart, lying Content-Length, a client that
hangs up halfway).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import re
import socket
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import quote, urlsplit

import httpx

# =============================================================================
# Checksums and content
# =============================================================================


def compute_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def compute_md5(content: bytes) -> str:
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def compute_sha1(content: bytes) -> str:
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


def compute_blake2b_256(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=32).hexdigest()


TEST_CONTENT_HELLO = b"Hello, World!"
TEST_HASH_HELLO = compute_sha256(TEST_CONTENT_HELLO)
TEST_MD5_HELLO = compute_md5(TEST_CONTENT_HELLO)
TEST_SHA1_HELLO = compute_sha1(TEST_CONTENT_HELLO)
TEST_CONTENT_EMPTY = b""
TEST_CONTENT_BINARY = bytes(range(256))
TEST_HASH_BINARY = compute_sha256(TEST_CONTENT_BINARY)


def generate_content(size: int, seed: int | None = None) -> bytes:
    """``size`` bytes: the same bytes for the same seed, random bytes without one."""
    if size == 0:
        return b""
    if seed is not None:
        return random.Random(seed).randbytes(size)
    return os.urandom(size)


def generate_content_with_hash(size: int, seed: int | None = None) -> tuple[bytes, str]:
    content = generate_content(size, seed)
    return content, compute_sha256(content)


def unique_name(prefix: str) -> str:
    """A project/package/tag name no other test uses (names are lowercase-safe)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def unique_content(label: str = "content") -> bytes:
    """Small content no other upload of the session has, so its sha256 is unknown so far."""
    return f"{label} {uuid.uuid4().hex} {uuid.uuid4().hex}".encode()


class SeededContent:
    """``generate_content(size, seed)`` streamed in 1 MiB blocks, never held in memory.

    ``open()`` gives a file object httpx can measure (seek to the end) and stream, so a
    1 GB upload costs the test a few MiB. The blocks are a multiple of 4 bytes, which makes
    ``Random(seed).randbytes`` in blocks produce exactly the bytes of one big call.
    """

    BLOCK = 1 << 20

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self._sha256: str | None = None

    def chunks(self) -> Iterator[bytes]:
        rng = random.Random(self.seed)
        remaining = self.size
        while remaining > 0:
            block = rng.randbytes(min(self.BLOCK, remaining))
            remaining -= len(block)
            yield block

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            digest = hashlib.sha256()
            for chunk in self.chunks():
                digest.update(chunk)
            self._sha256 = digest.hexdigest()
        return self._sha256

    def open(self) -> _SeededReader:
        return _SeededReader(self)


class _SeededReader:
    """A read-only, sequential file object over a ``SeededContent``."""

    def __init__(self, content: SeededContent) -> None:
        self._content = content
        self.seek(0)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END and offset == 0:
            self._pos = self._content.size
            self._chunks: Iterator[bytes] = iter(())
        elif whence == io.SEEK_SET and offset == 0:
            self._pos = 0
            self._chunks = self._content.chunks()
        else:
            raise io.UnsupportedOperation("only seek(0) and seek(0, SEEK_END)")
        self._block, self._offset = b"", 0
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        want = self._content.size - self._pos if size < 0 else size
        parts = []
        while want > 0:
            if self._offset >= len(self._block):
                self._block, self._offset = next(self._chunks, b""), 0
                if not self._block:
                    break
            part = self._block[self._offset : self._offset + want]
            self._offset += len(part)
            want -= len(part)
            parts.append(part)
        data = b"".join(parts)
        self._pos += len(data)
        return data


def download_digest(
    client: httpx.Client, url: str, params: dict | None = None
) -> tuple[int, int, str]:
    """GET ``url`` streaming: (status, number of body bytes, sha256 of the body)."""
    digest = hashlib.sha256()
    size = 0
    with client.stream("GET", url, params=params) as response:
        for chunk in response.iter_bytes(1 << 20):
            digest.update(chunk)
            size += len(chunk)
        return response.status_code, size, digest.hexdigest()


# =============================================================================
# Uploads (the upstream helper)
# =============================================================================


def upload_test_file(
    client: httpx.Client,
    project: str,
    package: str,
    content: bytes | BinaryIO,
    filename: str = "test.bin",
    tag: str | None = None,
    version: str | None = None,
    content_type: str = "application/octet-stream",
) -> dict:
    """Upload ``content`` (bytes or a file object) and return the JSON; asserts a 200."""
    stream = io.BytesIO(content) if isinstance(content, bytes) else content
    data = {key: value for key, value in (("tag", tag), ("version", version)) if value}
    response = client.post(
        f"/api/v1/project/{project}/{package}/upload",
        files={"file": (filename, stream, content_type)},
        data=data,
    )
    assert response.status_code == 200, f"Upload failed: {response.status_code} {response.text}"
    return response.json()


def post_file(
    client: httpx.Client,
    project: str,
    package: str,
    content: bytes,
    filename: str = "test.bin",
    **data: str,
) -> httpx.Response:
    """Upload without asserting anything: for tests of the refusals."""
    return client.post(
        f"/api/v1/project/{project}/{package}/upload",
        files={"file": (filename, io.BytesIO(content), "application/octet-stream")},
        data=data,
    )


# =============================================================================
# The REST calls most tests start with
# =============================================================================


def login(base_url: str, username: str, password: str, timeout: float = 120) -> httpx.Client:
    """A new (unopened, so usable in ``with``) client holding the session cookie."""
    response = httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={"username": username, "password": password},
        timeout=timeout,
    )
    assert response.status_code == 200, f"Login of {username} failed: {response.text}"
    assert response.cookies, "login answered 200 but set no session cookie"
    return httpx.Client(base_url=base_url, timeout=timeout, cookies=response.cookies)


def create_api_key(client: httpx.Client, name: str | None = None) -> dict:
    response = client.post("/api/v1/auth/keys", json={"name": name or unique_name("key")})
    assert response.status_code == 200, f"API key creation failed: {response.text}"
    body = response.json()
    assert body.get("key"), f"No secret in the API key response: {body}"
    return body


def create_user(admin: httpx.Client, username: str, password: str, is_admin: bool = False):
    response = admin.post(
        "/api/v1/users",
        json={"username": username, "password": password, "is_admin": is_admin},
    )
    assert response.status_code in (200, 201), f"User creation failed: {response.text}"
    return response.json()


def set_member(admin: httpx.Client, project: str, username: str, role: str) -> httpx.Response:
    return admin.put(f"/api/v1/projects/{project}/members/{username}", json={"role": role})


def create_project(
    client: httpx.Client, name: str, is_public: bool = True, description: str = ""
) -> dict:
    response = client.post(
        "/api/v1/projects",
        json={"name": name, "description": description, "is_public": is_public},
    )
    assert response.status_code == 200, f"Project creation failed: {response.text}"
    return response.json()


def create_package(
    client: httpx.Client, project: str, name: str, package_format: str = "generic"
) -> dict:
    response = client.post(
        f"/api/v1/project/{project}/packages",
        json={"name": name, "description": f"package {name}", "format": package_format},
    )
    assert response.status_code == 200, f"Package creation failed: {response.text}"
    return response.json()


def delete_project_quietly(client: httpx.Client, name: str) -> None:
    """Teardown: the project may already be gone (a test deleted it)."""
    with contextlib.suppress(httpx.HTTPError):
        client.delete(f"/api/v1/projects/{name}")


def items_of(body: dict | list) -> list:
    """The items of a listing, whether paginated (``{"items": [...]}``) or a bare list."""
    return body["items"] if isinstance(body, dict) else body


def tag_names(client: httpx.Client, project: str, package: str) -> list[str]:
    response = client.get(f"/api/v1/project/{project}/{package}/tags")
    assert response.status_code == 200, response.text
    return [tag["name"] for tag in items_of(response.json())]


def artifact_status(client: httpx.Client, sha256: str) -> int:
    return client.get(f"/api/v1/artifact/{sha256}").status_code


def ref_count(client: httpx.Client, sha256: str) -> int:
    response = client.get(f"/api/v1/artifact/{sha256}")
    assert response.status_code == 200, response.text
    return response.json()["ref_count"]


# =============================================================================
# What every error response must be
# =============================================================================

# Signs of an internal path or a stack trace reaching the client.
_LEAK = re.compile(
    r"Traceback|File \"|site-packages|\.py\b|"
    r"(?<![\w.])/(?:home|usr|tmp|var|opt|work|srv|root|etc|proc|app|data)/"
)


def assert_no_leak(text: str, sent: Iterable[str] = ()) -> None:
    """No stack trace or filesystem path in ``text``, apart from the values we sent."""
    for value in sent:
        text = text.replace(value, "").replace(repr(value), "")
    match = _LEAK.search(text)
    assert match is None, f"Internal detail leaked ({match.group(0)!r}): {text[:500]}"


def assert_error(response, *statuses: int, sent: Iterable[str] = ()) -> str:
    """A JSON ``{"detail": "<sentence>"}`` with one of ``statuses``; returns the detail."""
    status = response.status_code
    text = response.text
    assert status in statuses, f"Expected {statuses}, got {status}: {text[:500]}"
    content_type = response.headers.get("content-type", "")
    assert "json" in content_type, f"Error is {content_type!r}, not JSON: {text[:500]}"
    try:
        body = response.json()
    except ValueError as error:
        raise AssertionError(f"Error body is not JSON: {text[:500]!r}") from error
    assert isinstance(body, dict), body
    detail = body.get("detail")
    assert isinstance(detail, str), f"No detail sentence: {body}"
    assert detail.strip(), f"Empty detail: {body}"
    assert "Traceback" not in text, text[:500]
    for value in body.values():
        assert_no_leak(str(value), sent)
    return detail


# =============================================================================
# Raw HTTP: the requests httpx will not send for us
# =============================================================================

BOUNDARY = "orchard-test-boundary-7d1f"


def quoted_filename(name: str | bytes) -> bytes:
    """``filename="..."``: the name's bytes as a quoted-string (``\\`` and ``"`` escaped as
    quoted-pairs, which multipart parsers unescape; CR, LF and NUL are left raw)."""
    raw = name.encode("utf-8") if isinstance(name, str) else name
    escaped = raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return b'filename="' + escaped + b'"'


def encoded_filename(name: str) -> bytes:
    """RFC 2231/5987 ``filename*=UTF-8''...``: how a client sends control characters."""
    return b"filename*=UTF-8''" + quote(name, safe="").encode("ascii")


def multipart_body(
    filename_param: bytes,
    content: bytes,
    fields: dict[str, str] | None = None,
    boundary: str = BOUNDARY,
) -> bytes:
    """A multipart/form-data body with ``fields`` and a ``file`` part, built by hand."""
    dash = b"--" + boundary.encode()
    parts = [
        dash + b"\r\n"
        b'Content-Disposition: form-data; name="'
        + name.encode()
        + b'"\r\n\r\n'
        + value.encode("utf-8")
        + b"\r\n"
        for name, value in (fields or {}).items()
    ]
    parts.append(
        dash + b'\r\nContent-Disposition: form-data; name="file"; ' + filename_param + b"\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n"
    )
    return b"".join(parts) + dash + b"--\r\n"


def multipart_content_type(boundary: str = BOUNDARY) -> str:
    return f"multipart/form-data; boundary={boundary}"


@dataclass
class RawResponse:
    """What came back on a raw socket: ``status`` None when the server just hung up."""

    status: int | None
    header_lines: list[str] = field(default_factory=list)
    body: bytes = b""

    @property
    def status_code(self) -> int | None:
        return self.status

    @property
    def headers(self) -> dict[str, str]:
        pairs = (line.split(":", 1) for line in self.header_lines if ":" in line)
        return {name.strip().lower(): value.strip() for name, value in pairs}

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


def request_head(
    base_url: str,
    method: str,
    path: str,
    headers: dict[str, str],
    content_length: int | None,
    auth: str | None = None,
) -> bytes:
    """The request line and headers; ``content_length`` is whatever we choose to claim."""
    netloc = urlsplit(base_url).netloc
    lines = [f"{method} {path} HTTP/1.1", f"Host: {netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if auth:
        lines.append(f"Authorization: {auth}")
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def raw_request(
    base_url: str,
    head: bytes,
    body: Iterable[bytes] = (),
    *,
    hang_up: bool = False,
    half_close: bool = False,
    timeout: float = 60,
) -> RawResponse:
    """Send ``head`` then ``body`` on a fresh socket and read the answer.

    Sending stops as soon as the server answers (a 413 may come before the body is
    read). ``hang_up``: close right after sending, reading nothing (a client that
    disconnects). ``half_close``: shut our side for writing, so the server sees the end
    of the body early, then read.
    """
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
    try:
        sock.sendall(head)
        for chunk in body:
            if _has_answer(sock) or not _send(sock, chunk):
                break
        if hang_up:
            return RawResponse(None)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return _read_response(sock)
    finally:
        sock.close()


def _has_answer(sock: socket.socket) -> bool:
    import select

    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _send(sock: socket.socket, chunk: bytes) -> bool:
    try:
        sock.sendall(chunk)
    except OSError:  # the server closed on us (reset, broken pipe)
        return False
    return True


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:  # reset or timeout: whatever we have is the answer
        return b""


def _read_response(sock: socket.socket) -> RawResponse:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = _recv(sock)
        if not chunk:
            return RawResponse(None, body=data)
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    response = RawResponse(int(lines[0].split()[1]), lines[1:])
    length = response.headers.get("content-length")
    while length is None or len(body) < int(length):
        chunk = _recv(sock)
        if not chunk:
            break
        body += chunk
    if response.headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    response.body = body if length is None else body[: int(length)]
    return response


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, data = out + rest[:size], rest[size + 2 :]
    return out
