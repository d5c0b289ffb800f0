"""Refuse new work while the worker drains for a graceful shutdown.

gunicorn's worker gets SIGTERM, stops accepting connections and lets in-flight requests
finish within ``graceful_timeout``. A request that still reaches the app meanwhile (on a
kept-alive connection, or queued before the signal) could be a multi-gigabyte upload that
would be cut off when the grace period ends: it is answered 503 with ``Retry-After`` at
once, so the client retries on another instance or after the restart. ``/health`` keeps
answering 200: the process is alive, and a failing liveness probe would get it killed
before its uploads finish.
"""

from __future__ import annotations

import threading

from flask import Flask, Response, request

from entrypoints.http.errors import error_response

draining = threading.Event()  # set by the gunicorn worker's SIGTERM handler
LIVENESS_ENDPOINTS = frozenset({"health.health"})


def install(app: Flask) -> None:
    @app.before_request
    def _refuse_while_draining() -> Response | None:
        if draining.is_set() and request.endpoint not in LIVENESS_ENDPOINTS:
            return error_response(503, "The server is shutting down; retry in a moment.")
        return None
