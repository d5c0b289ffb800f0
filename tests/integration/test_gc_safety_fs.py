"""GC on the real filesystem store: blobs an upload is writing or has just promoted survive,
while garbage, orphans and temporaries older than the cutoff go (file mtimes are real)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from adapters.blobstore_fs import FilesystemBlobStore
from domain.services.artifacts import delete_package_artifact
from domain.services.gc import collect_garbage
from tests.fakes.clock import FakeClock
from tests.unit.conftest import World

pytestmark = pytest.mark.integration


def backdate(path, hours: float = 2) -> None:
    old = time.time() - hours * 3600
    os.utime(path, (old, old))


@pytest.fixture
def world(tmp_path) -> World:
    world = World()
    world.clock = FakeClock(datetime.now(UTC) - timedelta(hours=2))
    world.blobs = FilesystemBlobStore(tmp_path)
    world.project()
    world.package()
    return world


def test_a_run_started_before_an_upload_promotes_keeps_its_blobs(world, tmp_path):
    garbage = world.upload(b"released two hours ago").artifact_id
    delete_package_artifact(
        world.uow(),
        world.clock,
        actor=world.admin,
        project="proj",
        package="pkg",
        artifact_id=garbage,
    )
    backdate(world.blobs.local_path(garbage))
    abandoned = world.stage(b"abandoned two hours ago")
    backdate(tmp_path / ".tmp" / abandoned.token)
    # gc starts now, with no grace at all. A second back: the kernel stamps files from a
    # coarse clock that may lag datetime.now() by a tick, and a file written after this
    # line must never look older than the cutoff.
    world.clock = FakeClock(datetime.now(UTC) - timedelta(seconds=1))

    staged = world.stage(b"still streaming")
    promoted = world.stage(b"promoted, commit pending")
    world.blobs.promote(promoted)
    report = collect_garbage(world.uow, world.blobs, world.clock, grace=timedelta(0), apply=True)

    assert report.artifacts == [garbage] and world.blobs.modified_at(garbage) is None
    assert world.blobs.modified_at(promoted.sha256) is not None and report.orphans == []
    assert (tmp_path / ".tmp" / staged.token).exists()
    assert not (tmp_path / ".tmp" / abandoned.token).exists()
    assert report.temporary_removed == 1


def test_an_orphan_goes_only_once_older_than_the_grace_period(world):
    orphan = world.stage(b"commit failed")
    world.blobs.promote(orphan)
    world.clock = FakeClock(datetime.now(UTC))
    hour = timedelta(hours=1)

    assert (
        collect_garbage(world.uow, world.blobs, world.clock, grace=hour, apply=True).orphans == []
    )
    backdate(world.blobs.local_path(orphan.sha256))
    report = collect_garbage(world.uow, world.blobs, world.clock, grace=hour, apply=True)
    assert report.orphans == [orphan.sha256] and report.orphan_bytes == len(b"commit failed")
    assert world.blobs.modified_at(orphan.sha256) is None
