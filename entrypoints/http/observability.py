"""One JSON access-log line and the request metrics per request, and ``X-Request-ID``.

This is WSGI middleware around the Flask app rather than ``after_request``: a download's
body is streamed after Flask has returned, so only the WSGI layer sees the last byte
leave (its true duration and size). Flask's ``teardown_request`` leaves the route (the
URL rule, never the raw path: bounded label values, no names in logs) and the caller in
the environ for the middleware to read.

The line carries no header, query string, cookie, password or key: only the fields below.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from flask import Flask, Response, g, request

from domain.errors import BackendUnavailable
from entrypoints.http import metrics
from entrypoints.http.errors import error_response, status_for
from entrypoints.http.streaming import CountingInput

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"  # one label for every URL no rule matched (404/405 probes)

access_log = logging.getLogger("orchard.access")


def request_id_for(sent: str | None) -> str:
    """The client's id if it is sane (so it can be traced across systems), else a new one."""
    if sent and SANE_REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def from_blob_store(error: BaseException) -> bool:
    """Whether the error was raised inside a blob store adapter.

    The database and the blob store both raise ``BackendUnavailable``; the traceback is
    what tells them apart without teaching the domain about metrics.
    """
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith("adapters.blobstore"):
            return True
        tb = tb.tb_next
    return False


class Exchange:
    """One request/response pair being observed, finished exactly once."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.began = time.perf_counter()
        self.request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        self.status = 500  # what a client sees if the app raises before start_response
        self.headers: dict[str, str] = {}
        self.bytes_out = 0
        self._done = False

    def start_response(self, start_response: Callable) -> Callable:
        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append((REQUEST_ID_HEADER, self.request_id))
            self.status = int(status.split(" ", 1)[0])
            self.headers = {k.lower(): v for k, v in headers}
            return start_response(status, headers, exc_info)

        return _start

    def finish(self) -> None:
        if self._done:
            return
        self._done = True
        seconds = time.perf_counter() - self.began
        route = self.environ.get("orchard.route") or UNMATCHED
        method = self.environ.get("REQUEST_METHOD", "")
        method = method if method in METHODS else "OTHER"
        metrics.record_request(route, method, self.status, seconds)
        if "x-artifact-id" in self.headers and self.status in (200, 206):
            metrics.record_download(self.bytes_out)
        if access_log.isEnabledFor(logging.INFO):  # don't build a line nobody will see
            line = json.dumps(self._line(route, method, seconds), separators=(",", ":"))
            # makeRecord and handle, as Logger.info does, minus the walk up the stack for
            # a caller's file and line that the access log never prints.
            access_log.handle(
                access_log.makeRecord(access_log.name, logging.INFO, "", 0, line, (), None)
            )

    def _line(self, route: str, method: str, seconds: float) -> dict[str, Any]:
        counter = self.environ.get("orchard.input")
        return {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "request_id": self.request_id,
            "user": self.environ.get("orchard.user"),
            "method": method,
            "route": route,
            "status": self.status,
            "bytes_in": counter.count if isinstance(counter, CountingInput) else 0,
            "bytes_out": self.bytes_out,
            "duration_ms": round(seconds * 1000, 1),
        }


class CountingBody:
    """The response iterable, counting what is sent and finishing the exchange on close."""

    def __init__(self, body: Iterable[bytes], exchange: Exchange) -> None:
        self._body, self._exchange = body, exchange

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._body:
                self._exchange.bytes_out += len(chunk)
                yield chunk
        except BackendUnavailable as error:  # the store failed mid-download
            if from_blob_store(error):
                metrics.record_blob_store_error()
            raise

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._exchange.finish()


class ObservedApp:
    """WSGI middleware: request id, counted input, access log line, request metrics."""

    def __init__(self, wsgi_app: Callable) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        exchange = Exchange(environ)
        environ["orchard.request_id"] = exchange.request_id
        if "wsgi.input" in environ and "orchard.input" not in environ:
            environ["orchard.input"] = environ["wsgi.input"] = CountingInput(environ["wsgi.input"])
        try:
            body = self.wsgi_app(environ, exchange.start_response(start_response))
        except BaseException:
            exchange.finish()
            raise
        wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(wrapper, type) and isinstance(body, wrapper):
            return _observe_file(body, exchange)
        return CountingBody(body, exchange)


def _observe_file(body: Any, exchange: Exchange) -> Any:
    """A sendfile response must stay the server's own file wrapper (or it loses sendfile):
    hook its ``close`` instead of wrapping it, and take its size from Content-Length."""
    close = getattr(body, "close", None)

    def _close() -> None:
        try:
            if close is not None:
                close()
        finally:
            exchange.bytes_out = int(exchange.headers.get("content-length", 0) or 0)
            exchange.finish()

    body.close = _close
    return body


def install(app: Flask) -> None:
    """Wrap the app, configure the access log, and leave route and user for the log."""
    # ignore: Flask documents replacing wsgi_app with a middleware; mypy sees a method.
    app.wsgi_app = ObservedApp(app.wsgi_app)  # type: ignore[method-assign]
    _configure_access_log()

    @app.teardown_request
    def _remember(_exc: BaseException | None) -> None:
        # One look through each context-local proxy: every lookup costs a context search.
        # ignore: werkzeug's LocalProxy has the method, its stubs do not say so.
        current = request._get_current_object()  # type: ignore[attr-defined]
        rule, principal = current.url_rule, g.get("principal")
        current.environ["orchard.route"] = rule.rule if rule is not None else None
        current.environ["orchard.user"] = principal.username if principal else None

    @app.errorhandler(BackendUnavailable)
    def _backend_unavailable(error: BackendUnavailable) -> Response:
        if from_blob_store(error):
            metrics.record_blob_store_error()
        return error_response(status_for(error), error.detail)


def _configure_access_log() -> None:
    """Bare JSON lines on stderr, whatever ORCHARD_LOG_LEVEL says for the rest."""
    if any(getattr(h, "orchard_access", False) for h in access_log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    # ignore: a mark on our own handler, so that a second install() finds it.
    handler.orchard_access = True  # type: ignore[attr-defined]
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False
