"""Garbage collection never deletes a blob an in-flight upload is writing.

The design (domain/services/gc.py): blobs touched after the cutoff (now - grace) are kept
whatever the database says, and temporary objects are swept only once older than it.
"""

from __future__ import annotations

from datetime import timedelta

from domain.model import Artifact
from domain.services.artifacts import delete_package_artifact
from domain.services.gc import collect_garbage

HOUR = timedelta(hours=1)


def gc(world, grace: timedelta = HOUR, apply: bool = True):
    return collect_garbage(world.uow, world.blobs, world.clock, grace=grace, apply=apply)


def released(world, content: bytes) -> str:
    """An artifact uploaded, then removed from its package: garbage from now on."""
    sha = world.upload(content).artifact_id
    delete_package_artifact(
        world.uow(), world.clock, actor=world.admin, project="proj", package="pkg", artifact_id=sha
    )
    return sha


def promoted_without_row(world, content: bytes) -> str:
    """An upload between promote and commit: the blob is visible, its row is not yet."""
    staged = world.stage(content)
    world.blobs.promote(staged)
    return staged.sha256


def test_in_flight_uploads_survive_while_old_garbage_is_freed(stocked):
    old = released(stocked, b"garbage for two hours")
    stocked.clock.advance(hours=2)
    staged = stocked.stage(b"still streaming")
    promoted = promoted_without_row(stocked, b"promoted, commit pending")

    report = gc(stocked, grace=timedelta(0))

    assert report.artifacts == [old] and report.bytes_freed == len(b"garbage for two hours")
    assert not stocked.blobs.exists(old) and stocked.artifact(old) is None
    assert stocked.blobs.exists(promoted) and promoted not in report.orphans
    assert staged.token in stocked.blobs.staged and report.temporary_removed == 0


def test_in_flight_blobs_survive_a_run_within_the_grace_period(stocked):
    staged = stocked.stage(b"slow client")
    promoted = promoted_without_row(stocked, b"slow commit")
    stocked.clock.advance(minutes=30)

    report = gc(stocked)

    assert stocked.blobs.exists(promoted) and report.orphans == []
    assert staged.token in stocked.blobs.staged


def test_abandoned_blobs_are_swept_once_older_than_the_grace_period(stocked):
    stocked.stage(b"client vanished")
    orphan = promoted_without_row(stocked, b"commit failed")
    stocked.clock.advance(hours=1, seconds=1)

    report = gc(stocked)

    assert report.orphans == [orphan] and report.orphan_bytes == len(b"commit failed")
    assert not stocked.blobs.exists(orphan)
    assert report.temporary_removed == 1 and stocked.blobs.temporary_count() == 0


def test_a_dry_run_reports_stale_temporary_uploads_and_removes_none(stocked):
    stocked.stage(b"a worker was killed mid-upload")
    stocked.clock.advance(minutes=30)
    stocked.stage(b"still arriving")

    assert (gc(stocked, apply=False).temporary, stocked.blobs.temporary_count()) == (0, 2)
    stocked.clock.advance(minutes=31)
    report = gc(stocked, apply=False)

    assert (report.temporary, report.temporary_bytes, report.temporary_removed) == (
        1, len(b"a worker was killed mid-upload"), 0
    )  # fmt: skip
    assert stocked.blobs.temporary_count() == 2
    applied = gc(stocked)
    assert (applied.temporary, applied.temporary_removed) == (1, 1)
    assert stocked.blobs.temporary_count() == 1


def test_garbage_is_kept_until_the_grace_period_has_passed(stocked):
    sha = released(stocked, b"just released")
    stocked.clock.advance(minutes=59)
    assert gc(stocked).artifacts == []
    assert stocked.blobs.exists(sha)
    stocked.clock.advance(minutes=2)
    assert gc(stocked).artifacts == [sha]
    assert not stocked.blobs.exists(sha)


def test_garbage_reuploaded_meanwhile_is_kept(stocked):
    sha = released(stocked, b"wanted again")
    stocked.clock.advance(hours=2)
    stocked.upload(b"wanted again")

    report = gc(stocked)

    assert report.artifacts == [] and stocked.blobs.exists(sha)
    assert stocked.artifact(sha).ref_count == 1


def test_a_refreshed_garbage_blob_is_kept_even_if_its_row_still_looks_free(stocked):
    sha = released(stocked, b"refreshed by a promote")
    stocked.clock.advance(hours=2)
    promoted_without_row(stocked, b"refreshed by a promote")  # same bytes, commit pending

    assert gc(stocked).artifacts == []
    assert stocked.blobs.exists(sha)


def test_a_dry_run_reports_the_bytes_and_deletes_nothing(stocked):
    sha = released(stocked, b"12345")
    orphan = promoted_without_row(stocked, b"1234567")
    stocked.clock.advance(hours=2)

    report = gc(stocked, apply=False)

    assert report.dry_run and report.total_bytes == 12
    assert (report.artifacts, report.orphans) == ([sha], [orphan])
    assert stocked.blobs.exists(sha) and stocked.blobs.exists(orphan)


def test_an_orphan_recorded_by_an_upload_after_the_scan_is_kept(stocked):
    """An upload of the same bytes found the old blob (refreshing it before the scan's
    age check had read it) and committed its row after the scan: deleting the blob now
    would leave that row pointing at nothing."""
    orphan = promoted_without_row(stocked, b"commit failed, then uploaded again")
    stocked.clock.advance(hours=1, seconds=1)
    scan = stocked.blobs.iter_blobs

    def scan_then_upload_commits():
        yield from scan()
        with stocked.uow() as uow:
            uow.artifacts.add_reference(
                Artifact(orphan, 34, "application/octet-stream", "m", "s", "b", stocked.clock.now())
            )
            uow.commit()

    stocked.blobs.iter_blobs = scan_then_upload_commits

    report = gc(stocked)

    assert report.orphans == [] and stocked.blobs.exists(orphan)
    assert stocked.artifact(orphan).ref_count == 1


def test_garbage_whose_blob_is_gone_loses_its_row_but_never_a_blob_placed_meanwhile(stocked):
    """An upload places new bytes with no row lock (``BlobStore.place_new``). If garbage
    collection found the blob absent (deleted before, its row left by a failed commit),
    the upload may place the same bytes between that look and the delete: deleting then
    would leave the upload's row pointing at nothing."""
    sha = released(stocked, b"gone, then placed again")
    stocked.blobs.delete(sha)
    stocked.clock.advance(hours=2)
    look = stocked.blobs.modified_at

    def look_then_an_upload_places_the_bytes(sha256):
        seen = look(sha256)
        stocked.blobs.place_new(stocked.stage(b"gone, then placed again"))
        return seen

    stocked.blobs.modified_at = look_then_an_upload_places_the_bytes

    report = gc(stocked)

    assert report.artifacts == [sha] and stocked.artifact(sha) is None
    assert stocked.blobs.read(sha) == b"gone, then placed again"
