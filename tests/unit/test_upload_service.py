"""The upload use case against in-memory fakes: dedup, counts, versions, tags, failures."""

from __future__ import annotations

import hashlib

import pytest

from domain.errors import (
    BackendUnavailable,
    ChecksumMismatch,
    EmptyContent,
    Forbidden,
    InvalidName,
    NotFound,
    Unauthenticated,
    VersionConflict,
)
from domain.ports import PackageMetadata
from domain.services import artifacts, projects
from tests.fakes.blobs import FakeBlobStore
from tests.fakes.metadata import FakeUnitOfWork


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_upload_stores_the_blob_and_counts_one_reference(stocked):
    result = stocked.upload(b"hello")
    assert result.artifact_id == sha(b"hello")
    assert stocked.blobs.exists(sha(b"hello"))
    assert stocked.artifact(sha(b"hello")).ref_count == 1
    assert result.deduplicated is False


def test_identical_bytes_are_stored_once_and_every_upload_counts(stocked):
    stocked.package(name="other")
    for i in range(4):
        stocked.upload(b"same", filename=f"f{i}.bin")
    result = stocked.upload(b"same", package="other")
    assert result.deduplicated is True
    assert result.ref_count == 5
    assert stocked.artifact(sha(b"same")).ref_count == 5
    assert list(stocked.blobs.iter_blobs()) == [sha(b"same")]


def test_checksum_mismatch_leaves_nothing_behind(stocked):
    with pytest.raises(ChecksumMismatch):
        stocked.upload(b"bytes", expected_sha256="0" * 64)
    assert stocked.artifact(sha(b"bytes")) is None
    assert not stocked.blobs.exists(sha(b"bytes"))
    assert stocked.blobs.temporary_count() == 0


def test_matching_checksum_is_accepted_in_any_case(stocked):
    result = stocked.upload(b"bytes", expected_sha256=sha(b"bytes").upper())
    assert result.artifact_id == sha(b"bytes")


def test_empty_upload_is_rejected_and_discarded(stocked):
    with pytest.raises(EmptyContent):
        stocked.upload(b"")
    assert stocked.blobs.temporary_count() == 0


def test_a_version_is_immutable(stocked):
    stocked.upload(b"one", version="1.0.0")
    with pytest.raises(VersionConflict):
        stocked.upload(b"two", version="1.0.0")
    assert stocked.artifact(sha(b"two")) is None
    assert not stocked.blobs.exists(sha(b"two"))
    again = stocked.upload(b"one", version="1.0.0")
    assert again.ref_count == 2


def test_version_priority_explicit_then_metadata_then_filename(stocked):
    stocked.reader.by_filename["lib-1.0.tar.gz"] = PackageMetadata(version="1.0.post1")
    assert stocked.upload(b"a", filename="lib-1.0.tar.gz", version="9").version == "9"
    meta = stocked.upload(b"b", filename="lib-1.0.tar.gz")
    assert (meta.version, meta.version_source) == ("1.0.post1", "metadata")
    name = stocked.upload(b"c", filename="tool-2.0.0.zip")
    assert (name.version, name.version_source) == ("2.0.0", "filename")
    none = stocked.upload(b"d", filename="plain-file.bin")
    assert (none.version, none.version_source) == (None, None)


def test_tags_move_and_keep_their_history(stocked):
    from domain.services import tags

    first = stocked.upload(b"v1", tag="latest")
    second = stocked.upload(b"v2", tag="latest")
    history = tags.tag_history(
        stocked.uow(), actor=None, project="proj", package="pkg", name="latest"
    )
    assert [(h.old_artifact_id, h.new_artifact_id) for h in history] == [
        (None, first.artifact_id),
        (first.artifact_id, second.artifact_id),
    ]
    found = artifacts.resolve(
        stocked.uow(), actor=None, project="proj", package="pkg", ref="tag:latest"
    )
    assert found.artifact.id == second.artifact_id


def test_bad_names_are_refused_before_anything_is_stored(stocked):
    for fields in (
        {"filename": "../etc/passwd"},
        {"tag": "a/b"},
        {"version": "1 0"},
        {"filename": "x\r\nSet-Cookie: a=b"},
    ):
        with pytest.raises(InvalidName):
            stocked.upload(b"payload", **fields)
    assert stocked.artifact(sha(b"payload")) is None
    assert stocked.blobs.temporary_count() == 0


def test_writing_needs_a_role(stocked):
    reader = stocked.add_user("reader")
    with pytest.raises(Unauthenticated):
        stocked.upload(b"x", actor=None)
    with pytest.raises(Forbidden):
        stocked.upload(b"x", actor=reader)
    projects.set_member(
        stocked.uow(),
        stocked.clock,
        actor=stocked.admin,
        project="proj",
        username="reader",
        role="write",
    )
    assert stocked.upload(b"x", actor=reader).ref_count == 1


def test_private_projects_are_invisible_to_strangers(world):
    world.project("secret", public=False)
    world.package("secret")
    result = world.upload(b"private bytes", project="secret")
    stranger = world.add_user("stranger")
    for actor in (None, stranger):
        with pytest.raises(NotFound):
            artifacts.get_artifact(world.uow(), actor=actor, artifact_id=result.artifact_id)
        with pytest.raises(NotFound):
            artifacts.resolve(
                world.uow(),
                actor=actor,
                project="secret",
                package="pkg",
                ref=f"artifact:{result.artifact_id}",
            )


def test_unknown_package_is_not_found_and_discards_the_staged_bytes(stocked):
    with pytest.raises(NotFound):
        stocked.upload(b"orphan", package="missing")
    assert stocked.blobs.temporary_count() == 0


class StoreThatCannotDelete(FakeBlobStore):
    """A store whose deletes fail, as S3 does during an outage."""

    def discard(self, staged):
        raise BackendUnavailable("The blob store is unavailable.")


def test_a_failing_discard_does_not_hide_the_real_error(stocked):
    stocked.blobs = StoreThatCannotDelete(stocked.clock)
    with pytest.raises(ChecksumMismatch):
        stocked.upload(b"bytes", expected_sha256="0" * 64)


class _TrackedUnitOfWork(FakeUnitOfWork):
    """Counts the units of work open right now."""

    open_now = 0

    def __enter__(self):
        _TrackedUnitOfWork.open_now += 1
        return super().__enter__()

    def __exit__(self, *exc_info):
        _TrackedUnitOfWork.open_now -= 1
        return super().__exit__(*exc_info)


class _RecordingBlobStore(FakeBlobStore):
    """Notes whether a unit of work was open when bytes became visible."""

    def __init__(self, clock) -> None:
        super().__init__(clock)
        self.events: list[tuple[str, bool, bool]] = []

    def place_new(self, staged):
        placed = super().place_new(staged)
        self.events.append(("place_new", placed, _TrackedUnitOfWork.open_now > 0))
        return placed

    def promote(self, staged):
        self.events.append(("promote", True, _TrackedUnitOfWork.open_now > 0))
        super().promote(staged)


def test_new_bytes_are_placed_before_the_transaction_and_never_promoted_in_it(stocked):
    """On SQLite the transaction holds the writers' lock: the rename and directory fsync
    of new bytes happen before it, an existing blob is refreshed inside it as before."""
    stocked.blobs = _RecordingBlobStore(stocked.clock)
    stocked.uow = lambda: _TrackedUnitOfWork(stocked.db)
    stocked.upload(b"brand new")
    assert stocked.blobs.events == [("place_new", True, False)]
    stocked.blobs.events.clear()
    assert stocked.upload(b"brand new").deduplicated
    assert stocked.blobs.events == [("place_new", False, False), ("promote", True, True)]


def test_a_refused_upload_takes_back_the_bytes_it_placed(stocked):
    stocked.upload(b"one", version="1.0.0")
    with pytest.raises(VersionConflict):
        stocked.upload(b"placed, then refused", version="1.0.0")
    assert not stocked.blobs.exists(sha(b"placed, then refused"))
    assert stocked.artifact(sha(b"placed, then refused")) is None


def test_placed_bytes_another_upload_recorded_meanwhile_are_not_taken_back(stocked):
    """A refused upload withdraws its placed bytes only while no row names them: an
    upload of the same bytes that found them placed has recorded its own reference."""
    from domain.services.gc import withdraw_unrecorded

    stocked.upload(b"shared bytes")
    now = stocked.clock.now()
    assert not withdraw_unrecorded(stocked.uow(), stocked.blobs, sha(b"shared bytes"), now)
    assert stocked.blobs.read(sha(b"shared bytes")) == b"shared bytes"


def test_the_package_row_is_bumped_after_the_blob_is_promoted(stocked):
    """On PostgreSQL the package row's lock is held from its UPDATE to the commit, and
    every upload to one package queues on it: a store's round trip (an S3 PUT) must not
    happen while it is held (4 KiB uploads on PostgreSQL + S3: 89 -> 125/s)."""
    events: list[str] = []
    store = _RecordingBlobStore(stocked.clock)
    stocked.blobs = store

    class Uow(FakeUnitOfWork):
        def __enter__(self):
            entered = super().__enter__()
            touch = self.packages.touch
            self.packages.touch = lambda *args: (events.append("touch"), touch(*args))[1]
            return entered

    stocked.uow = lambda: Uow(stocked.db)
    stocked.upload(b"bytes stored twice")
    store.promote = lambda staged: (events.append("promote"), FakeBlobStore.promote(store, staged))
    events.clear()
    stocked.upload(b"bytes stored twice")
    assert events == ["promote", "touch"]
