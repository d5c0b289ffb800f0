"""One fair queue for every SQLite writer of an instance, across its processes.

SQLite has no queue for its write lock: a writer that finds it taken sleeps in SQLite's
busy handler, in steps that grow to 100 ms, and tries again. Under a steady stream of
small uploads from several workers, a waiter often sleeps on while the lock sits free,
and the unlucky ones wait for hundreds of milliseconds: with 8 clients uploading 4 KiB
files, the p99 was 648 ms while each transaction held the lock for ~7 ms.

So a writer first takes an advisory lock (``flock``) on a file beside the database, and
issues ``BEGIN IMMEDIATE`` only once it holds it; the lock is released as soon as the
transaction ends. SQLite's own lock still guards the data: this one only decides who
asks next.

**Tickets, so the queue is first come, first served.** Polling alone was no queue: a
newcomer (polling every 0.2 ms) beat a writer that had waited long (backed off to 2 ms),
and the p99 rose by the losers' repeated turns. A blocking ``flock`` would queue in the
kernel but cost a wake-up per hand-over, which halved the rate on a loaded host. So the
lock file also holds two counters in its first 16 bytes, shared by ``mmap``: the next
ticket and the ticket being served. A writer takes a ticket (under a short POSIX record
lock, and a thread lock, since record locks are per process), polls until its ticket is
served, the next in line every 0.1 ms and the others less often the further back they
are, then takes the ``flock``; it serves the next ticket when it lets go. A writer killed
while holding or waiting would stop the queue: when the ticket being served has not
moved for ``STALL`` seconds while the ``flock`` is free, a waiter skips it. A skipped or
timed-out writer still works: it competes for the ``flock`` as before.

A writer that cannot get the lock within the busy timeout goes on to ``BEGIN IMMEDIATE``
anyway and lets SQLite decide, with SQLite's own busy timeout: behind a transaction that
never ends, a writer gives up ("database busy") after twice the timeout instead of once.
A lock file that cannot be opened for writing (created by another user) still serves as
a plain polled lock. Readers (autocommit reads and deferred snapshots) never take it.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

_HELD = "orchard_writer_lock"  # key in Connection.info: the _Held of the lock
_FIRST_RETRY, _LONGEST_RETRY = 0.0001, 0.002
_BACK_OF_QUEUE = 0.004
# The ticket being served unmoved this long with the lock free: its writer is gone, or
# its thread waits for its worker's GIL (up to a 5 ms switch interval); it is skipped
# and then competes for the lock like a writer without a ticket.
STALL = 0.003
_COUNTERS = struct.Struct("<QQ")  # next ticket, ticket being served
_OFD_SETLKW: int = getattr(fcntl, "F_OFD_SETLKW", 0)  # Linux; elsewhere, plain polling


class _Tickets:
    """The two counters of one lock file, mapped in this process."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor = descriptor
        self._thread_lock = threading.Lock()
        with self._locked():
            if os.fstat(descriptor).st_size < _COUNTERS.size:
                os.ftruncate(descriptor, _COUNTERS.size)
        self._map = mmap.mmap(descriptor, _COUNTERS.size)

    def _locked(self) -> Any:
        return _RecordLock(self._descriptor, self._thread_lock)

    def take(self) -> int:
        with self._locked():
            ticket, serving = _COUNTERS.unpack_from(self._map)
            _COUNTERS.pack_into(self._map, 0, ticket + 1, serving)
            return ticket

    def serving(self) -> int:
        return _COUNTERS.unpack_from(self._map)[1]

    def advance(self, past: int) -> None:
        """Serve the ticket after ``past`` if ``past`` is the one being served (else the
        queue has moved on already, and moving it again would skip a waiter)."""
        with self._locked():
            ticket, serving = _COUNTERS.unpack_from(self._map)
            if serving == past:
                _COUNTERS.pack_into(self._map, 0, max(ticket, past + 1), past + 1)


class _RecordLock:
    """The counters' lock: a thread lock, then an open-file-description record lock.

    Not ``lockf``: a process's POSIX record locks on a file all go when it closes *any*
    descriptor of that file, as ``release`` does with the flock's. OFD locks belong to
    the open file description, so only this mapping's descriptor holds or frees them.
    """

    def __init__(self, descriptor: int, thread_lock: threading.Lock) -> None:
        self._descriptor, self._thread_lock = descriptor, thread_lock

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            fcntl.fcntl(self._descriptor, _OFD_SETLKW, _flock(fcntl.F_WRLCK))
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *_: object) -> None:
        fcntl.fcntl(self._descriptor, _OFD_SETLKW, _flock(fcntl.F_UNLCK))
        self._thread_lock.release()


def _flock(kind: int) -> bytes:
    """A ``struct flock`` over the counters (LP64 Linux layout; l_pid must be 0)."""
    return struct.pack("@hhqqi4x", kind, os.SEEK_SET, 0, _COUNTERS.size, 0)


_tickets: dict[tuple[int, str], _Tickets | None] = {}
_tickets_lock = threading.Lock()


def _tickets_for(path: str) -> _Tickets | None:
    """This process's counters of ``path`` (mapped again after a fork); None when the
    file cannot be opened for writing."""
    key = (os.getpid(), path)
    if not _OFD_SETLKW:
        return None
    with _tickets_lock:
        if key not in _tickets:
            try:
                _tickets[key] = _Tickets(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
            except (OSError, ValueError):
                _tickets[key] = None
        return _tickets[key]


@dataclass
class _Held:
    descriptor: int
    tickets: _Tickets | None
    ticket: int


def lock_path(database: str | None) -> str | None:
    """The lock file for a database file; None for in-memory and URI databases."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}.writers"


def acquire(connection: Connection, path: str, timeout: float) -> None:
    """Wait for the writers' lock (re-entrant per connection); give up after ``timeout``."""
    if connection.info.get(_HELD) is not None:
        return
    try:
        # Read-only is enough for flock, so a file another user created (an admin
        # command run as root) still serves; one that cannot be opened only costs the queue.
        descriptor = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:
        return
    tickets = _tickets_for(path)
    ticket = tickets.take() if tickets is not None else -1
    if _wait(descriptor, tickets, ticket, time.monotonic() + timeout):
        connection.info[_HELD] = _Held(descriptor, tickets, ticket)
        return
    os.close(descriptor)  # SQLite's busy handler takes over from here
    if tickets is not None:
        tickets.advance(ticket)  # when it is our turn; a later one is skipped as stalled


def _wait(descriptor: int, tickets: _Tickets | None, ticket: int, deadline: float) -> bool:
    delay, watched, since = _FIRST_RETRY, -1, time.monotonic()
    while True:
        serving = tickets.serving() if tickets is not None else ticket
        if serving >= ticket and _try_lock(descriptor):
            return True
        now = time.monotonic()
        if now >= deadline:
            return False
        if serving != watched:
            watched, since = serving, now
        elif (
            tickets is not None
            and serving < ticket
            and now - since > STALL
            and _lock_is_free(descriptor)
        ):
            tickets.advance(serving)  # its writer died or gave up: skip it
        if tickets is None or serving > ticket:
            delay = min(delay * 2, _LONGEST_RETRY)  # plain polling (no queue, or skipped)
        else:
            delay = _queued_delay(ticket - serving)
        time.sleep(delay)


def _queued_delay(place: int) -> float:
    """How long a queued writer sleeps between looks: briefly when it is next (its turn
    comes when the holder lets go), longer the more transactions are ahead of it. Every
    wake-up takes its worker's GIL from a thread serving a request."""
    if place <= 1:
        return _FIRST_RETRY * (1 + place)
    return min(0.001 * (place - 1), _BACK_OF_QUEUE)


def _try_lock(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lock_is_free(descriptor: int) -> bool:
    if not _try_lock(descriptor):
        return False
    fcntl.flock(descriptor, fcntl.LOCK_UN)
    return True


def release(connection: Connection | Any) -> None:
    """Let the next writer in; a no-op when ``connection`` (a Connection or a pool's
    connection record) holds nothing or is gone (the pool's events release it then)."""
    try:
        info = connection.info
    except (AttributeError, SQLAlchemyError):
        return
    held = info.pop(_HELD, None)
    if held is None:
        return
    os.close(held.descriptor)  # closing the only descriptor releases the flock
    if held.tickets is not None:
        held.tickets.advance(held.ticket)
