"""The metadata ports' contract, run on every implementation: the in-memory fake, SQLite
(a file, migrated) and PostgreSQL (a fresh migrated database). One set of cases keeps the
fake honest and the SQL adapter correct; the concurrency cases run only where several
connections really race."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, text

from adapters.database import create_engine_for
from adapters.migrations import upgrade
from adapters.orm import metadata
from adapters.unit_of_work import SqlAlchemyUnitOfWork
from domain.errors import AlreadyExists, BackendUnavailable, Conflict, FileExists
from domain.model import (
    ApiKey,
    Artifact,
    Distribution,
    LoginSession,
    Membership,
    Package,
    PackageFormat,
    Project,
    Role,
    Upload,
    User,
    Version,
    VersionSource,
)
from domain.ports import UnitOfWork
from tests.fakes.metadata import FakeDatabase, FakeUnitOfWork
from tests.harness.postgres import fresh_database

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)
UowFactory = Callable[[], UnitOfWork]


@pytest.fixture(scope="module")
def postgres_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    url = fresh_database(request.getfixturevalue("postgres_server_url"))
    upgrade(url)
    engine = create_engine_for(url)
    yield engine
    engine.dispose()


def _empty(engine: Engine) -> Engine:
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture(params=["fake", "sqlite", POSTGRES])
def new_uow(request: pytest.FixtureRequest, tmp_path) -> Iterator[UowFactory]:
    """Makes units of work that all share one (empty) database."""
    if request.param == "fake":
        db = FakeDatabase()
        yield lambda: FakeUnitOfWork(db)
    else:
        yield _sql_uow_factory(request.param, request, tmp_path)


@pytest.fixture
def uow(new_uow: UowFactory) -> UnitOfWork:
    return new_uow()


def artifact(n: int, at: datetime = T0) -> Artifact:
    return Artifact(
        f"{n:064x}", n * 10, "application/octet-stream", f"{n:032x}", f"{n:040x}", f"{n:064x}", at
    )


def seed(uow: UnitOfWork, project: str = "proj", package: str = "pkg", **kw) -> Package:
    with uow:
        stored = uow.projects.add(Project(project, created_at=T0, updated_at=T0, **kw))
        result = uow.packages.add(Package(stored.id, package, PackageFormat.PYPI, created_at=T0))
        uow.commit()
    return result


def upload(uow: UnitOfWork, package: Package, n: int, at: datetime = T0) -> Upload:
    uow.artifacts.add_reference(artifact(n))
    return uow.uploads.add(Upload(package.id, artifact(n).id, f"file{n}.bin", at, "alice"))


# ------------------------------------------------------------------ transactions


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


# ------------------------------------------------------------------ projects and packages


def test_projects_are_added_updated_and_deleted(uow: UnitOfWork) -> None:
    with uow:
        project = uow.projects.add(Project("p", "first", created_at=T0, created_by="alice"))
        with pytest.raises(AlreadyExists):
            uow.projects.add(Project("p"))
        project.description, project.is_public, project.allow_overwrite = "second", False, True
        project.created_by, project.updated_at = None, T0 + timedelta(1)
        uow.projects.update(project)
        uow.commit()
    with uow:
        stored = uow.projects.get("p")
        assert (stored.id, stored.description, stored.is_public) == (project.id, "second", False)
        assert stored.allow_overwrite and stored.created_by == "alice"
        assert stored.updated_at == T0 + timedelta(1)
        uow.projects.delete(stored.id)
        uow.commit()
    with uow:
        assert uow.projects.get("p") is None


def test_project_listing_shows_public_projects_and_the_members_own(uow: UnitOfWork) -> None:
    with uow:
        for name, public in (("a-public", True), ("b-private", False), ("c-private", False)):
            uow.projects.add(Project(name, is_public=public, created_at=T0))
        bob = uow.users.add(User("bob", "hash"))
        uow.members.set(Membership(uow.projects.get("c-private").id, bob.id, Role.READ))
        uow.commit()

        def names(user_id: int | None, include_all: bool = False) -> list[str]:
            found, _ = uow.projects.list(
                visible_to_user_id=user_id, include_all=include_all, search=None, limit=10, offset=0
            )
            return [p.name for p in found]

        assert names(None) == ["a-public"]
        assert names(bob.id) == ["a-public", "c-private"]
        assert names(None, include_all=True) == ["a-public", "b-private", "c-private"]


def test_project_listing_pages_and_searches(uow: UnitOfWork) -> None:
    with uow:
        for name in ("alpha", "beta", "gamma", "delta", "alp_x"):
            uow.projects.add(Project(name, created_at=T0))
        uow.commit()
        page, total = uow.projects.list(
            visible_to_user_id=None, include_all=False, search=None, limit=2, offset=2
        )
        assert ([p.name for p in page], total) == (["beta", "delta"], 5)
        found, total = uow.projects.list(
            visible_to_user_id=None, include_all=False, search="ALP", limit=10, offset=0
        )
        assert ([p.name for p in found], total) == (["alp_x", "alpha"], 2)
        literal, _ = uow.projects.list(
            visible_to_user_id=None, include_all=False, search="p_", limit=10, offset=0
        )
        assert [p.name for p in literal] == ["alp_x"]


def test_packages_are_added_listed_and_serialised(uow: UnitOfWork) -> None:
    package = seed(uow)
    with uow:
        with pytest.raises(AlreadyExists):
            uow.packages.add(Package(package.project_id, "pkg"))
        uow.packages.add(Package(package.project_id, "other", PackageFormat.GENERIC))
        stored = uow.packages.get(package.project_id, "pkg")
        assert (stored.id, stored.project_name, stored.format) == (package.id, "proj", "pypi")
        assert uow.packages.serial(package.id) == 0
        assert [uow.packages.touch(package.id, T0) for _ in range(2)] == [1, 2]
        uow.commit()
    with uow:
        assert uow.packages.serial(package.id) == 2
        assert uow.packages.get(package.project_id, "pkg").serial == 2
        listed, total = uow.packages.list(
            package.project_id, search=None, format="generic", limit=10, offset=0
        )
        assert ([p.name for p in listed], total) == (["other"], 1)
        found, _ = uow.packages.list(
            package.project_id, search="PK", format=None, limit=10, offset=0
        )
        assert [p.name for p in found] == ["pkg"]
        assert uow.packages.names(package.project_id, format=None) == ["other", "pkg"]
        assert uow.packages.names(package.project_id, format="pypi") == ["pkg"]


def test_a_project_and_its_package_are_found_in_one_read(uow: UnitOfWork) -> None:
    package = seed(uow, is_public=False)
    with uow:
        uow.packages.touch(package.id, T0)
        project, found = uow.packages.find("proj", "pkg")
        assert (project.id, project.name, project.is_public) == (package.project_id, "proj", False)
        assert found == uow.packages.get(package.project_id, "pkg")
        assert (found.serial, found.project_name, found.format) == (1, "proj", PackageFormat.PYPI)
        assert uow.packages.find("proj", "missing") == (project, None)
        assert uow.packages.find("missing", "pkg") is None


def test_adding_or_deleting_a_package_bumps_its_project_index_serial(uow: UnitOfWork) -> None:
    package = seed(uow)  # adds one package
    seed(uow, project="elsewhere")
    with uow:
        assert uow.projects.get("proj").index_serial == 1
        other = uow.packages.add(Package(package.project_id, "other", created_at=T0))
        assert uow.projects.get("proj").index_serial == 2
        uow.packages.delete(other.id)
        uow.packages.delete(other.id)  # already gone: nothing changes
        uow.commit()
    with uow:
        assert uow.projects.get("proj").index_serial == 3
        assert uow.projects.get("elsewhere").index_serial == 1
        project = uow.projects.get("proj")
        project.description, project.index_serial = "edited", 99
        uow.projects.update(project)  # the serial is the store's to keep, not the caller's
        uow.commit()
    with uow:
        assert uow.projects.get("proj").index_serial == 3


def _fill(uow: UnitOfWork, package: Package) -> None:
    up = upload(uow, package, 1)
    uow.tags.set(package.id, "latest", up.artifact_id, T0, "alice")
    uow.versions.add_if_absent(
        Version(package.id, "1.0", up.artifact_id, VersionSource.EXPLICIT, T0)
    )
    uow.distributions.add(
        Distribution(package.id, "pkg-1.0.tar.gz", "1.0", up.artifact_id, up.id, T0)
    )


@pytest.mark.parametrize("delete", ["project", "package"])
def test_deleting_removes_everything_below_but_not_artifacts(uow: UnitOfWork, delete: str) -> None:
    package = seed(uow)
    with uow:
        _fill(uow, package)
        user = uow.users.add(User("bob", "hash"))
        uow.members.set(Membership(package.project_id, user.id, Role.WRITE))
        uow.commit()
    with uow:
        if delete == "project":
            uow.projects.delete(package.project_id)
        else:
            uow.packages.delete(package.id)
        uow.commit()
    with uow:
        assert uow.packages.get(package.project_id, "pkg") is None
        assert uow.tags.get(package.id, "latest") is None
        assert uow.tags.history(package.id, "latest") == []
        assert uow.versions.get(package.id, "1.0") is None
        assert uow.distributions.get(package.id, "pkg-1.0.tar.gz") is None
        assert uow.uploads.references_by_artifact() == {}
        assert (uow.members.get(package.project_id, user.id) is None) == (delete == "project")
        assert uow.artifacts.get(artifact(1).id).ref_count == 1  # the caller releases


# ------------------------------------------------------------------ artifacts and uploads


def test_add_reference_counts_each_reference_and_reports_existence(uow: UnitOfWork) -> None:
    with uow:
        assert uow.artifacts.add_reference(artifact(1)) == (1, False)
        assert uow.artifacts.add_reference(artifact(1)) == (2, True)
        uow.commit()
    with uow:
        stored = uow.artifacts.get(artifact(1).id)
        assert (stored.ref_count, stored.size, stored.md5) == (2, 10, artifact(1).md5)
        assert uow.artifacts.all_ids() == {artifact(1).id}


def test_released_artifacts_become_garbage_after_the_cutoff(uow: UnitOfWork) -> None:
    gone, at = artifact(1).id, T0 + timedelta(hours=1)
    with uow:
        uow.artifacts.add_reference(artifact(1))
        uow.artifacts.add_reference(artifact(1))
        assert uow.artifacts.release(gone, 1, at) == 1
        assert uow.artifacts.get(gone).released_at is None
        assert uow.artifacts.release(gone, 1, at) == 0
        uow.commit()
    with uow:
        assert uow.artifacts.get(gone).released_at == at
        assert uow.artifacts.list_garbage(at, 10) == []
        assert uow.artifacts.lock_garbage(gone, at) is None
        later = at + timedelta(seconds=1)
        assert [a.id for a in uow.artifacts.list_garbage(later, 10)] == [gone]
        assert uow.artifacts.lock_garbage(gone, later).id == gone
        uow.artifacts.delete(gone)
        uow.commit()
    with uow:
        assert uow.artifacts.get(gone) is None


def test_releasing_more_than_held_is_a_conflict(uow: UnitOfWork) -> None:
    with uow:
        uow.artifacts.add_reference(artifact(1))
        with pytest.raises(Conflict):
            uow.artifacts.release(artifact(1).id, 2, T0)
        uow.rollback()
        assert uow.artifacts.get(artifact(1).id) is None
        assert uow.artifacts.release(artifact(1).id, 1, T0) == 0  # nothing to release


def test_a_new_reference_rescues_garbage(uow: UnitOfWork) -> None:
    later = T0 + timedelta(days=1)
    with uow:
        uow.artifacts.add_reference(artifact(1))
        uow.artifacts.release(artifact(1).id, 1, T0)
        assert uow.artifacts.add_reference(artifact(1)) == (1, True)
        assert uow.artifacts.lock_garbage(artifact(1).id, later) is None
        uow.artifacts.set_ref_count(artifact(1).id, 0, T0)
        assert [a.id for a in uow.artifacts.list_garbage(later, 10)] == [artifact(1).id]
        uow.artifacts.set_ref_count(artifact(1).id, 3, later)
        assert uow.artifacts.get(artifact(1).id).ref_count == 3


def test_an_orphan_claim_is_refused_for_a_known_artifact_and_leaves_no_row(
    new_uow: UowFactory,
) -> None:
    with new_uow() as uow:
        uow.artifacts.add_reference(artifact(1))
        uow.commit()
    with new_uow() as uow:
        assert uow.artifacts.claim_orphan(artifact(1).id, T0) is False
        assert uow.artifacts.claim_orphan(artifact(2).id, T0) is True
        assert uow.artifacts.claim_orphan(artifact(2).id, T0) is False  # held already
    with new_uow() as uow:  # left without commit: the claim is gone
        assert uow.artifacts.get(artifact(2).id) is None
        assert uow.artifacts.get(artifact(1).id).ref_count == 1


@pytest.mark.parametrize("kind", ["sqlite", POSTGRES])
def test_an_upload_of_claimed_bytes_waits_for_the_claim_to_end(
    kind: str, request: pytest.FixtureRequest, tmp_path
) -> None:
    """Garbage collection deletes an orphan blob while it holds the claim; the upload that
    would record a row for the same bytes must not slip in between."""
    new_uow = _sql_uow_factory(kind, request, tmp_path)
    claimed = threading.Event()
    release = threading.Event()

    def collector() -> None:
        with new_uow() as uow:
            assert uow.artifacts.claim_orphan(artifact(1).id, T0)
            claimed.set()
            release.wait(30)  # the blob would be deleted here; then leave, no commit

    def upload() -> tuple[int, bool]:
        claimed.wait(30)
        with new_uow() as uow:
            counted = uow.artifacts.add_reference(artifact(1))
            uow.commit()
            return counted

    with ThreadPoolExecutor(2) as pool:
        gc_done = pool.submit(collector)
        recorded = pool.submit(upload)
        claimed.wait(30)
        with pytest.raises(FutureTimeout):
            recorded.result(timeout=1)  # still waiting on the claim
        release.set()
        gc_done.result(30)
        assert recorded.result(30) == (1, False)  # a fresh row, once the claim is gone
    with new_uow() as uow:
        assert uow.artifacts.get(artifact(1).id).ref_count == 1


def _sql_uow_factory(kind: str, request: pytest.FixtureRequest, tmp_path) -> UowFactory:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'orchard.db'}"
        upgrade(url)
        engine = create_engine_for(url)
        request.addfinalizer(engine.dispose)
    else:
        engine = _empty(request.getfixturevalue("postgres_engine"))
    return lambda: SqlAlchemyUnitOfWork(engine)


def test_uploads_are_listed_counted_and_deleted(uow: UnitOfWork) -> None:
    package = seed(uow)
    other = seed(uow, "proj2", "other")
    with uow:
        first, second = upload(uow, package, 1), upload(uow, package, 1, T0 + timedelta(1))
        upload(uow, package, 2, T0 - timedelta(1))
        upload(uow, other, 1)
        page, total = uow.uploads.list(package.id, limit=2, offset=0)
        assert ([u.id for u in page], total) == ([second.id, first.id], 3)
        assert uow.uploads.artifacts_of_package(package.id) == {
            artifact(1).id: 2,
            artifact(2).id: 1,
        }
        assert uow.uploads.references_by_artifact(project_id=other.project_id) == {
            artifact(1).id: 1
        }
        assert uow.uploads.references_by_artifact() == {artifact(1).id: 3, artifact(2).id: 1}
        assert uow.uploads.package_holds(package.id, artifact(2).id)
        assert uow.uploads.latest_for_artifact(package.id, artifact(1).id).id == second.id
        holders = uow.uploads.readable_packages_holding(artifact(1).id)
        assert [(p.name, k.name) for p, k in holders] == [("proj", "pkg"), ("proj2", "other")]
        assert uow.uploads.delete(first.id).original_name == "file1.bin"
        assert uow.uploads.delete(first.id) is None
        assert uow.uploads.delete_for_artifact(package.id, artifact(1).id) == 1
        assert not uow.uploads.package_holds(package.id, artifact(1).id)


# ------------------------------------------------------------------ versions and tags


def test_a_version_keeps_its_first_content(uow: UnitOfWork) -> None:
    package = seed(uow)
    with uow:
        for n in (1, 2):
            uow.artifacts.add_reference(artifact(n))
        first = Version(package.id, "1.0", artifact(1).id, VersionSource.METADATA, T0)
        assert uow.versions.add_if_absent(first).artifact_id == artifact(1).id
        again = Version(package.id, "1.0", artifact(2).id, VersionSource.EXPLICIT, T0)
        stored = uow.versions.add_if_absent(again)
        assert (stored.artifact_id, stored.version_source) == (artifact(1).id, "metadata")
        later = T0 + timedelta(1)
        uow.versions.add_if_absent(
            Version(package.id, "2.0", artifact(2).id, VersionSource.FILENAME, later)
        )
        listed, total = uow.versions.list(package.id, search=None, limit=10, offset=0)
        assert ([v.version for v in listed], total) == (["2.0", "1.0"], 2)
        assert uow.versions.delete_for_artifact(package.id, artifact(2).id) == 1
        assert uow.versions.delete(package.id, "1.0") and not uow.versions.delete(package.id, "1.0")
        assert uow.versions.get(package.id, "1.0") is None


def test_tags_move_and_keep_their_history(uow: UnitOfWork) -> None:
    package = seed(uow)
    a, b = artifact(1).id, artifact(2).id
    with uow:
        upload(uow, package, 1), upload(uow, package, 2)
        created = uow.tags.set(package.id, "latest", a, T0, "alice")
        assert (created.old_artifact_id, created.new_artifact_id) == (None, a)
        assert uow.tags.set(package.id, "latest", a, T0 + timedelta(1), "bob") is None
        moved = uow.tags.set(package.id, "latest", b, T0 + timedelta(2), "bob")
        assert (moved.old_artifact_id, moved.new_artifact_id, moved.changed_by) == (a, b, "bob")
        uow.tags.set(package.id, "stable", a, T0, None)
        uow.commit()
    with uow:
        tag = uow.tags.get(package.id, "latest")
        assert (tag.artifact_id, tag.created_at, tag.updated_at) == (b, T0, T0 + timedelta(2))
        listed, total = uow.tags.list(package.id, search="sta", limit=10, offset=0)
        assert ([t.name for t in listed], total) == (["stable"], 1)
        assert uow.tags.delete(package.id, "latest") and not uow.tags.delete(package.id, "latest")
        assert uow.tags.delete_for_artifact(package.id, a) == 1
        history = uow.tags.history(package.id, "latest")
        assert [(c.old_artifact_id, c.new_artifact_id) for c in history] == [(None, a), (a, b)]


# ------------------------------------------------------------------ distributions


def test_a_filename_exists_once_and_its_tombstone_stays(uow: UnitOfWork) -> None:
    package = seed(uow)
    with uow:
        up = upload(uow, package, 1)
        wheel = Distribution(
            package.id,
            "pkg-1.0-py3-none-any.whl",
            "1.0",
            up.artifact_id,
            up.id,
            T0,
            "bdist_wheel",
            ">=3.9",
            b"Metadata-Version: 2.1\n",
        )
        uow.distributions.add(wheel)
        with pytest.raises(FileExists):
            uow.distributions.add(
                Distribution(package.id, wheel.filename, "1.0", artifact(2).id, None, T0)
            )
        uow.commit()  # the failed insert did not spoil the transaction
    with uow:
        stored = uow.distributions.get(package.id, wheel.filename)
        assert (stored.core_metadata, stored.requires_python) == (
            b"Metadata-Version: 2.1\n",
            ">=3.9",
        )
        assert (
            uow.distributions.find_by_artifact(
                package.project_id, up.artifact_id, wheel.filename
            ).id
            == stored.id
        )
        stored.yanked, stored.yanked_reason, stored.deleted_at = True, "broken", T0
        uow.distributions.update(stored)
        uow.commit()
    with uow:
        assert uow.distributions.list_live(package.id) == []
        assert [d.filename for d in uow.distributions.list_tombstones(package.id)] == [
            wheel.filename
        ]
        assert uow.distributions.get(package.id, wheel.filename).yanked_reason == "broken"
        assert (
            uow.distributions.find_by_artifact(package.project_id, up.artifact_id, wheel.filename)
            is None
        )
        with pytest.raises(FileExists):
            uow.distributions.add(
                Distribution(package.id, wheel.filename, "1.0", up.artifact_id, None, T0)
            )


def test_live_files_can_be_listed_without_their_metadata(uow: UnitOfWork) -> None:
    package = seed(uow)
    metadata = b"Metadata-Version: 2.1\nName: pkg\n"
    with uow:
        up = upload(uow, package, 1)
        uow.distributions.add(
            Distribution(
                package.id, "pkg-1.0-py3-none-any.whl", "1.0", up.artifact_id, up.id, T0,
                "bdist_wheel", core_metadata=metadata, metadata_sha256="d" * 64,
            )
        )  # fmt: skip
        uow.commit()
    with uow:
        (full,) = uow.distributions.list_live(package.id)
        (light,) = uow.distributions.list_live(package.id, with_metadata=False)
        assert (full.core_metadata, full.metadata_sha256) == (metadata, "d" * 64)
        assert (light.core_metadata, light.metadata_sha256) == (None, "d" * 64)
        assert light.filename == full.filename and light.upload_id == full.upload_id


def test_live_files_are_ordered_by_release_then_filename(uow: UnitOfWork) -> None:
    package = seed(uow)
    with uow:
        for filename, version in (
            ("pkg-1.10.tar.gz", "1.10"),
            ("pkg-1.9.tar.gz", "1.9"),
            ("pkg-1.9-py3-none-any.whl", "1.9"),
        ):
            uow.distributions.add(
                Distribution(package.id, filename, version, artifact(1).id, None, T0)
            )
        live = uow.distributions.list_live(package.id)
        assert [d.filename for d in live] == [
            "pkg-1.9-py3-none-any.whl",
            "pkg-1.9.tar.gz",
            "pkg-1.10.tar.gz",
        ]


# ------------------------------------------------------------------ accounts


def test_users_keys_and_memberships(uow: UnitOfWork) -> None:
    package = seed(uow)
    with uow:
        alice = uow.users.add(User("alice", "h1", created_at=T0))
        bob = uow.users.add(User("bob", "h2", is_admin=True, created_at=T0))
        with pytest.raises(AlreadyExists):
            uow.users.add(User("alice", "h3"))
        alice.password_hash, alice.is_admin = "h9", True
        uow.users.update(alice)
        old = uow.api_keys.add(ApiKey(alice.id, "ci", "hash-1", "orc_ab", T0))
        new = uow.api_keys.add(ApiKey(alice.id, "laptop", "hash-2", "orc_cd", T0 + timedelta(1)))
        uow.api_keys.mark_used(old.id, T0 + timedelta(2))
        for user, role in ((bob, Role.READ), (alice, Role.WRITE), (bob, Role.ADMIN)):
            uow.members.set(Membership(package.project_id, user.id, role, created_at=T0))
        uow.commit()
    with uow:
        assert (uow.users.get("alice").password_hash, uow.users.get_by_id(alice.id).is_admin) == (
            "h9",
            True,
        )
        assert [u.username for u in uow.users.list()] == ["alice", "bob"]
        assert uow.api_keys.find_by_hash("hash-1").last_used_at == T0 + timedelta(2)
        assert [k.id for k in uow.api_keys.list_for_user(alice.id)] == [new.id, old.id]
        assert not uow.api_keys.delete(bob.id, old.id) and uow.api_keys.delete(alice.id, old.id)
        members = uow.members.list(package.project_id)
        assert [(m.username, m.role) for m in members] == [
            ("alice", Role.WRITE),
            ("bob", Role.ADMIN),
        ]
        assert uow.members.delete(package.project_id, bob.id)
        assert uow.members.get(package.project_id, bob.id) is None
        uow.users.delete(alice.id)
        uow.commit()
    with uow:
        assert uow.api_keys.find_by_hash("hash-2") is None
        assert uow.members.list(package.project_id) == []


def test_login_sessions_are_found_ended_and_expire(uow: UnitOfWork) -> None:
    with uow:
        alice = uow.users.add(User("alice", "h1", created_at=T0))
        for token, days in (("live", 2), ("old", -1), ("bye", 2)):
            uow.sessions.add(LoginSession(token, alice.id, T0, T0 + timedelta(days)))
        uow.commit()
    with uow:
        assert uow.sessions.get("live").expires_at == T0 + timedelta(2)
        assert uow.sessions.delete("bye") and not uow.sessions.delete("bye")
        assert uow.sessions.delete_expired(T0) == 1
        uow.commit()
    with uow:
        assert uow.sessions.get("old") is None and uow.sessions.get("bye") is None
        uow.users.delete(alice.id)
        uow.commit()
    with uow:
        assert uow.sessions.get("live") is None


# ------------------------------------------------------------------ concurrency


def _in_parallel(count: int, work: Callable[[int], object]) -> list:
    barrier = threading.Barrier(count)

    def run(index: int) -> object:
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.concurrent
@pytest.mark.parametrize("new_uow", ["sqlite", POSTGRES], indirect=True)
def test_parallel_references_are_all_counted(new_uow: UowFactory) -> None:
    def add(_: int) -> tuple[int, bool]:
        with new_uow() as uow:
            result = uow.artifacts.add_reference(artifact(7))
            uow.commit()
        return result

    results = _in_parallel(20, add)
    assert sorted(count for count, _ in results) == list(range(1, 21))
    assert [existed for _, existed in results].count(False) == 1
    with new_uow() as uow:
        assert uow.artifacts.get(artifact(7).id).ref_count == 20


@pytest.mark.concurrent
@pytest.mark.parametrize("new_uow", ["sqlite", POSTGRES], indirect=True)
def test_parallel_versions_resolve_to_one_winner(new_uow: UowFactory) -> None:
    package = seed(new_uow())
    with new_uow() as uow:
        for n in range(10):
            uow.artifacts.add_reference(artifact(n))
        uow.commit()

    def claim(n: int) -> str:
        with new_uow() as uow:
            stored = uow.versions.add_if_absent(
                Version(package.id, "1.0", artifact(n).id, VersionSource.EXPLICIT, T0)
            )
            uow.commit()
        return stored.artifact_id

    winners = set(_in_parallel(10, claim))
    with new_uow() as uow:
        assert winners == {uow.versions.get(package.id, "1.0").artifact_id}
