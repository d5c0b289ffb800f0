"""What every SQL repository shares: the connection, error translation, dialect inserts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, CursorResult, Executable, Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from domain.errors import (
    AlreadyExists,
    BackendUnavailable,
    Conflict,
    FileExists,
    VersionConflict,
)

UNAVAILABLE = "The database is unavailable."

# Which Conflict a unique-constraint race on a table means to the caller.
_UNIQUE_CONFLICTS: dict[str, tuple[type[Conflict], str]] = {
    "distributions": (FileExists, "File already exists in this package."),
    "versions": (VersionConflict, "That version already points at other content."),
}


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn driver errors into domain errors: a dead or locked database becomes
    ``BackendUnavailable``; a constraint violation the repository did not resolve, the
    matching ``Conflict``. Anything else is a bug and propagates unchanged."""
    try:
        yield
    except IntegrityError as error:
        raise conflict_for(error) from error
    except (OperationalError, InterfaceError) as error:
        raise BackendUnavailable(UNAVAILABLE) from error
    except DBAPIError as error:
        if error.connection_invalidated:
            raise BackendUnavailable(UNAVAILABLE) from error
        raise


def conflict_for(error: IntegrityError) -> Conflict:
    """The Conflict subclass for a constraint violation, from the table it hit."""
    message = str(error.orig)
    diag = getattr(error.orig, "diag", None)
    table = getattr(diag, "table_name", None) or _sqlite_table(message)
    is_unique = getattr(error.orig, "sqlstate", None) == "23505" or "UNIQUE" in message
    if not is_unique:
        return Conflict("The change conflicts with stored data.")
    kind, text = _UNIQUE_CONFLICTS.get(table or "", (AlreadyExists, "It exists already."))
    return kind(text)


def _sqlite_table(message: str) -> str | None:
    # "UNIQUE constraint failed: distributions.package_id, distributions.filename"
    if "constraint failed: " not in message:
        return None
    return message.split("constraint failed: ", 1)[1].split(".", 1)[0]


def insert(connection: Connection, table: Table) -> Any:
    """The dialect's INSERT, which knows ``ON CONFLICT`` (PostgreSQL and SQLite alike)."""
    dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
    return dialect.insert(table)


class SqlRepository:
    """Base of the repositories: they run statements on the unit of work's connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _execute(self, statement: Executable, params: Any = None) -> CursorResult[Any]:
        with translated_errors():
            return self._connection.execute(statement, params)

    def _insert(self, table: Table) -> Any:
        return insert(self._connection, table)

    def _page(
        self, query: Any, count_query: Any, limit: int, offset: int
    ) -> tuple[Sequence[Row[Any]], int]:
        rows = self._execute(query.limit(limit).offset(offset)).all()
        total = self._execute(count_query).scalar_one()
        return rows, total
