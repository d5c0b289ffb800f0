"""Pooled PostgreSQL connections the server dropped: pinged and replaced when they sat
idle, not pinged (one round trip saved per request) when they were in use moments ago."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from adapters import database
from adapters.database import create_engine_for
from adapters.migrations import upgrade
from adapters.unit_of_work import SqlAlchemyUnitOfWork
from domain.errors import BackendUnavailable
from tests.harness.postgres import fresh_database

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def url(postgres_server_url: str) -> str:
    created = fresh_database(postgres_server_url)
    upgrade(created)
    return created


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()


def _drop(url: str, pid: int) -> None:
    """Terminate that server process and wait until it is gone."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, f"backend {pid} did not exit"
            time.sleep(0.01)


def _engine(url: str, monkeypatch, idle_seconds: float) -> Engine:
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", idle_seconds)
    return create_engine_for(url)


def test_a_connection_dropped_while_idle_is_replaced_before_use(url, monkeypatch) -> None:
    engine = _engine(url, monkeypatch, idle_seconds=0.0)  # every checkout counts as idle
    try:
        first = _backend_pid(engine)
        _drop(url, first)
        with SqlAlchemyUnitOfWork(engine, read_only=True) as uow:
            assert uow.projects.get("anything") is None  # no error: pinged, reconnected
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()


def test_a_connection_in_use_moments_ago_is_not_pinged(url, monkeypatch) -> None:
    engine = _engine(url, monkeypatch, idle_seconds=60.0)
    try:
        first = _backend_pid(engine)
        _drop(url, first)
        # Used under a minute ago, so trusted: dropped in that instant, this request fails
        # with a clear error, as one lost mid-request would...
        with pytest.raises(BackendUnavailable), SqlAlchemyUnitOfWork(engine) as uow:
            uow.projects.get("anything")
        # ...and the pool starts again from new connections.
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()
