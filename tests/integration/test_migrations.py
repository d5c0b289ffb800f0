"""The migrations build exactly the schema of ``adapters/orm.py``, on SQLite and
PostgreSQL, and running them again (as every worker does on start) changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect

from adapters.database import create_engine_for
from adapters.migrations import current, head, upgrade
from adapters.orm import metadata
from adapters.unit_of_work import SqlAlchemyUnitOfWork
from domain.model import Artifact, LoginSession, Package, Project, Upload, User
from tests.harness.postgres import fresh_database

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database, never migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'orchard.db'}"
    else:
        yield fresh_database(request.getfixturevalue("postgres_server_url"))


def differences(url: str, target: MetaData) -> list:
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, target)
    finally:
        engine.dispose()


def test_a_new_database_has_no_revision(database_url: str) -> None:
    assert current(database_url) is None


def test_upgrading_twice_is_a_no_op(database_url: str) -> None:
    upgrade(database_url)
    before = current(database_url)
    upgrade(database_url)
    assert before == current(database_url) == head()


def test_the_migrated_schema_matches_the_tables(database_url: str) -> None:
    upgrade(database_url)
    assert differences(database_url, metadata) == []


def test_the_comparison_does_see_a_difference(database_url: str) -> None:
    upgrade(database_url)
    changed = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["projects"].append_column(Column("extra", Integer))
    assert [diff[0] for diff in differences(database_url, changed)] == ["add_column"]


def test_workers_starting_together_migrate_once(database_url: str) -> None:
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(upgrade, [database_url] * 4))
    engine = create_engine_for(database_url)
    try:
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert current(database_url) == head()


def test_upgrading_from_the_first_migration_keeps_existing_data(database_url: str) -> None:
    """A database made by the first release, with data in it, upgraded to head."""
    upgrade(database_url, "0001")
    engine = create_engine_for(database_url)
    try:
        with SqlAlchemyUnitOfWork(engine) as uow:
            user = uow.users.add(User("keeper", "hash", created_at=T0))
            project = uow.projects.add(Project("kept", created_at=T0, updated_at=T0))
            package = uow.packages.add(Package(project.id, "pkg", created_at=T0))
            uow.artifacts.add_reference(Artifact("a" * 64, 3, "x/y", "m", "s", "b", T0))
            uow.uploads.add(Upload(package.id, "a" * 64, "file.bin", T0, uploader="keeper"))
            uow.tags.set(package.id, "latest", "a" * 64, T0, "keeper")
            uow.commit()
        upgrade(database_url)
        assert current(database_url) == head()
        with SqlAlchemyUnitOfWork(engine) as uow:
            assert uow.users.get("keeper").id == user.id
            kept = uow.packages.get(project.id, "pkg")
            assert uow.artifacts.get("a" * 64).ref_count == 1
            assert uow.tags.get(kept.id, "latest").artifact_id == "a" * 64
            assert uow.uploads.latest_for_artifact(kept.id, "a" * 64).original_name == "file.bin"
            uow.sessions.add(LoginSession("t" * 64, user.id, T0, T0))  # the new table works
            uow.commit()
    finally:
        engine.dispose()
