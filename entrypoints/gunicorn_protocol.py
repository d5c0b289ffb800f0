"""What Orchard's gunicorn worker changes in how a request is answered on the wire.

- gunicorn's own refusals (a bad request line, a 414, a 431) are HTML pages; every other
  error of Orchard is JSON ``{"detail": ...}``, so these are too (``write_json_error``).
- A response to a request whose body the application did not read (a 413 from the
  declared ``Content-Length``, a 401 before an upload) closes the connection: reading and
  discarding the rest could take as long as the client cares to trickle, and a
  connection that said keep-alive and then dropped the next request was worse
  (``close_on_unread_body``).
- ``Expect: 100-continue`` is answered when the application first reads the body, not
  before it runs: a refusal (413, 401) then reaches the client before it sends a byte of
  the body; and a body that stalls longer than ``ORCHARD_BODY_TIMEOUT`` between two bytes
  is refused with 408 instead of holding its thread for ever (``RequestBody``).
- A chunk-size line longer than gunicorn's bound is refused however it arrived:
  gunicorn checks the bound only while it still looks for the line's end, so a long line
  that came whole in one read was taken as a size of thousands of hex digits and the
  request then waited for that many bytes (``bound_chunk_size_lines``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable

from gunicorn import util
from gunicorn.http.body import ChunkedReader, LengthReader
from gunicorn.http.errors import InvalidChunkSize
from werkzeug.exceptions import RequestTimeout

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
MAX_CHUNK_SIZE_BITS = 64  # no body is larger


def bound_chunk_size_lines() -> None:
    """Refuse a chunk size past 64 bits, whichever read brought its line."""
    parse = ChunkedReader.parse_chunk_size
    if getattr(parse, "orchard_bounded", False):
        return

    def parse_chunk_size(
        self: ChunkedReader, unreader: object, data: bytes | None = None
    ) -> tuple[int, bytes | None]:
        size, rest = parse(self, unreader, data)
        if size.bit_length() > MAX_CHUNK_SIZE_BITS:
            raise InvalidChunkSize(b"a size of %d bits" % size.bit_length())
        return size, rest

    parse_chunk_size.orchard_bounded = True  # type: ignore[attr-defined]
    ChunkedReader.parse_chunk_size = parse_chunk_size


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error`` with a JSON body instead of an HTML page."""
    detail = f"{reason}: {mesg}" if mesg else reason
    body = json.dumps({"detail": detail.rstrip(".") + "."}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def write_timeout(sock, head_complete: bool, limits) -> None:
    """408 for a request whose head (or small body) did not arrive in time."""
    if head_complete:
        detail = (
            f"The request body did not arrive within {limits.body_timeout:g} s "
            "(ORCHARD_BODY_TIMEOUT)."
        )
    else:
        detail = (
            f"The request line and headers did not arrive within {limits.header_timeout:g} s "
            "(ORCHARD_HEADER_TIMEOUT)."
        )
    _send_refusal(sock, "408 Request Timeout", detail)


def write_busy(sock, head_complete: bool) -> None:
    """503 for a slow request arriving while the worker holds its most unfinished ones."""
    detail = (
        "The server is holding too many unfinished requests from slow clients; "
        "send this one again, faster or later."
    )
    _send_refusal(sock, "503 Service Unavailable", detail, "Retry-After: 5\r\n")


def _send_refusal(sock, status: str, detail: str, extra: str = "") -> None:
    """Best effort and without blocking: the client is slow by definition."""
    body = json.dumps({"detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status}\r\nConnection: close\r\n{extra}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with contextlib.suppress(OSError):
        sock.send(head.encode("latin-1") + body)


def body_fully_read(body: object) -> bool:
    """Whether nothing of the request body is left unread on the socket."""
    body = getattr(body, "body", body)  # unwrap RequestBody
    reader = getattr(body, "reader", None)
    if isinstance(reader, LengthReader):
        return reader.length == 0
    if isinstance(reader, ChunkedReader):
        return reader.parser is None
    return reader is None


def close_on_unread_body(app: Callable) -> Callable:
    """The WSGI application, answering ``Connection: close`` when the body was not read."""

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        def start(status: str, headers: list, exc_info=None):
            response = getattr(start_response, "__self__", None)  # gunicorn's Response
            if response is not None and not body_fully_read(response.req.body):
                response.force_close()
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return application


class RequestBody:
    """``wsgi.input`` that owes the client ``100 Continue`` until the first read, and
    refuses (408) a body that goes ``idle_timeout`` seconds without a byte."""

    def __init__(self, body, sock, idle_timeout: float, send_continue: bool) -> None:
        self.body = body
        self._sock = sock
        self._idle_timeout = idle_timeout
        self._continue_pending = send_continue

    def _read(self, method: Callable, *args):
        if self._continue_pending:
            self._continue_pending = False
            util.write(self._sock, CONTINUE)
        self._sock.settimeout(self._idle_timeout)
        try:
            return method(*args)
        except TimeoutError:
            raise RequestTimeout(
                f"The request body stalled: no byte for {self._idle_timeout:g} s "
                "(ORCHARD_BODY_TIMEOUT); nothing was stored."
            ) from None
        finally:
            self._sock.settimeout(None)

    def read(self, size=None) -> bytes:
        return self._read(self.body.read, size)

    def readline(self, size=None) -> bytes:
        return self._read(self.body.readline, size)

    def readlines(self, size=None) -> list[bytes]:
        return self._read(self.body.readlines, size)

    def __iter__(self):
        return iter(self.readline, b"")
