"""Engines for the metadata database: SQLite (embedded default) and PostgreSQL.

SQLite is tuned for several gunicorn worker processes writing one file: WAL so readers
never block the writer, a 30 s busy timeout so a writer waits instead of failing, foreign
keys on (cascading deletes rely on them), and every transaction opened with
``BEGIN IMMEDIATE``. A plain ``BEGIN`` is deferred: two processes would both read, both
try to upgrade to a write lock, and one would get "database is locked" at once (SQLite
cannot wait on a lock upgrade without risking deadlock). Taking the write lock at BEGIN
makes writers queue on the busy timeout instead. The driver's own transaction handling is
switched off (``isolation_level = None``) so that SQLAlchemy's ``begin`` event can emit
the BEGIN itself; this is the pysqlite recipe from the SQLAlchemy documentation.

A connection that opts out with the execution option ``sqlite_begin="DEFERRED"`` (the
unit of work's ``snapshot`` mode) begins a deferred transaction: it never writes, so it
never upgrades, and WAL lets it read while another process writes. ``sqlite_begin="NONE"``
(``read_only``) begins none: each statement reads in its own implicit transaction.
"""

from __future__ import annotations

import functools
import math
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DisconnectionError

from adapters import sqlite_writers

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
# A pooled PostgreSQL connection idle for longer than this is pinged before use.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "orchard_idle_since"


def create_engine_for(url: str, *, connect_timeout: float = 5.0) -> Engine:
    """An engine for ``url`` with the settings Orchard relies on for that backend."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        return _postgres_engine(parsed, connect_timeout)
    raise ValueError(f"Unsupported database URL scheme: {parsed.drivername}")


def _sqlite_engine(url: URL) -> Engine:
    _create_parent_directory(url)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
    event.listen(engine, "connect", _configure_sqlite_connection)
    lock = sqlite_writers.lock_path(url.database)
    event.listen(engine, "begin", functools.partial(_begin_sqlite_transaction, lock))
    # A connection handed back to the pool, invalidated or closed while still holding the
    # writers' lock (its transaction ended outside a unit of work) lets it go there.
    for moment in ("checkin", "invalidate", "close"):
        event.listen(engine, moment, _release_writers_lock)
    return engine


def _release_writers_lock(_dbapi_connection: Any, record: Any, *_: Any) -> None:
    sqlite_writers.release(record)


def _create_parent_directory(url: URL) -> None:
    # The embedded default lives in ./orchard-data/, which may not exist on first start.
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN, not the driver
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL once; it stays WAL for every later connection.

    Switching needs an exclusive lock and SQLite answers "database is locked" at once,
    without its busy handler, when another connection holds the file: processes opening
    a new database together (instances starting at once) hit that. Retry for as long as
    any other statement would wait.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    delay = 0.005
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _begin_sqlite_transaction(lock: str | None, connection: Connection) -> None:
    begin = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    if begin == "NONE":
        return  # autocommit: each statement is its own read transaction
    if begin == "DEFERRED":
        connection.exec_driver_sql("BEGIN DEFERRED")
        return
    if lock is not None:
        sqlite_writers.acquire(connection, lock, SQLITE_BUSY_TIMEOUT_SECONDS)
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        sqlite_writers.release(connection)
        raise


def _postgres_engine(url: URL, connect_timeout: float) -> Engine:
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3 is the only driver shipped
    engine = create_engine(
        url,
        pool_timeout=30,
        connect_args={"connect_timeout": max(1, math.ceil(connect_timeout))},
    )
    _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def _ping_when_idle(engine: Engine, seconds: float) -> None:
    """SQLAlchemy's ``pool_pre_ping``, skipped for connections in use moments ago.

    The built-in pre-ping costs a round trip on every checkout, as much as the query of
    a GET. A connection that answered less than ``seconds`` ago is alive unless the
    server dropped it in that instant; then that one request gets a 503 and SQLAlchemy's
    disconnect handling empties the pool, as for a server lost in the middle of a
    request. Longer-idle connections (after a quiet spell, a restart, a failover) are
    pinged and replaced before use, as before.
    """

    def idle_from_now(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is not None and time.monotonic() - since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out a new one.
            raise DisconnectionError(f"The pooled connection is gone: {error}") from error

    event.listen(engine, "connect", idle_from_now)  # just opened: no ping needed
    event.listen(engine, "checkin", idle_from_now)
    event.listen(engine, "checkout", ping_if_idle)
