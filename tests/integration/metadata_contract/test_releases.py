"""Versions, tags with their history, and Python distributions with their tombstones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import FileExists
from domain.model import (
    Distribution,
    Version,
    VersionSource,
)
from domain.ports import UnitOfWork
from tests.integration.metadata_contract.support import (
    T0,
    artifact,
    seed,
    upload,
)


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
        listed, total = uow.versions.list_page(package.id, search=None, limit=10, offset=0)
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
        listed, total = uow.tags.list_page(package.id, search="sta", limit=10, offset=0)
        assert ([t.name for t in listed], total) == (["stable"], 1)
        assert uow.tags.delete(package.id, "latest") and not uow.tags.delete(package.id, "latest")
        assert uow.tags.delete_for_artifact(package.id, a) == 1
        history = uow.tags.history(package.id, "latest")
        assert [(c.old_artifact_id, c.new_artifact_id) for c in history] == [(None, a), (a, b)]


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
        owner, found, content = uow.distributions.find_in_project(
            "proj", up.artifact_id, wheel.filename
        )
        assert (owner.id, found.id, found.core_metadata) == (
            package.project_id,
            stored.id,
            b"Metadata-Version: 2.1\n",
        )
        assert (content.id, content.size, content.created_at) == (up.artifact_id, 10, T0)
        _, bare, _ = uow.distributions.find_in_project(
            "proj", up.artifact_id, wheel.filename, with_metadata=False
        )
        assert (bare.id, bare.core_metadata, bare.requires_python) == (stored.id, None, ">=3.9")
        for other_bytes, other_name in ((artifact(2).id, wheel.filename), (up.artifact_id, "x")):
            missing = uow.distributions.find_in_project("proj", other_bytes, other_name)
            assert (missing[0].id, missing[1:]) == (package.project_id, (None, None))
        assert uow.distributions.find_in_project("nope", up.artifact_id, wheel.filename) is None
        stored.yanked, stored.yanked_reason, stored.deleted_at = True, "broken", T0
        uow.distributions.update(stored)
        uow.commit()
    with uow:
        assert uow.distributions.list_live(package.id) == []
        assert [d.filename for d in uow.distributions.list_tombstones(package.id)] == [
            wheel.filename
        ]
        assert uow.distributions.get(package.id, wheel.filename).yanked_reason == "broken"
        gone = uow.distributions.find_in_project("proj", up.artifact_id, wheel.filename)
        assert (gone[0].id, gone[1:]) == (package.project_id, (None, None))
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
