"""The metadata ports' contract, run on every implementation: the in-memory fake, SQLite
(a file, migrated) and PostgreSQL (a fresh migrated database). One set of cases keeps the
fake honest and the SQL adapter correct; the concurrency cases run only where several
connections really race (``new_uow`` parametrised indirectly to the SQL kinds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from adapters.database import create_engine_for
from adapters.migrations import upgrade
from adapters.unit_of_work import SqlAlchemyUnitOfWork
from domain.ports import UnitOfWork
from tests.fakes.metadata import FakeDatabase, FakeUnitOfWork
from tests.harness.postgres import fresh_database
from tests.integration.metadata_contract.support import POSTGRES, UowFactory, empty_database


@pytest.fixture(scope="session")
def postgres_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    url = fresh_database(request.getfixturevalue("postgres_server_url"))
    upgrade(url)
    engine = create_engine_for(url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["fake", "sqlite", POSTGRES])
def new_uow(request: pytest.FixtureRequest, tmp_path) -> Iterator[UowFactory]:
    """Makes units of work that all share one (empty) database."""
    if request.param == "fake":
        db = FakeDatabase()
        yield lambda: FakeUnitOfWork(db)
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'orchard.db'}"
        upgrade(url)
        engine = create_engine_for(url)
        yield lambda: SqlAlchemyUnitOfWork(engine)
        engine.dispose()
    else:
        engine = empty_database(request.getfixturevalue("postgres_engine"))
        yield lambda: SqlAlchemyUnitOfWork(engine)


@pytest.fixture
def uow(new_uow: UowFactory) -> UnitOfWork:
    return new_uow()
