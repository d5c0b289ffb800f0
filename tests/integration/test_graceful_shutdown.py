"""SIGTERM drains: in-flight uploads finish and are durable, new work is turned away.

A dedicated server (not the shared ``live_server``, which other tests still need) gets a
200 MB upload trickled slowly enough to be in flight, then SIGTERM. What a client sees
afterwards, by design (docs/operations.md):

- a new connection is refused: the master and every worker close their copy of the
  listening socket as the drain begins (``DrainingThreadWorker``), so clients and load
  balancers retry elsewhere at once instead of hanging until the workers exit;
- a request on a connection kept alive from before is answered 503 with ``Retry-After``
  (the worker's ``draining`` flag), never left unanswered.
"""

from __future__ import annotations

import http.client
import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.factories import (
    BOUNDARY,
    SeededContent,
    create_api_key,
    create_package,
    create_project,
    download_digest,
    login,
    multipart_content_type,
    raw_request,
    request_head,
    unique_name,
)
from tests.harness.live_server import build_server, selected_configs

SIZE = 200 * 1024 * 1024
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path):
    server = build_server(selected_configs()[0], tmp_path, request)
    server.env["ORCHARD_MAX_UPLOAD_SIZE"] = "1G"
    server.env["ORCHARD_GRACEFUL_TIMEOUT"] = "120"
    server.start()
    yield server
    server.stop()


def slow_multipart(content: SeededContent, started: threading.Event) -> Iterator[bytes]:
    """The upload body, 1 MiB at a time with a pause, so SIGTERM lands mid-transfer."""
    dash = b"--" + BOUNDARY.encode()
    yield dash + b'\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    for i, chunk in enumerate(content.chunks()):
        if i == 16:
            started.set()
        time.sleep(0.03)
        yield chunk
    yield b"\r\n" + dash + b"--\r\n"


def body_length(content: SeededContent) -> int:
    dash = len(BOUNDARY) + 2
    head = dash + len('\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n')
    return head + content.size + 2 + dash + 4


def refused_eventually(url: str, deadline: float) -> list[object]:
    """Open new connections until one is refused; what the others got, for the report."""
    seen: list[object] = []
    while time.monotonic() < deadline:
        try:
            seen.append(httpx.get(f"{url}/api/v1/projects", timeout=5).status_code)
        except httpx.ConnectError:
            return seen
        except httpx.HTTPError as error:  # accepted before the close, then reset
            seen.append(type(error).__name__)
        time.sleep(0.05)
    raise AssertionError(f"new connections were still accepted after SIGTERM: {seen}")


def test_sigterm_lets_an_upload_finish_and_turns_new_requests_away(server):
    with login(server.url, server.admin_user, server.admin_password) as client:
        project, package = unique_name("drain"), unique_name("pkg")
        create_project(client, project)
        create_package(client, project, package)
        key = create_api_key(client)["key"]
    content = SeededContent(SIZE, seed=5150)
    started, answer = threading.Event(), {}
    head = request_head(
        server.url,
        "POST",
        f"/api/v1/project/{project}/{package}/upload",
        {"Content-Type": multipart_content_type()},
        body_length(content),
        auth=f"Bearer {key}",
    )
    uploader = threading.Thread(
        target=lambda: answer.update(
            response=raw_request(server.url, head, slow_multipart(content, started), timeout=240)
        )
    )
    uploader.start()
    assert started.wait(60), f"the upload never got going: {answer}"
    kept_alive = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    kept_alive.request("GET", "/api/v1/projects")
    first = kept_alive.getresponse()
    first.read()
    assert first.status == 200

    server.process.send_signal(signal.SIGTERM)
    refused_eventually(server.url, time.monotonic() + 30)
    kept_alive.request("GET", "/api/v1/projects")
    late = kept_alive.getresponse()
    assert late.status == 503
    assert late.getheader("Retry-After")
    assert uploader.is_alive(), "the upload should still be in flight during the drain"

    uploader.join(240)
    response = answer["response"]
    assert response.status_code == 200, response.text
    assert response.json()["artifact_id"] == content.sha256
    assert server.process.wait(150) == 0
    server.process = None

    server.start()
    assert server.temp_count() == 0  # nothing half-written left behind
    with httpx.Client(base_url=server.url, timeout=120) as anonymous:
        status, size, digest = download_digest(
            anonymous, f"/api/v1/project/{project}/{package}/+/artifact:{content.sha256}"
        )
    assert (status, size, digest) == (200, SIZE, content.sha256)
