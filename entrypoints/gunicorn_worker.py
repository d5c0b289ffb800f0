"""gunicorn's ``gthread`` worker, with slow clients kept out of the threads and a clean drain.

Slow clients (``entrypoints/gunicorn_intake``): a connection reaches the thread pool only
once its request head (and a small non-upload body) has arrived; until then the poll
loop reads it without blocking, under ``ORCHARD_HEADER_TIMEOUT`` / ``ORCHARD_BODY_TIMEOUT``
(408 when they pass). Closing a connection lingers in the poll loop too (stock gunicorn
drained the client's leftover bytes for up to 2 s on the loop's own thread, stalling every
other connection of the worker).

Drain on SIGTERM, two things the stock worker does not do:

- it keeps its copy of the listening socket open until it exits, so during the whole
  grace period the kernel still completes TCP handshakes that nobody will ever serve
  (the client hangs, then gets a reset). Closing the copies as the drain begins makes new
  connections fail fast with "connection refused" — a load balancer or client retries
  elsewhere at once. The master closed its own copy already; on a ``HUP`` reload the
  master keeps its copy and the new workers keep serving.
- it does not tell the application: ``draining`` lets the app answer 503 to requests
  that still arrive on kept-alive connections (see ``entrypoints/http/draining.py``).

A lone kept-alive client (pip, one connection) is served by the thread that answered its
last request when its next one follows within ``NEXT_REQUEST_WAIT``, skipping two trips
through the poll loop per request; a partial head still goes to the intake.

And it answers on the wire as the rest of Orchard does (``entrypoints/gunicorn_protocol``):
JSON error pages, ``Connection: close`` after a body it did not read, ``100 Continue``
only once the application reads the body, 408 for a body that stalls.
"""

from __future__ import annotations

import contextlib
import select
import selectors
import socket
import threading
import time
from functools import partial

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker

from entrypoints import gunicorn_protocol as protocol
from entrypoints.config import load_settings
from entrypoints.gunicorn_intake import IntakeLimits, RequestIntake
from entrypoints.http.draining import draining

# A worker holds at most this many times ORCHARD_MAX_BODY_SIZE of unfinished requests
# (heads and small bodies still arriving), 64 MiB by default; the request whose bytes
# would pass it is refused with 503. A request that arrives quickly is dispatched at once
# and never counts: only slow ones do, so only a flood of slow ones reaches it.
INTAKE_BUDGET_BODIES = 64
LINGER_SECONDS = 2.0  # gunicorn's close_graceful: how long a closing socket is drained
LINGER_BYTES = 64 * 1024
READ_SIZE = 64 * 1024
# After a kept-alive response the request thread waits this long for the client's next
# request and serves it itself, instead of handing the connection back to the poll loop
# (which costs two thread hand-offs a request: a wake-up of the loop to re-register the
# socket, then one of a thread when the next request arrives). pip's pause between two
# requests is 1-4 ms (docs/performance.md, "Eighth round"). Only while every other
# connection of the worker is idle: with concurrent clients, threads that wait on their own
# connection served 16 clients' page requests 16 % slower.
NEXT_REQUEST_WAIT = 0.01


class DrainingThreadWorker(ThreadWorker):
    def init_process(self) -> None:
        # gunicorn renders its own refusals through util.write_error and has no hook for
        # it; this process (a worker, after the fork) answers them in JSON instead.
        util.write_error = protocol.write_json_error
        protocol.bound_chunk_size_lines()
        settings = load_settings()
        self.body_timeout = settings.body_timeout
        self.intake_limits = IntakeLimits(
            header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout,
            max_body_size=settings.max_body_size,
            max_head_size=self.cfg.limit_request_line
            + self.cfg.limit_request_fields * (self.cfg.limit_request_field_size + 2)
            + 4,
        )
        # TLS and HTTP/2 prior knowledge read the socket in conn.init(): left to gunicorn.
        self.intake_enabled = not self.cfg.is_ssl and getattr(
            self.cfg, "http2_cleartext", "off"
        ) not in ("prior-knowledge", "both")
        self.intakes: dict[TConn, RequestIntake] = {}
        self.intake_bytes = 0  # held by self.intakes, against the budget
        self.intake_budget = INTAKE_BUDGET_BODIES * settings.max_body_size
        self.lingering: dict[socket.socket, tuple[float, int]] = {}
        self.waiting_threads = 0  # threads in _next_request_arrived
        self.waiting_lock = threading.Lock()
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = protocol.close_on_unread_body(self.wsgi)  # type: ignore[has-type]

    # -- a request's head and small body, read in the poll loop -----------------------

    def enqueue_req(self, conn) -> None:
        """Every way a connection reaches the thread pool (accept, a kept-alive one that
        became readable, read-ahead of a pipelined request) goes through the intake."""
        if not self.intake_enabled:
            super().enqueue_req(conn)
            return
        pending = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        intake = RequestIntake(self.intake_limits)
        conn.sock.setblocking(False)
        if pending and intake.feed(pending):
            self._dispatch(conn, intake)
            return
        self.intakes[conn] = intake
        self.intake_bytes += len(intake.raw)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))
        self._send_continue(conn, intake)  # a pipelined head may have asked for it
        self._on_readable(conn, conn.sock)  # a kept-alive connection has bytes waiting

    def _on_readable(self, conn, _sock) -> None:
        intake = self.intakes.get(conn)
        if intake is None:
            return
        try:
            data = conn.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._forget(conn)
            self.nr_conns -= 1
            conn.close()
            return
        self.intake_bytes += len(data)
        if intake.feed(data):
            self._forget(conn)
            self._dispatch(conn, intake)
        elif self.intake_bytes > self.intake_budget:
            self._refuse(conn, protocol.write_busy)
        else:
            self._send_continue(conn, intake)

    def _send_continue(self, conn, intake: RequestIntake) -> None:
        """A small body behind ``Expect: 100-continue`` is awaited here: ask for it."""
        if intake.wants_continue and not intake.continue_sent:
            intake.continue_sent = True
            with contextlib.suppress(OSError):  # the next read tells what became of it
                conn.sock.send(protocol.CONTINUE)

    def _dispatch(self, conn, intake: RequestIntake) -> None:
        conn.orchard_intake = intake
        conn.data_ready = True  # the stock handle() must not wait for data again
        super().enqueue_req(conn)

    def _forget(self, conn) -> None:
        intake = self.intakes.pop(conn, None)
        if intake is not None:
            self.intake_bytes -= len(intake.raw)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def handle(self, conn):
        keepalive = self._handle_one(conn)
        while keepalive is True and self._next_request_arrived(conn):
            keepalive = self._handle_one(conn)
        return keepalive

    def _next_request_arrived(self, conn) -> bool:
        """Wait briefly in this thread for the next request on a kept-alive connection;
        True when its head has arrived whole (then this thread serves it). Otherwise
        whatever arrived is left in the parser's buffer, where ``finish_request`` hands
        it to the intake in the poll loop as for any kept-alive connection."""
        if not (self.alive and self.intake_enabled) or conn.parser.unreader.buf.getvalue():
            return False
        if len(self.keepalived_conns) + 1 < self.nr_conns:  # another one is in flight
            return False
        with self.waiting_lock:
            if self.waiting_threads >= self.cfg.threads // 2 or self.tpool._work_queue.qsize():
                return False
            self.waiting_threads += 1
        try:
            poll = select.poll()
            poll.register(conn.sock, select.POLLIN)
            if not poll.poll(NEXT_REQUEST_WAIT * 1000):
                return False
            data = conn.sock.recv(READ_SIZE, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        finally:
            with self.waiting_lock:
                self.waiting_threads -= 1
        if not data:  # the client closed: the poll loop sees it and closes too
            return False
        intake = RequestIntake(self.intake_limits)
        if intake.feed(data):
            conn.orchard_intake = intake
            return True
        conn.parser.unreader.unread(data)
        return False

    def _handle_one(self, conn):
        intake = getattr(conn, "orchard_intake", None)
        if intake is not None:
            conn.orchard_intake = None
            conn.sock.setblocking(True)
            conn.init()
            older = conn.parser.unreader.take_buffered()
            conn.parser.unreader.unread(older + bytes(intake.raw))
            conn.continue_sent = intake.continue_sent
        return super().handle(conn)

    def handle_request(self, req, conn):
        send_continue = req._expected_100_continue and not getattr(conn, "continue_sent", False)
        req._expected_100_continue = False  # gunicorn would answer it before the app runs
        req.body = protocol.RequestBody(req.body, conn.sock, self.body_timeout, send_continue)
        return super().handle_request(req, conn)

    def murder_pending(self) -> None:
        """Called on every turn of the loop: also ends intakes past their deadline."""
        super().murder_pending()
        now = time.monotonic()
        for conn, intake in list(self.intakes.items()):
            if intake.deadline <= now or (not self.alive and not intake.started):
                limits = self.intake_limits
                self._refuse(conn, partial(protocol.write_timeout, limits=limits))
        for sock, (deadline, _) in list(self.lingering.items()):
            if deadline <= now:
                self._end_linger(sock)

    def _refuse(self, conn, write_answer) -> None:
        """Answer a request still in the intake (408, 503) and close its connection."""
        intake = self.intakes.get(conn)
        self._forget(conn)
        self.nr_conns -= 1
        if intake is not None and intake.started:
            write_answer(conn.sock, intake.head_complete)
        self._linger(conn.sock)

    # -- closing without blocking the loop --------------------------------------------

    def finish_request(self, conn, fs) -> None:
        try:
            result = fs.result() if not fs.cancelled() else False
        except Exception:
            result = False
        if result or not self.intake_enabled:
            super().finish_request(conn, fs)
            return
        self.nr_conns -= 1
        self._linger(conn.sock)

    def _linger(self, sock: socket.socket) -> None:
        """Half-close, then read and drop what the client still sends, in the poll loop,
        for ``LINGER_SECONDS`` at most: closing with unread bytes would send a reset that
        can destroy the response still on its way (RFC 9112 §9.6)."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            self.poller.register(sock, selectors.EVENT_READ, self._on_linger_readable)
        except (OSError, KeyError, ValueError):
            util.close(sock)
            return
        self.lingering[sock] = (time.monotonic() + LINGER_SECONDS, 0)

    def _on_linger_readable(self, sock: socket.socket) -> None:
        deadline, drained = self.lingering.get(sock, (0.0, 0))
        try:
            data = sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        drained += len(data)
        if not data or drained >= LINGER_BYTES:
            self._end_linger(sock)
        else:
            self.lingering[sock] = (deadline, drained)

    def _end_linger(self, sock: socket.socket) -> None:
        self.lingering.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(sock)
        util.close(sock)

    # -- drain on SIGTERM ----------------------------------------------------------------

    def handle_exit(self, sig, frame) -> None:
        draining.set()
        super().handle_exit(sig, frame)

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:
            for listener in self.sockets:
                listener.close()
