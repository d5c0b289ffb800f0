"""Slow clients against a live server: one worker with two threads, short read deadlines.

A client that trickles its request head or a small body is read by the worker's poll
loop, not by a thread: it is answered 408 once its deadline passes, and however many of
them there are, other requests are served meanwhile. (How fast, with how many, is a
measurement, not a test: ``scripts/slow_clients.py``, figures in docs/operations.md.)
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.harness.live_server import LiveServer, build_server

pytestmark = pytest.mark.integration

THREADS = 2


@pytest.fixture(scope="module")
def server(request, tmp_path_factory) -> Iterator[LiveServer]:
    live = build_server("sqlite-fs", tmp_path_factory.mktemp("slow"), request)
    live.env.update(
        ORCHARD_WORKERS="1",
        ORCHARD_THREADS=str(THREADS),
        ORCHARD_HEADER_TIMEOUT="2",
        ORCHARD_BODY_TIMEOUT="2",
        ORCHARD_MAX_BODY_SIZE="2048",  # the worker holds 64 x this of unfinished requests
    )
    live.workers = 1
    live.start()
    yield live
    live.stop()


def open_trickler(server: LiveServer, start: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", urlsplit(server.url).port), timeout=30)
    sock.sendall(start)
    return sock


def trickle_until_answered(sock: socket.socket, rounds: int = 150) -> bytes:
    """Send a byte every 0.2 s until the server answers and closes (30 s at most)."""
    sock.settimeout(0.2)
    answer = b""
    for _ in range(rounds):
        try:
            chunk = sock.recv(65536)
            if not chunk:
                return answer
            answer += chunk
            continue
        except TimeoutError:
            pass
        try:
            sock.send(b"a")
        except OSError:
            break
    with contextlib.suppress(OSError):
        answer += sock.recv(65536)
    return answer


def status_and_detail(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"application/json" in head, answer[:300]
    return int(head.split()[1]), json.loads(body)["detail"]


def test_a_trickled_request_head_is_answered_408_and_closed(server):
    with open_trickler(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ") as sock:
        answer = trickle_until_answered(sock)
    status, detail = status_and_detail(answer)
    assert status == 408
    assert "ORCHARD_HEADER_TIMEOUT" in detail


def test_a_trickled_small_body_is_answered_408_and_closed(server):
    head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    with open_trickler(server, head) as sock:
        answer = trickle_until_answered(sock)
    status, detail = status_and_detail(answer)
    assert status == 408
    assert "ORCHARD_BODY_TIMEOUT" in detail


def test_tricklers_outnumbering_the_threads_do_not_hold_up_other_requests(server):
    body_head = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
    )
    starts = [b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: a", body_head] * (4 * THREADS)
    with contextlib.ExitStack() as stack:
        tricklers = [stack.enter_context(open_trickler(server, start)) for start in starts]
        time.sleep(0.5)  # every thread would be taken by now if tricklers could take one
        for sock in tricklers:
            sock.send(b"a")
        for _ in range(3):
            # No latency bound here: the point is that they are answered at all. Stock
            # gthread left them waiting, every thread held by a trickler with no deadline.
            response = httpx.get(f"{server.url}/health", timeout=60)
            assert response.status_code == 200
            response = httpx.post(
                f"{server.url}/api/v1/auth/login",
                json={"username": server.admin_user, "password": server.admin_password},
                timeout=60,
            )
            assert response.status_code == 200


def test_an_idle_connection_is_closed_after_the_header_timeout(server):
    with open_trickler(server, b"") as sock:
        sock.settimeout(30)
        assert sock.recv(1) == b""  # closed silently: no request was started


def test_an_upload_body_that_stalls_is_answered_408_and_nothing_stored(server):
    auth = base64.b64encode(f"{server.admin_user}:{server.admin_password}".encode()).decode()
    with httpx.Client(base_url=server.url, auth=(server.admin_user, server.admin_password)) as c:
        project = c.post("/api/v1/projects", json={"name": "stalls"}).json()["name"]
        c.post(f"/api/v1/project/{project}/packages", json={"name": "files"})
    part = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * 70000
    )
    head = (
        f"POST /api/v1/project/{project}/files/upload HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Basic {auth}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {len(part) + 1000}\r\n\r\n"
    ).encode()
    with open_trickler(server, head + part) as sock:
        sock.settimeout(30)
        answer = b""
        while chunk := sock.recv(65536):  # the client stalls: sends nothing more
            answer += chunk
    status, detail = status_and_detail(answer)
    assert status == 408
    assert "ORCHARD_BODY_TIMEOUT" in detail
    assert server.temp_count() == 0


def test_pipelined_requests_are_each_answered_in_order(server):
    body = json.dumps({"username": server.admin_user, "password": server.admin_password})
    requests = (
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
        + b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    with open_trickler(server, requests) as sock:
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    statuses = [int(part[:3]) for part in answer.split(b"HTTP/1.1 ")[1:]]
    assert statuses == [200, 200, 404]


def test_a_pipelined_request_expecting_100_continue_is_asked_for_its_body(server):
    body = b'{"username": "nobody", "password": "wrong"}'
    requests = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" + (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    with open_trickler(server, requests) as sock:
        sock.settimeout(30)
        answer = b""
        while b"100 Continue" not in answer:  # the client waits for it before the body
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
        sock.sendall(body)
        while b"HTTP/1.1 401" not in answer:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")


def test_slow_requests_past_the_worker_budget_are_refused_503_and_others_served(server):
    padding = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 500) for i in range(20))  # 10 KB
    with contextlib.ExitStack() as stack:
        tricklers = [
            stack.enter_context(open_trickler(server, b"GET /health HTTP/1.1\r\n" + padding))
            for _ in range(24)  # 240 KB of unfinished heads; the budget is 128 KiB
        ]
        answers = []
        for sock in tricklers:
            sock.settimeout(30)
            with contextlib.suppress(OSError):
                answers.append(sock.recv(65536))
        assert httpx.get(f"{server.url}/health", timeout=60).status_code == 200
    refused = [answer for answer in answers if answer.startswith(b"HTTP/1.1 503")]
    assert refused, [answer[:40] for answer in answers]
    assert all(b"Retry-After: 5" in answer for answer in refused)
    assert "unfinished requests" in status_and_detail(refused[0])[1]


def read_response(sock: socket.socket, buffered: bytes = b"") -> tuple[bytes, bytes]:
    """One response with a Content-Length body from ``sock``; (response, bytes after it)."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, data
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


HEALTH = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"


def test_requests_sent_right_after_each_answer_are_served_on_one_connection(server):
    # The next request arrives while the thread that answered still waits for it: that
    # thread serves it (NEXT_REQUEST_WAIT), as the poll loop would after the wait.
    with open_trickler(server, HEALTH) as sock:
        sock.settimeout(30)
        rest = b""
        for _ in range(20):
            answer, rest = read_response(sock, rest)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
            sock.sendall(HEALTH)
        answer, rest = read_response(sock, rest)
        assert answer.startswith(b"HTTP/1.1 200")


def test_a_next_request_head_split_across_the_wait_is_served(server):
    # Half a head arrives during the thread's wait, the rest after it: the thread leaves
    # the half to the poll loop's intake, which completes and dispatches it.
    with open_trickler(server, HEALTH) as sock:
        sock.settimeout(30)
        answer, _ = read_response(sock)
        sock.sendall(HEALTH[:10])
        time.sleep(0.3)
        sock.sendall(HEALTH[10:])
        answer, _ = read_response(sock)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_a_next_request_trickled_after_an_answer_is_answered_408(server):
    # The wait for a next request in the thread does not let a trickler hold it: what
    # arrives goes to the intake, under ORCHARD_HEADER_TIMEOUT as for a new connection.
    with open_trickler(server, HEALTH) as sock:
        sock.settimeout(30)
        read_response(sock)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        status, detail = status_and_detail(trickle_until_answered(sock))
    assert status == 408
    assert "ORCHARD_HEADER_TIMEOUT" in detail


def test_a_client_closing_after_an_answer_leaves_the_worker_serving(server):
    for _ in range(3):
        with open_trickler(server, HEALTH) as sock:
            sock.settimeout(30)
            answer, _ = read_response(sock)
            assert answer.startswith(b"HTTP/1.1 200")
    assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200
