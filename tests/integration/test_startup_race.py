"""Several instances starting at once against one empty database all come up.

``orchard serve`` migrates, creates the first admin and the default index project on
every start; instances started together (compose scale-out, a rolling deploy) race on
each of those steps, and the losers must treat "already there" as success.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest

from adapters.database import create_engine_for
from domain.services.projects import ensure_project
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.startup import migrate, prepare
from tests.harness.postgres import fresh_database

INSTANCES = 6


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orchard.db'}"
    return fresh_database(request.getfixturevalue("postgres_server_url"))


def settings_for(database_url: str, tmp_path) -> Settings:
    return Settings(
        data_dir=str(tmp_path / "data"),
        database_url=database_url,
        admin_password="a-long-admin-password",
        secret_key="shared",
    )


def together(step: Callable[[Barrier], None]) -> list[BaseException | None]:
    """Run ``step`` in ``INSTANCES`` threads sharing a barrier; each one's error or None."""
    barrier = threading.Barrier(INSTANCES)

    def run(_: int) -> BaseException | None:
        try:
            step(barrier)
        except BaseException as error:  # reported to the test
            barrier.abort()
            return error
        return None

    with ThreadPoolExecutor(INSTANCES) as pool:
        return list(pool.map(run, range(INSTANCES)))


def test_instances_starting_together_all_come_up(database_url: str, tmp_path) -> None:
    settings = settings_for(database_url, tmp_path)

    def start(barrier: Barrier) -> None:
        barrier.wait()
        migrate(settings)
        services = bootstrap(settings)
        barrier.wait()
        prepare(services, announce=lambda *a, **k: None)

    assert together(start) == [None] * INSTANCES

    services = bootstrap(settings)
    with services.uow(read_only=True) as uow:
        assert [user.username for user in uow.users.list_all()] == ["admin"]
        assert uow.projects.get(settings.default_index) is not None


def test_ensuring_a_missing_project_at_once_from_every_instance_succeeds(
    database_url: str, tmp_path
) -> None:
    """The window between "is it there?" and the insert, hit on purpose: every round
    releases all instances on a new project name at the same moment."""
    settings = settings_for(database_url, tmp_path)
    migrate(settings)

    def ensure_many(barrier: Barrier) -> None:
        services = bootstrap(settings)
        for round_ in range(15):
            barrier.wait()
            ensure_project(services.uow(), services.clock, name=f"index-{round_}")

    assert together(ensure_many) == [None] * INSTANCES
    with bootstrap(settings).uow(read_only=True) as uow:
        assert all(uow.projects.get(f"index-{round_}") for round_ in range(15))


def test_connections_opening_a_new_sqlite_file_together_all_succeed(tmp_path) -> None:
    """The first connections to a new file race to switch it to WAL, which SQLite refuses
    at once (no busy wait) while another connection holds the file."""
    for round_ in range(40):
        url = f"sqlite:///{tmp_path / f'new-{round_}.db'}"

        def connect(barrier: Barrier, url: str = url) -> None:
            engine = create_engine_for(url)
            try:
                barrier.wait()
                with engine.connect() as connection:
                    mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
                assert mode == "wal"
            finally:
                engine.dispose()

        assert together(connect) == [None] * INSTANCES
