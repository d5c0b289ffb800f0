"""Reading a request's head (and a small body) in the worker's event loop, not in a thread.

Stock ``gthread`` hands a connection to a thread as soon as a byte arrives; the thread
then blocks until the head (and later the body) is complete. A client that sends one
byte a second holds that thread for as long as it likes: 24 such clients made
``/health`` wait beyond 5 s on the default 4 workers x 8 threads (docs/operations.md).

Here the worker's poll loop reads what arrives without blocking and tracks where the
request stands with h11 (a sans-I/O HTTP/1.1 parser). Only a request whose head is
complete reaches the thread pool, with the bytes read so far; gunicorn then parses them
as always (h11 decides *when* to dispatch, never *what* the request means: anything h11
rejects is dispatched at once, and gunicorn answers it). A small body that is not a file
upload (JSON, a form) is awaited in the loop too, so a trickled login body costs no
thread either; an upload's body streams through its thread as before. Each phase has a
deadline: the head ``ORCHARD_HEADER_TIMEOUT``, a small body ``ORCHARD_BODY_TIMEOUT``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import h11

# Slack over the body limit for chunked framing (chunk sizes and CRLFs) before a body
# that keeps coming is handed to the application, which refuses it with 413.
CHUNK_FRAMING = 64 * 1024


@dataclass(frozen=True)
class IntakeLimits:
    header_timeout: float
    body_timeout: float
    max_body_size: int  # bodies at most this large (not file uploads) wait in the loop
    max_head_size: int  # gunicorn's own bound on request line + headers


class RequestIntake:
    """The bytes of one request as they arrive, until a thread should take over."""

    def __init__(self, limits: IntakeLimits, now: float | None = None) -> None:
        self._limits = limits
        self._parser = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_head_size)
        self.raw = bytearray()
        self.head_complete = False
        self.continue_sent = False
        self.wants_continue = False  # the head asked for 100 Continue and it is owed now
        self._body_bytes = 0
        self.deadline = (time.monotonic() if now is None else now) + limits.header_timeout

    @property
    def started(self) -> bool:
        return bool(self.raw)

    def feed(self, data: bytes) -> bool:
        """Take ``data``; True when the request should go to a thread now."""
        self.raw += data
        if self.head_complete:
            self._body_bytes += len(data)
        try:
            self._parser.receive_data(data)
            return self._advance()
        except h11.RemoteProtocolError:
            return True  # gunicorn parses it again and answers the error

    def _advance(self) -> bool:
        while True:
            event = self._parser.next_event()
            if event is h11.NEED_DATA:
                return self._body_bytes > self._limits.max_body_size + CHUNK_FRAMING
            if isinstance(event, h11.Request):
                if not self._await_body(event):
                    return True
            elif isinstance(event, h11.EndOfMessage) or event is h11.PAUSED:
                return True

    def _await_body(self, request: h11.Request) -> bool:
        """At the end of the head: whether to wait for the body here too."""
        self.head_complete = True
        self._body_bytes = len(self._parser.trailing_data[0])
        self.deadline = time.monotonic() + self._limits.body_timeout
        headers = {name.lower(): value.lower() for name, value in request.headers}
        if headers.get(b"content-type", b"").startswith(b"multipart/"):
            return False  # a file upload streams through its thread
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self._max_body):
            return False  # the application refuses it (413) without reading it
        if length is None and b"chunked" not in headers.get(b"transfer-encoding", b""):
            return False  # no body
        self.wants_continue = headers.get(b"expect") == b"100-continue"
        return True

    @property
    def _max_body(self) -> int:
        return self._limits.max_body_size
