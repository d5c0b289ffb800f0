"""Units of work: commit, rollback, time zones, an unreachable database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from adapters.database import create_engine_for
from adapters.unit_of_work import SqlAlchemyUnitOfWork
from domain.errors import BackendUnavailable
from domain.model import (
    Project,
)
from domain.ports import UnitOfWork
from tests.fakes.metadata import FakeDatabase, FakeUnitOfWork
from tests.integration.metadata_contract.support import (
    T0,
    UowFactory,
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
