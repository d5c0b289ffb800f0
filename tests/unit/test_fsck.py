"""fsck finds missing, corrupt and orphan blobs and reference-count drift, and repairs
what can be repaired."""

from __future__ import annotations

from datetime import timedelta

from domain.services.fsck import Drift, check_store
from tests.fakes.progress import RecordingProgress

HOUR = timedelta(hours=1)


def fsck(world, repair: bool = False, progress=None):
    kwargs = {"progress": progress} if progress else {}
    return check_store(world.uow, world.blobs, world.clock, grace=HOUR, repair=repair, **kwargs)


def corrupt(world, sha: str) -> None:
    _, at = world.blobs.blobs[sha]
    world.blobs.blobs[sha] = (b"flipped bits", at)


def set_count(world, sha: str, count: int) -> None:
    with world.uow() as uow:
        uow.artifacts.set_ref_count(sha, count, world.clock.now())
        uow.commit()


def test_a_healthy_store_has_no_problems(stocked):
    stocked.upload(b"one")
    stocked.upload(b"one")
    stocked.upload(b"two", filename="two.bin")
    seen = RecordingProgress()

    report = fsck(stocked, progress=seen)

    assert report.problems == 0 and report.unrepaired == 0
    assert (report.blobs_checked, report.bytes_checked) == (2, 6)
    assert seen.shown() == [("blobs listed", None, 2), ("blobs", 2, 2)]


def test_each_kind_of_problem_is_reported(stocked):
    missing = stocked.upload(b"deleted from disk").artifact_id
    broken = stocked.upload(b"bit rot").artifact_id
    drifted = stocked.upload(b"miscounted").artifact_id
    orphan = stocked.stage(b"no row")
    stocked.blobs.promote(orphan)
    stocked.blobs.delete(missing)
    corrupt(stocked, broken)
    set_count(stocked, drifted, 7)
    stocked.clock.advance(hours=2)

    report = fsck(stocked)

    assert report.missing == [missing]
    assert report.corrupt == [broken]
    assert report.orphans == [orphan.sha256]
    assert report.drift == [Drift(drifted, 7, 1)]
    assert report.problems == 4 == report.unrepaired


def test_a_young_orphan_may_be_an_upload_committing_and_is_not_reported(stocked):
    stocked.blobs.promote(stocked.stage(b"commit pending"))
    assert fsck(stocked).orphans == []


def test_repair_recounts_references_from_the_uploads(stocked):
    sha = stocked.upload(b"counted").artifact_id
    stocked.upload(b"counted")
    set_count(stocked, sha, 0)

    report = fsck(stocked, repair=True)

    assert report.recounted == [sha] and report.unrepaired == 0
    assert stocked.artifact(sha).ref_count == 2
    assert fsck(stocked).problems == 0


def test_repair_quarantines_a_corrupt_blob_so_it_is_no_longer_served(stocked):
    sha = stocked.upload(b"will rot").artifact_id
    corrupt(stocked, sha)

    report = fsck(stocked, repair=True)

    assert report.quarantined == [sha] and report.unrepaired == 0
    assert not stocked.blobs.exists(sha)
    assert stocked.blobs.quarantined[sha] == b"flipped bits"
    assert fsck(stocked).missing == [sha]  # the bytes are lost: a human must re-upload them


def test_reuploading_lost_bytes_heals_a_missing_blob(stocked):
    sha = stocked.upload(b"lost and found").artifact_id
    stocked.blobs.delete(sha)
    stocked.upload(b"lost and found")
    assert fsck(stocked).problems == 0


def test_missing_blobs_cannot_be_repaired_and_keep_the_exit_status(stocked):
    sha = stocked.upload(b"gone").artifact_id
    stocked.blobs.delete(sha)

    report = fsck(stocked, repair=True)

    assert report.missing == [sha] and report.unrepaired == 1


def test_stale_temporary_uploads_are_reported_with_their_bytes(stocked):
    stocked.upload(b"healthy")
    stocked.stage(b"a worker was killed mid-upload")
    stocked.clock.advance(minutes=59)
    stocked.stage(b"still arriving")

    assert fsck(stocked).problems == 0  # nothing is stale yet
    stocked.clock.advance(minutes=2)
    report = fsck(stocked, repair=True)

    assert (report.temporary, report.temporary_bytes) == (1, len(b"a worker was killed mid-upload"))
    assert report.problems == 1 == report.unrepaired  # 'orchard gc' sweeps them, not fsck
    assert stocked.blobs.temporary_count() == 2
