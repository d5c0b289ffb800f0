"""When the worker's poll loop hands a request to a thread (entrypoints/gunicorn_intake)."""

from __future__ import annotations

import pytest

from entrypoints.gunicorn_intake import IntakeLimits, RequestIntake

LIMITS = IntakeLimits(header_timeout=10, body_timeout=30, max_body_size=1000, max_head_size=8192)
HEAD = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"


def fed(*pieces: bytes) -> list[bool]:
    intake = RequestIntake(LIMITS, now=0)
    return [intake.feed(piece) for piece in pieces]


@pytest.mark.parametrize(
    ("pieces", "dispatched"),
    [
        # a head arriving a byte at a time waits in the loop until it is whole
        ([b"GET /health HTTP/1.1\r\nHost: x", b"\r\n", b"\r", b"\n"], [False, False, False, True]),
        # a small JSON body waits too, until its last byte
        ([HEAD + b"Content-Length: 4\r\n\r\n", b"{}", b"{}"], [False, False, True]),
        # a chunked small body waits for its last chunk
        ([HEAD + b"Transfer-Encoding: chunked\r\n\r\n", b"2\r\n{}\r\n", b"0\r\n\r\n"],
         [False, False, True]),
        # a body the application refuses by its length goes at once (413 unread)
        ([HEAD + b"Content-Length: 1001\r\n\r\n"], [True]),
        # an upload streams through its thread: dispatched with the head
        ([HEAD + b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 10\r\n\r\n"],
         [True]),
        # a chunked body that keeps coming past the limit goes to the application (413)
        ([HEAD + b"Transfer-Encoding: chunked\r\n\r\n", (b"ffff\r\n" + b"a" * 65535 + b"\r\n") * 2],
         [False, True]),
        # whatever h11 cannot parse is gunicorn's to answer (400)
        ([b"NOT HTTP\r\n\r\n"], [True]),
    ],
    ids=["trickled-head", "small-body", "chunked-body", "declared-too-large", "upload",
         "chunked-too-large", "garbage"],
)  # fmt: skip
def test_a_request_is_dispatched_when_a_thread_has_something_to_do(pieces, dispatched):
    assert fed(*pieces) == dispatched


def test_the_deadline_moves_from_the_head_to_the_body():
    intake = RequestIntake(LIMITS, now=0)
    assert intake.deadline == 10 and not intake.started
    intake.feed(HEAD + b"Content-Length: 4\r\n\r\n")
    assert intake.head_complete and intake.deadline > 10


def test_a_small_body_behind_expect_continue_is_owed_a_100():
    intake = RequestIntake(LIMITS, now=0)
    assert not intake.feed(HEAD + b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    assert intake.wants_continue
