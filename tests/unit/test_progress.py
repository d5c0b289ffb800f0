"""Each long walk announces the total of every phase before it advances through it, so
a terminal can show a percentage and the time left (fsck's total is in test_fsck.py)."""

from __future__ import annotations

import io
from datetime import timedelta

from domain.services.artifacts import delete_package_artifact
from domain.services.backup import export_project
from domain.services.gc import collect_garbage
from domain.services.restore import import_archive
from tests.fakes.progress import RecordingProgress


def test_gc_counts_the_garbage_then_the_blobs_it_walks(stocked):
    kept = stocked.upload(b"kept").artifact_id
    gone = stocked.upload(b"gone").artifact_id
    delete_package_artifact(
        stocked.uow(), stocked.clock, actor=stocked.admin, project="proj", package="pkg",
        artifact_id=gone,
    )  # fmt: skip
    stocked.clock.advance(hours=2)
    seen = RecordingProgress()
    collect_garbage(stocked.uow, stocked.blobs, stocked.clock, grace=timedelta(hours=1),
                    apply=False, progress=seen)  # fmt: skip
    assert seen.shown() == [("artifacts", 1, 1), ("blobs listed", None, 2), ("blobs", 2, 2)]
    assert kept != gone


def test_export_and_import_count_blobs_against_the_archives_total(stocked):
    stocked.upload(b"one", filename="one.bin")
    stocked.upload(b"two", filename="two.bin")
    sink, exported = io.BytesIO(), RecordingProgress()
    export_project(stocked.uow(), stocked.blobs, stocked.clock, project="proj", output=sink,
                   progress=exported)  # fmt: skip
    assert exported.shown() == [("blobs", 2, 2)]
    imported = RecordingProgress()
    import_archive(stocked.uow, stocked.blobs, stocked.clock, source=io.BytesIO(sink.getvalue()),
                   project="copy", progress=imported)  # fmt: skip
    assert imported.shown() == [("blobs", 2, 2)]
