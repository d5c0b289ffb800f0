"""Schema migrations (Alembic), run programmatically: no ``alembic.ini`` needed.

``upgrade(url)`` brings a database to the newest revision and is safe to call on every
start, from every worker at once: the whole upgrade runs in one transaction that first
takes a lock (a PostgreSQL advisory lock; SQLite's ``BEGIN IMMEDIATE`` write lock), so
the second caller waits, then finds the schema current and does nothing.

On SQLite the migrations run with foreign-key enforcement off, as SQLite's own procedure
for altering a table asks: a table is altered by building a new one and dropping the old,
and with enforcement on that drop would delete every row that refers to it. Every key is
checked before the transaction commits, so a migration cannot leave one dangling.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from adapters.database import create_engine_for

MIGRATIONS_DIR = Path(__file__).resolve().parent
# Any constant shared by every Orchard process: the key of the advisory lock.
_ADVISORY_LOCK_KEY = 0x0C4A2D


@dataclass(frozen=True)
class Upgrade:
    """What ``upgrade`` did: the revision found (None: no schema yet) and the one left."""

    before: str | None
    after: str | None


@dataclass(frozen=True)
class SchemaStatus:
    """Where the database is (a path or a URL without its password) and its revision.

    ``exists`` is False for an SQLite file that is not there (nothing was created to find
    out); ``error`` is the driver's first line when the database could not be reached.
    """

    location: str
    exists: bool
    current: str | None
    head: str
    error: str | None = None


def upgrade(url: str, revision: str = "head") -> Upgrade:
    """Apply every migration not yet applied to the database at ``url`` (up to
    ``revision``, for tests of the upgrade path) and say what changed. Both revisions are
    read under the migrators' lock, so a caller that waited behind another sees no change."""
    engine = migration_engine(url)
    try:
        with engine.begin() as connection:
            _serialize_migrators(connection)
            before = MigrationContext.configure(connection).get_current_revision()
            command.upgrade(alembic_config(connection), revision)
            _check_foreign_keys(connection)
            after = MigrationContext.configure(connection).get_current_revision()
        return Upgrade(before=before, after=after)
    finally:
        engine.dispose()


def migration_engine(url: str) -> Engine:
    """An engine for migrating: on SQLite its connections do not enforce foreign keys."""
    engine = create_engine_for(url)
    if engine.dialect.name == "sqlite":
        # Runs after the engine's own set-up, which turns enforcement on; outside any
        # transaction, where SQLite honours the pragma.
        event.listen(engine, "connect", _foreign_keys_off)
    return engine


def _foreign_keys_off(dbapi_connection: object, _record: object) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[attr-defined]


def _check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if dangling:
        raise RuntimeError(f"The migration left rows whose foreign keys point nowhere: {dangling}")


def status(url: str) -> SchemaStatus:
    """The schema revision of the database at ``url``, creating nothing: a missing SQLite
    file is reported as missing, not made (a command run from the wrong directory must
    not leave an empty database behind)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser()
        if not path.is_file():
            return SchemaStatus(str(path), exists=False, current=None, head=head())
        location = str(path)
    else:
        location = parsed.render_as_string(hide_password=True)
    try:
        revision = current(url)
    except (OperationalError, InterfaceError) as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        return SchemaStatus(location, exists=True, current=None, head=head(), error=reason)
    return SchemaStatus(location, exists=True, current=revision, head=head())


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None before the first upgrade."""
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision in the migration history."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:  # only when versions/ is empty: a broken installation
        raise RuntimeError("The migration history is empty.")
    return revision


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for this package; ``env.py`` uses ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _serialize_migrators(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
    # SQLite: the transaction began with BEGIN IMMEDIATE, which already holds the lock.
