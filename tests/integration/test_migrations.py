"""The migrations build exactly the schema of ``adapters/tables.py``, on SQLite and
PostgreSQL, and running them again (as every worker does on start) changes nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, Integer, MetaData, inspect
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table

from adapters.database import create_engine_for
from adapters.migrations import current, head, upgrade
from adapters.tables import metadata
from adapters.unit_of_work import SqlAlchemyUnitOfWork
from domain.model import LoginSession, Package
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
    """A database made by the first release, with data in it, upgraded to head.

    The rows are written with plain SQL: today's repositories speak today's schema."""
    upgrade(database_url, "0001")
    engine = create_engine_for(database_url)
    try:
        with engine.begin() as connection:
            ids = _insert_first_release_rows(connection)
        upgrade(database_url)
        assert current(database_url) == head()
        with SqlAlchemyUnitOfWork(engine) as uow:
            assert uow.users.get("keeper").id == ids["user"]
            # Rebuilding the tables (0004) cascaded into none of the rows that refer to them.
            assert [key.name for key in uow.api_keys.list_for_user(ids["user"])] == ["ci"]
            assert uow.members.get(ids["project"], ids["user"]).role.value == "write"
            kept = uow.packages.get(ids["project"], "pkg")
            assert uow.projects.get("kept").index_serial == 0
            assert uow.artifacts.get("a" * 64).ref_count == 1
            assert uow.tags.get(kept.id, "latest").artifact_id == "a" * 64
            assert uow.uploads.latest_for_artifact(kept.id, "a" * 64).original_name == "file.bin"
            (wheel,) = uow.distributions.list_live(kept.id)
            assert wheel.core_metadata == METADATA
            assert wheel.metadata_sha256 == hashlib.sha256(METADATA).hexdigest()  # backfilled
            uow.sessions.add(LoginSession("t" * 64, ids["user"], T0, T0))  # the new table works
            uow.packages.add(Package(ids["project"], "newer", created_at=T0))
            uow.commit()
        with SqlAlchemyUnitOfWork(engine) as uow:
            assert uow.projects.get("kept").index_serial == 1  # the new column counts
    finally:
        engine.dispose()


METADATA = b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n"


def _insert_first_release_rows(connection: Connection) -> dict[str, int]:
    def insert(table: str, **values: object) -> int | None:
        """Only the named columns, typed as today (dates as stored), no defaults."""
        model = metadata.tables[table]
        target = sa_table(table, *(sa_column(name, model.c[name].type) for name in {"id", *values}))
        statement = target.insert().values(values)
        if isinstance(model.c.id.type, Integer):
            return connection.execute(statement.returning(target.c.id)).scalar()
        connection.execute(statement)
        return None

    user = insert("users", username="keeper", password_hash="hash", is_admin=False, created_at=T0)
    project = insert(
        "projects", name="kept", description="", is_public=True, allow_overwrite=False,
        created_at=T0, updated_at=T0,
    )  # fmt: skip
    package = insert(
        "packages", project_id=project, name="pkg", format="pypi", description="",
        created_at=T0, updated_at=T0, serial=1,
    )  # fmt: skip
    insert(
        "artifacts", id="a" * 64, size=3, content_type="x/y", md5="m", sha1="s",
        blake2b_256="b", ref_count=1, created_at=T0,
    )  # fmt: skip
    upload = insert(
        "uploads", package_id=package, artifact_id="a" * 64, original_name="file.bin",
        created_at=T0, uploader="keeper",
    )  # fmt: skip
    insert(
        "tags", package_id=package, name="latest", artifact_id="a" * 64, created_at=T0,
        updated_at=T0,
    )  # fmt: skip
    insert(
        "distributions", package_id=package, filename="pkg-1.0-py3-none-any.whl",
        version="1.0", artifact_id="a" * 64, upload_id=upload, created_at=T0,
        packagetype="bdist_wheel", core_metadata=METADATA, yanked=False, size=3,
    )  # fmt: skip
    insert("api_keys", user_id=user, name="ci", key_hash="k" * 64, prefix="orch_k", created_at=T0)
    insert("memberships", project_id=project, user_id=user, role="write", created_at=T0)
    return {"user": user, "project": project, "package": package}


def test_ids_are_never_given_out_twice_on_an_upgraded_database(database_url: str) -> None:
    """The newest row deleted, the next one still gets a new id (SQLite reused it)."""
    upgrade(database_url, "0003")
    engine = create_engine_for(database_url)
    try:
        with engine.begin() as connection:
            first = _insert_first_release_rows(connection)
        upgrade(database_url)
        with engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):  # children first
                connection.execute(table.delete())
            again = _insert_first_release_rows(connection)
        assert all(again[name] > first[name] for name in first), (first, again)
    finally:
        engine.dispose()
