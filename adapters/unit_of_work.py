"""The unit of work over SQLAlchemy: one connection, one transaction, every repository.

A plain Core ``Connection`` rather than an ORM ``Session``: the repositories speak Core
statements (see ``adapters/orm.py``), so a session would only wrap the connection. The
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
from adapters.repository import (
    SqlApiKeyRepository,
    SqlArtifactRepository,
    SqlDistributionRepository,
    SqlMembershipRepository,
    SqlPackageRepository,
    SqlProjectRepository,
    SqlSessionRepository,
    SqlTagRepository,
    SqlUploadRepository,
    SqlUserRepository,
    SqlVersionRepository,
)
from adapters.sql.base import translated_errors
from domain.errors import BackendUnavailable
from domain.ports import UnitOfWork

_DEFERRED: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def _deferred(engine: Engine) -> Engine:
    """The engine's read-only variant, made once: building it costs more than a query,
    and every GET and HEAD opens a read-only unit of work."""
    found = _DEFERRED.get(engine)
    if found is None:
        found = _DEFERRED.setdefault(engine, engine.execution_options(sqlite_begin="DEFERRED"))
    return found


class SqlAlchemyUnitOfWork(UnitOfWork):
    """``read_only=True`` promises not to write: on SQLite it then begins a deferred
    transaction, which reads alongside a writer instead of queueing for the write lock."""

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self._engine = _deferred(engine) if read_only else engine
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
        # A deferred transaction: /health must not queue behind SQLite's write lock.
        with translated_errors(), _deferred(self._engine).connect() as connection:
            connection.execute(text("SELECT 1"))

    def _open(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("Open the unit of work with 'with uow:' first.")
        return self._connection
