"""The unit of work over SQLAlchemy: one connection, one transaction, every repository.

A plain Core ``Connection`` rather than an ORM ``Session``: the repositories speak Core
statements (see ``adapters/tables.py``), so a session would only wrap the connection. The
transaction begins lazily with the first statement (on SQLite that is when
``BEGIN IMMEDIATE`` takes the write lock), ends with ``commit()`` or ``rollback()``, and
a new one begins with the next statement. Leaving ``with uow:`` rolls back whatever was
not committed and returns the connection to the pool, so one instance can be entered
again and again, by one thread at a time.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, text

from adapters import sqlite_writers
from adapters.sql.accounts import (
    SqlApiKeyRepository,
    SqlMembershipRepository,
    SqlSessionRepository,
    SqlUserRepository,
)
from adapters.sql.artifacts import SqlArtifactRepository, SqlUploadRepository
from adapters.sql.base import translated_errors
from adapters.sql.distributions import SqlDistributionRepository
from adapters.sql.login_failures import SqlLoginFailureRepository
from adapters.sql.projects import SqlPackageRepository, SqlProjectRepository
from adapters.sql.references import SqlTagRepository, SqlVersionRepository
from adapters.sql.upstream import SqlUpstreamRepository
from domain.errors import BackendUnavailable
from domain.ports import UnitOfWork

_VARIANTS: WeakKeyDictionary[Engine, dict[str, Engine]] = WeakKeyDictionary()
_SQLITE_BEGIN = {"read": "NONE", "snapshot": "DEFERRED"}


def _variant(engine: Engine, mode: str) -> Engine:
    """The engine's variant for units of work that only read, made once per mode:
    building it costs more than a query, and every GET and HEAD opens one.

    ``read`` is autocommit on both backends: every statement reads what is committed
    when it runs. On PostgreSQL, READ COMMITTED gives each statement its own snapshot
    inside a transaction or not, so BEGIN and ROLLBACK bought nothing but two of a
    request's round trips, and a backend left "idle in transaction" while the response
    was rendered. SQLite then reads the same way (in WAL, beside a writer, never queueing
    for the write lock), and a GET spends no BEGIN (4 % of its instructions).

    ``snapshot`` (reads that must agree with each other, an export's manifest) is a
    read-only REPEATABLE READ transaction on PostgreSQL and a deferred transaction on
    SQLite, which is one snapshot from its first read.
    """
    variants = _VARIANTS.setdefault(engine, {})
    found = variants.get(mode)
    if found is None:
        if engine.dialect.name == "sqlite":
            options: dict[str, object] = {"sqlite_begin": _SQLITE_BEGIN[mode]}
        elif mode == "snapshot":
            options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        else:
            options = {"isolation_level": "AUTOCOMMIT"}
        found = variants.setdefault(mode, engine.execution_options(**options))
    return found


class SqlAlchemyUnitOfWork(UnitOfWork):
    """``read_only=True`` promises not to write (``_variant`` says what that buys on
    each backend); a single best-effort statement, committed at once, is the exception
    (``users.authenticate_api_key``). ``snapshot=True`` reads only, and every statement
    sees the database as of the first one."""

    def __init__(self, engine: Engine, *, read_only: bool = False, snapshot: bool = False) -> None:
        self._base = engine
        mode = "snapshot" if snapshot else "read" if read_only else None
        self._engine = _variant(engine, mode) if mode else engine
        self._connection: Connection | None = None

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        if self._connection is not None:
            raise RuntimeError("This unit of work is already open; use one per thread.")
        with translated_errors():
            self._connection = self._engine.connect()
        self._bind(self._connection)
        return self

    def _bind(self, connection: Connection) -> None:
        self.projects = SqlProjectRepository(connection)
        self.packages = SqlPackageRepository(connection)
        self.artifacts = SqlArtifactRepository(connection)
        self.uploads = SqlUploadRepository(connection)
        self.tags = SqlTagRepository(connection)
        self.versions = SqlVersionRepository(connection)
        self.distributions = SqlDistributionRepository(connection)
        self.users = SqlUserRepository(connection)
        self.api_keys = SqlApiKeyRepository(connection)
        self.members = SqlMembershipRepository(connection)
        self.sessions = SqlSessionRepository(connection)
        self.login_failures = SqlLoginFailureRepository(connection)
        self.upstream = SqlUpstreamRepository(connection)

    def __exit__(self, *exc_info: object) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            with translated_errors():
                connection.rollback()
        except BackendUnavailable:
            # The connection is broken; closing discards it. Raise only if nothing else
            # is on its way out, so the original error is not hidden.
            if exc_info[0] is None:
                raise
        finally:
            sqlite_writers.release(connection)
            connection.close()

    def commit(self) -> None:
        connection = self._open()
        try:
            with translated_errors():
                connection.commit()
        finally:
            sqlite_writers.release(connection)  # the next writer may go

    def rollback(self) -> None:
        if self._connection is not None:
            try:
                with translated_errors():
                    self._connection.rollback()
            finally:
                sqlite_writers.release(self._connection)

    def check(self) -> None:
        # A read (autocommit): /health must not queue behind SQLite's write lock.
        with translated_errors(), _variant(self._base, "read").connect() as connection:
            connection.execute(text("SELECT 1"))

    def _open(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("Open the unit of work with 'with uow:' first.")
        return self._connection
