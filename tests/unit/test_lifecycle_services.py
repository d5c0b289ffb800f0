"""Deleting, releasing references and collecting garbage, against in-memory fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import NotFound
from domain.services import artifacts, gc, projects, tags


def collect(world, *, grace_hours: float = 1, apply: bool = True):
    return gc.collect_garbage(
        world.uow, world.blobs, world.clock, grace=timedelta(hours=grace_hours), apply=apply
    )


def release(world, artifact_id: str) -> None:
    """Remove the artifact from package 'pkg': its last reference there goes."""
    artifacts.delete_package_artifact(
        world.uow(), world.clock, actor=world.admin, project="proj", package="pkg",
        artifact_id=artifact_id,
    )  # fmt: skip


def test_deleting_a_package_releases_its_references_but_keeps_the_blob(stocked):
    stocked.package(name="keep")
    shared = stocked.upload(b"shared")
    stocked.upload(b"shared", package="keep")
    only = stocked.upload(b"only here")
    projects.delete_package(
        stocked.uow(), stocked.clock, actor=stocked.admin, project="proj", name="pkg"
    )
    assert stocked.artifact(shared.artifact_id).ref_count == 1
    assert stocked.artifact(only.artifact_id).ref_count == 0
    assert stocked.blobs.exists(only.artifact_id)


def test_deleting_a_project_releases_every_reference(stocked):
    result = stocked.upload(b"x", tag="t")
    stocked.upload(b"x", filename="again.bin")
    projects.delete_project(stocked.uow(), stocked.clock, actor=stocked.admin, name="proj")
    assert stocked.artifact(result.artifact_id).ref_count == 0


def test_garbage_waits_for_the_grace_period(stocked):
    result = stocked.upload(b"short-lived")
    release(stocked, result.artifact_id)
    assert collect(stocked).artifacts == []
    assert stocked.blobs.exists(result.artifact_id)
    stocked.clock.advance(hours=2)
    report = collect(stocked)
    assert report.artifacts == [result.artifact_id]
    assert report.bytes_freed == len(b"short-lived")
    assert not stocked.blobs.exists(result.artifact_id)
    assert stocked.artifact(result.artifact_id) is None


def test_gc_dry_run_reports_but_deletes_nothing(stocked):
    result = stocked.upload(b"dry")
    release(stocked, result.artifact_id)
    stocked.clock.advance(hours=2)
    report = collect(stocked, apply=False)
    assert report.dry_run and report.artifacts == [result.artifact_id]
    assert stocked.blobs.exists(result.artifact_id)


def test_gc_never_deletes_a_referenced_blob(stocked):
    kept = stocked.upload(b"kept")
    stocked.clock.advance(days=30)
    assert collect(stocked).artifacts == []
    assert stocked.blobs.exists(kept.artifact_id)


def test_reupload_after_release_rescues_the_artifact(stocked):
    result = stocked.upload(b"phoenix")
    release(stocked, result.artifact_id)
    stocked.clock.advance(hours=2)
    stocked.upload(b"phoenix")
    assert collect(stocked).artifacts == []
    assert stocked.artifact(result.artifact_id).ref_count == 1


def test_gc_sweeps_orphan_blobs_after_the_grace_period(stocked):
    orphan = stocked.stage(b"orphan")
    stocked.blobs.promote(orphan)  # as if the commit that followed had failed
    assert collect(stocked).orphans == []
    stocked.clock.advance(hours=2)
    assert collect(stocked, grace_hours=1).orphans == [orphan.sha256]
    assert not stocked.blobs.exists(orphan.sha256)


def test_deleting_an_artifact_from_a_package_drops_its_tags_and_versions(stocked):
    result = stocked.upload(b"tagged", tag="t", version="1.0")
    release(stocked, result.artifact_id)
    with pytest.raises(NotFound):
        tags.get_tag(stocked.uow(), actor=None, project="proj", package="pkg", name="t")
    with pytest.raises(NotFound):
        tags.get_version(stocked.uow(), actor=None, project="proj", package="pkg", version="1.0")


def test_deleting_a_version_keeps_the_upload(stocked):
    result = stocked.upload(b"versioned", version="2.0")
    tags.delete_version(
        stocked.uow(),
        stocked.clock,
        actor=stocked.admin,
        project="proj",
        package="pkg",
        version="2.0",
    )
    assert stocked.artifact(result.artifact_id).ref_count == 1
    with pytest.raises(NotFound):
        artifacts.resolve(
            stocked.uow(), actor=None, project="proj", package="pkg", ref="version:2.0"
        )


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("tag:same", b"tag content"),
        ("version:same", b"version content"),
        ("same", b"tag content"),
    ],
)
def test_prefixes_disambiguate_a_tag_and_a_version_of_one_name(stocked, ref, expected):
    stocked.upload(b"version content", version="same")
    stocked.upload(b"tag content", tag="same")
    found = artifacts.resolve(stocked.uow(), actor=None, project="proj", package="pkg", ref=ref)
    assert stocked.blobs.read(found.artifact.id) == expected
