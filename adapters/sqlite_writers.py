"""One queue for every SQLite writer of an instance, across its processes.

SQLite has no queue for its write lock: a writer that finds it taken sleeps in SQLite's
busy handler, in steps that grow to 100 ms, and tries again. Under a steady stream of
small uploads from several workers, a waiter often sleeps on while the lock sits free,
and the unlucky ones wait for hundreds of milliseconds: with 8 clients uploading 4 KiB
files, the p99 was 648 ms while each transaction held the lock for ~7 ms.

So a writer first takes an advisory lock (``flock``) on a file beside the database,
retrying every 0.2-2 ms, and issues ``BEGIN IMMEDIATE`` only once it holds it; the lock
is released as soon as the transaction ends. SQLite's own lock still guards the data:
this one only decides who asks next. A writer that cannot get it within the busy
timeout goes on to ``BEGIN IMMEDIATE`` anyway and lets SQLite decide, with SQLite's own
busy timeout: behind a transaction that never ends, a writer now gives up ("database
busy") after twice the timeout instead of once. Readers (autocommit reads and deferred
snapshots) never take it.
"""

from __future__ import annotations

import fcntl
import os
import time
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

_HELD = "orchard_writer_lock"  # key in Connection.info: the descriptor holding the lock
_FIRST_RETRY, _LONGEST_RETRY = 0.0002, 0.002


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
    deadline, delay = time.monotonic() + timeout, _FIRST_RETRY
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(descriptor)  # SQLite's busy handler takes over from here
                return
            time.sleep(delay)
            delay = min(delay * 2, _LONGEST_RETRY)
            continue
        connection.info[_HELD] = descriptor
        return


def release(connection: Connection | Any) -> None:
    """Let the next writer in; a no-op when ``connection`` (a Connection or a pool's
    connection record) holds nothing or is gone (the pool's events release it then)."""
    try:
        info = connection.info
    except (AttributeError, SQLAlchemyError):
        return
    descriptor = info.pop(_HELD, None)
    if descriptor is not None:
        os.close(descriptor)  # closing the only descriptor releases the flock
