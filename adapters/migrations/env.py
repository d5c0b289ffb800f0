"""Alembic environment: the target metadata is ``adapters.tables.metadata``.

``adapters.migrations.upgrade`` hands over an open connection (inside the locked
transaction); run from the ``alembic`` command line instead, the URL comes from
``ORCHARD_DATABASE_URL``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from adapters.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from adapters.migrations import migration_engine

    engine = migration_engine(os.environ["ORCHARD_DATABASE_URL"])
    try:
        with engine.connect() as new_connection:
            _run(new_connection)
    finally:
        engine.dispose()


_run_online()
