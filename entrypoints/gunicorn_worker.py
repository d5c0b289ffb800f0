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
"""

from __future__ import annotations

from gunicorn.workers.gthread import ThreadWorker

from entrypoints.http.draining import draining


class DrainingThreadWorker(ThreadWorker):
    def handle_exit(self, sig, frame) -> None:
        draining.set()
        super().handle_exit(sig, frame)

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:
            for listener in self.sockets:
                listener.close()
