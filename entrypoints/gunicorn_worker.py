"""gunicorn's ``gthread`` worker, with a clean drain on SIGTERM.

Two things the stock worker does not do when told to stop:

- it keeps its copy of the listening socket open until it exits, so during the whole
  grace period the kernel still completes TCP handshakes that nobody will ever serve
  (the client hangs, then gets a reset). Closing the copies as the drain begins makes new
  connections fail fast with "connection refused" — a load balancer or client retries
  elsewhere at once. The master closed its own copy already; on a ``HUP`` reload the
  master keeps its copy and the new workers keep serving.
- it does not tell the application: ``draining`` lets the app answer 503 to requests
  that still arrive on kept-alive connections (see ``entrypoints/http/draining.py``).

And it answers on the wire as the rest of Orchard does (``entrypoints/gunicorn_protocol``):
JSON error pages, ``Connection: close`` after a body it did not read, and
``100 Continue`` only once the application reads the body.
"""

from __future__ import annotations

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from entrypoints import gunicorn_protocol as protocol
from entrypoints.http.draining import draining


class DrainingThreadWorker(ThreadWorker):
    def init_process(self) -> None:
        # gunicorn renders its own refusals through util.write_error and has no hook for
        # it; this process (a worker, after the fork) answers them in JSON instead.
        util.write_error = protocol.write_json_error
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = protocol.close_on_unread_body(self.wsgi)

    def handle_request(self, req, conn):
        if req._expected_100_continue:  # answered by gunicorn before the app runs
            req._expected_100_continue = False
            req.body = protocol.ContinueOnFirstRead(req.body, conn.sock)
        return super().handle_request(req, conn)

    def handle_exit(self, sig, frame) -> None:
        draining.set()
        super().handle_exit(sig, frame)

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:
            for listener in self.sockets:
                listener.close()
