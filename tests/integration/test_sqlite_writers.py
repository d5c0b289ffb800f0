"""SQLite's writers queue on a lock file beside the database (``adapters/sqlite_writers``):
held from BEGIN to the end of every write transaction, never by readers, and never left
behind, whichever way the transaction ends."""

from __future__ import annotations

import fcntl
import os
import struct
import threading
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from adapters import database, sqlite_writers
from adapters.database import create_engine_for
from adapters.migrations import upgrade
from adapters.unit_of_work import SqlAlchemyUnitOfWork
from domain.model import Project

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "orchard.db"
    upgrade(f"sqlite:///{path}")
    engine = create_engine_for(f"sqlite:///{path}")
    yield engine, f"{path}.writers"
    engine.dispose()


def free(lock: str) -> bool:
    """Whether another writer could take the lock now."""
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
    return True


def add_project(uow, name: str) -> None:
    uow.projects.add(Project(name, created_at=T0, updated_at=T0))


def test_a_write_transaction_holds_the_lock_until_it_commits(db) -> None:
    engine, lock = db
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        assert free(lock)  # nothing begun yet
        add_project(uow, "one")
        assert not free(lock)
        uow.commit()
        assert free(lock)
        add_project(uow, "two")  # the next transaction queues again
        assert not free(lock)
        uow.commit()
    assert free(lock)
    with SqlAlchemyUnitOfWork(engine, read_only=True) as reader:
        assert reader.projects.get("two") is not None


def test_a_failed_or_abandoned_transaction_lets_the_lock_go(db) -> None:
    engine, lock = db
    uow = SqlAlchemyUnitOfWork(engine)
    with pytest.raises(RuntimeError), uow:
        add_project(uow, "doomed")
        raise RuntimeError("boom")
    assert free(lock)
    with uow:
        add_project(uow, "rolled-back")
        uow.rollback()
        assert free(lock)
    with uow:
        add_project(uow, "never-committed")
    assert free(lock)


def test_readers_never_take_it(db) -> None:
    engine, lock = db
    with SqlAlchemyUnitOfWork(engine, read_only=True) as reader:
        reader.projects.get("anything")
        assert free(lock)


def test_a_connection_used_outside_a_unit_of_work_releases_it_in_the_pool(db) -> None:
    engine, lock = db
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE scratch (x INTEGER)"))
        assert not free(lock)
        connection.commit()
        connection.execute(text("INSERT INTO scratch VALUES (1)"))  # begins again
        assert not free(lock)
    assert free(lock)  # given back to the pool mid-transaction


def test_a_writer_that_cannot_get_the_lock_in_time_leaves_it_to_sqlite(db, monkeypatch) -> None:
    engine, lock = db
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.05)
    holder = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)  # a stuck writer that never lets go
    try:
        uow = SqlAlchemyUnitOfWork(engine)
        with uow:
            add_project(uow, "still-stored")
            uow.commit()
    finally:
        os.close(holder)
    with SqlAlchemyUnitOfWork(engine, read_only=True) as reader:
        assert reader.projects.get("still-stored") is not None
    assert free(lock)


def test_a_lock_file_that_cannot_be_opened_costs_the_queue_not_the_write(db) -> None:
    engine, lock = db
    if os.path.exists(lock):
        os.unlink(lock)  # left by the migrations
    os.mkdir(lock)  # something in the way that no writer can open as a file
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        add_project(uow, "stored-anyway")
        uow.commit()
    with SqlAlchemyUnitOfWork(engine, read_only=True) as reader:
        assert reader.projects.get("stored-anyway") is not None


def test_only_database_files_get_a_lock_file() -> None:
    assert sqlite_writers.lock_path("/data/orchard.db") == "/data/orchard.db.writers"
    assert sqlite_writers.lock_path(":memory:") is None
    assert sqlite_writers.lock_path("file:shared?mode=memory") is None
    assert sqlite_writers.lock_path(None) is None


def counters(lock: str) -> tuple[int, int]:
    """(next ticket, ticket being served) from the lock file's first 16 bytes."""
    with open(lock, "rb") as file:
        return struct.unpack("<QQ", file.read(16))


def wait_until(predicate, what: str) -> None:
    deadline = time.monotonic() + 30
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.001)


def test_waiting_writers_get_the_lock_in_the_order_they_came(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sqlite_writers, "STALL", 60.0)  # nobody is skipped here
    lock = str(tmp_path / "orchard.db.writers")
    holder = SimpleNamespace(info={})
    sqlite_writers.acquire(holder, lock, 30)
    order: list[int] = []

    def writer(number: int) -> None:
        connection = SimpleNamespace(info={})
        sqlite_writers.acquire(connection, lock, 30)
        order.append(number)
        sqlite_writers.release(connection)

    threads = []
    for number in range(6):
        threads.append(threading.Thread(target=writer, args=(number,)))
        threads[-1].start()
        wait_until(lambda n=number: counters(lock)[0] == n + 2, f"writer {number} queued")
    time.sleep(0.05)  # the later writers have polled many times while the lock was held
    sqlite_writers.release(holder)
    for thread in threads:
        thread.join(30)
    assert order == list(range(6))
    assert counters(lock) == (7, 7)
    assert free(lock)


@pytest.mark.parametrize("died", ["holding the lock", "waiting in the queue"])
def test_a_writer_that_died_is_skipped(db, monkeypatch, died) -> None:
    engine, lock = db
    monkeypatch.setattr(sqlite_writers, "STALL", 0.02)
    dead = SimpleNamespace(info={})
    sqlite_writers.acquire(dead, lock, 30)
    if died == "holding the lock":
        os.close(dead.info.pop("orchard_writer_lock").descriptor)  # as the kernel does
    else:
        sqlite_writers._tickets_for(lock).take()  # a ticket nobody will ever use
        sqlite_writers.release(dead)
    uow = SqlAlchemyUnitOfWork(engine)
    with uow:
        add_project(uow, "after-the-dead")
        uow.commit()
    with SqlAlchemyUnitOfWork(engine, read_only=True) as reader:
        assert reader.projects.get("after-the-dead") is not None
    taken, served = counters(lock)
    assert served == taken  # the queue moved past the dead one's ticket
    assert free(lock)
