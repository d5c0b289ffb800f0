"""Units of work: commit, rollback, time zones, an unreachable database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from adapters.database import create_engine_for
from adapters.migrations import upgrade
from adapters.unit_of_work import SqlAlchemyUnitOfWork
from domain.errors import BackendUnavailable
from domain.model import (
    Project,
)
from domain.ports import UnitOfWork
from tests.fakes.metadata import FakeDatabase, FakeUnitOfWork
from tests.integration.metadata_contract.support import (
    POSTGRES,
    T0,
    UowFactory,
    empty_database,
)


def test_commit_persists_and_leaving_without_commit_rolls_back(new_uow: UowFactory) -> None:
    writer, reader = new_uow(), new_uow()
    with writer:
        writer.projects.add(Project("kept", created_at=T0))
        writer.commit()
        writer.projects.add(Project("dropped", created_at=T0))
    with writer:
        writer.projects.add(Project("rolled-back", created_at=T0))
        writer.rollback()
        assert writer.projects.get("rolled-back") is None
    with reader:
        assert reader.projects.get("kept") is not None
        assert reader.projects.get("dropped") is None
        reader.check()


def test_timestamps_come_back_timezone_aware_utc(uow: UnitOfWork) -> None:
    paris = datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    with uow:
        uow.projects.add(Project("p", created_at=paris))
        uow.commit()
    with uow:
        stored = uow.projects.get("p").created_at
    assert stored == paris and stored.utcoffset() == timedelta(0)


def _unreachable_unit_of_work(kind: str) -> UnitOfWork:
    if kind == "fake":
        db = FakeDatabase()
        db.available = False
        return FakeUnitOfWork(db)
    url = "postgresql+psycopg://postgres@127.0.0.1:9/nowhere"  # the discard port: refused
    return SqlAlchemyUnitOfWork(create_engine_for(url, connect_timeout=1))


@pytest.mark.parametrize("kind", ["fake", "sql"])
def test_an_unreachable_database_is_backend_unavailable(kind: str) -> None:
    uow = _unreachable_unit_of_work(kind)
    with pytest.raises(BackendUnavailable):
        uow.check()
    with pytest.raises(BackendUnavailable), uow:
        uow.projects.get("p")


@pytest.mark.postgres
def test_a_reader_on_postgres_leaves_no_transaction_open(postgres_engine) -> None:
    """Readers run in autocommit on PostgreSQL: no BEGIN/ROLLBACK round trips, and no
    backend "idle in transaction" while a response renders. Writers keep their
    transaction until commit."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
    )

    def open_transactions(read_only: bool) -> int:
        with SqlAlchemyUnitOfWork(postgres_engine, read_only=read_only) as uow:
            uow.projects.get("anything")
            with postgres_engine.connect() as observer:
                return observer.execute(waiting).scalar_one()

    assert (open_transactions(read_only=True), open_transactions(read_only=False)) == (0, 1)


@pytest.fixture(params=["sqlite", POSTGRES])
def sql_engine(request: pytest.FixtureRequest, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'orchard.db'}"
        upgrade(url)
        engine = create_engine_for(url)
        yield engine
        engine.dispose()
    else:
        yield empty_database(request.getfixturevalue("postgres_engine"))


def test_a_reader_sees_each_commit_as_soon_as_it_is_made(sql_engine) -> None:
    """Readers run without a transaction of their own on both backends: every statement
    reads what is committed when it runs, as under PostgreSQL's READ COMMITTED. So a
    request's reads behave alike on SQLite and PostgreSQL (a read that needs one snapshot
    says so with ``snapshot=True``), and SQLite spends no BEGIN on a GET."""
    writer, reader = (SqlAlchemyUnitOfWork(sql_engine, read_only=f) for f in (False, True))
    with writer, reader:
        assert reader.projects.get("seen-once-committed") is None  # the reader has begun
        writer.projects.add(Project("seen-once-committed", created_at=T0))
        assert reader.projects.get("seen-once-committed") is None
        writer.commit()
        assert reader.projects.get("seen-once-committed") is not None


def test_a_snapshot_sees_the_database_as_of_its_first_read(sql_engine) -> None:
    """What an export's manifest relies on: rows committed meanwhile stay out of it."""
    with SqlAlchemyUnitOfWork(sql_engine) as setup:
        setup.projects.add(Project("before", created_at=T0))
        setup.commit()
    with SqlAlchemyUnitOfWork(sql_engine, snapshot=True) as snapshot:
        assert snapshot.projects.get("before") is not None
        with SqlAlchemyUnitOfWork(sql_engine) as writer:  # not held up by the snapshot
            writer.projects.add(Project("meanwhile", created_at=T0))
            writer.commit()
        assert snapshot.projects.get("meanwhile") is None
    with SqlAlchemyUnitOfWork(sql_engine, snapshot=True) as later:
        assert later.projects.get("meanwhile") is not None
