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
  the body (``ContinueOnFirstRead``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from gunicorn import util
from gunicorn.http.body import ChunkedReader, LengthReader

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


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


def body_fully_read(body: object) -> bool:
    """Whether nothing of the request body is left unread on the socket."""
    body = getattr(body, "body", body)  # unwrap ContinueOnFirstRead
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


class ContinueOnFirstRead:
    """``wsgi.input`` that sends ``100 Continue`` just before the first read."""

    def __init__(self, body, sock) -> None:
        self.body = body
        self._sock = sock
        self._pending = True

    def _continue(self) -> None:
        if self._pending:
            self._pending = False
            util.write(self._sock, CONTINUE)

    def read(self, size=None) -> bytes:
        self._continue()
        return self.body.read(size)

    def readline(self, size=None) -> bytes:
        self._continue()
        return self.body.readline(size)

    def readlines(self, size=None) -> list[bytes]:
        self._continue()
        return self.body.readlines(size)

    def __iter__(self):
        self._continue()
        return iter(self.body)
