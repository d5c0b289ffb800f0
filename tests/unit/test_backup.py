"""export → import restores a project into an empty Orchard: same bytes, tags (with their
history), versions, uploads and distributions; a damaged archive imports nothing."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from domain.distributions import metadata_digest
from domain.errors import AlreadyExists, Conflict, FileExists, InvalidInput
from domain.model import Distribution
from domain.services.backup import export_project
from domain.services.restore import import_archive
from domain.services.tags import set_tag
from tests.unit.conftest import World


@pytest.fixture
def source(stocked: World) -> World:
    """A project with a generic package (tags moved, versions) and a pypi package."""
    first = stocked.upload(b"v1 bytes", filename="app-1.0.bin", tag="latest", version="1.0")
    stocked.clock.advance(minutes=1)
    stocked.upload(b"v2 bytes", filename="app-2.0.bin", tag="latest", version="2.0")
    stocked.upload(b"v1 bytes", filename="again.bin")  # a second reference
    set_tag(
        stocked.uow(),
        stocked.clock,
        actor=stocked.admin,
        project="proj",
        package="pkg",
        name="stable",
        artifact_id=first.artifact_id,
    )
    stocked.package(name="demo", fmt="pypi")
    wheel = stocked.upload(b"wheel bytes", package="demo", filename="demo-1.0-py3-none-any.whl")
    with stocked.uow() as uow:
        package = uow.packages.get(uow.projects.get("proj").id, "demo")
        uow.distributions.add(
            Distribution(
                package_id=package.id,
                filename="demo-1.0-py3-none-any.whl",
                version="1.0",
                artifact_id=wheel.artifact_id,
                upload_id=wheel.upload_id,
                created_at=stocked.clock.now(),
                packagetype="bdist_wheel",
                requires_python=">=3.9",
                core_metadata=b"Metadata-Version: 2.1\nName: demo\n",
                metadata_sha256=metadata_digest(b"Metadata-Version: 2.1\nName: demo\n"),
                yanked=True,
                yanked_reason="broken",
                size=11,
            )
        )
        uow.distributions.add(  # deleted earlier: its bytes are gone, its name stays taken
            Distribution(
                package_id=package.id,
                filename=GONE,
                version="0.9",
                artifact_id="e" * 64,
                upload_id=None,
                created_at=stocked.clock.now(),
                packagetype="bdist_wheel",
                deleted_at=stocked.clock.now(),
            )
        )
        uow.commit()
    return stocked


GONE = "demo-0.9-py3-none-any.whl"


def export(world: World, project: str = "proj") -> bytes:
    sink = io.BytesIO()
    export_project(world.uow(), world.blobs, world.clock, project=project, output=sink)
    return sink.getvalue()


def restore(world: World, archive: bytes, **kwargs):
    return import_archive(world.uow, world.blobs, world.clock, source=io.BytesIO(archive), **kwargs)


def snapshot(world: World, project: str = "proj") -> dict:
    """What a user sees of the project, without database ids."""
    with world.uow() as uow:
        owner = uow.projects.get(project)
        packages, _ = uow.packages.list_page(owner.id, search=None, format=None, limit=99, offset=0)
        return {p.name: _package_view(world, uow, p) for p in packages} | {
            "public": owner.is_public
        }


def _package_view(world, uow, package) -> dict:
    tags, _ = uow.tags.list_page(package.id, search=None, limit=99, offset=0)
    versions, _ = uow.versions.list_page(package.id, search=None, limit=99, offset=0)
    uploads, _ = uow.uploads.list_page(package.id, limit=99, offset=0)
    return {
        "format": package.format,
        "tags": {t.name: t.artifact_id for t in tags},
        "history": {
            t.name: [
                (c.old_artifact_id, c.new_artifact_id, c.changed_at)
                for c in uow.tags.history(package.id, t.name)
            ]
            for t in tags
        },
        "versions": {(v.version, v.artifact_id, v.version_source, v.created_at) for v in versions},
        "uploads": [
            (u.original_name, u.artifact_id, u.uploader, u.created_at, u.tag, u.version)
            for u in uploads
        ],
        "files": [
            (
                d.filename,
                d.yanked,
                d.yanked_reason,
                d.requires_python,
                d.core_metadata,
                d.metadata_sha256,
                {u.id: u.original_name for u in uploads}.get(d.upload_id),
            )
            for d in uow.distributions.list_live(package.id)
        ],
        "tombstones": [
            (d.filename, d.version, d.artifact_id, d.created_at, d.deleted_at)
            for d in uow.distributions.list_tombstones(package.id)
        ],
        "bytes": {u.artifact_id: world.blobs.read(u.artifact_id) for u in uploads},
    }


def test_an_export_restores_into_an_empty_orchard_identically(source):
    target = World()

    report = restore(target, export(source))

    assert sorted(report.packages) == ["demo", "pkg"] and report.uploads == 4
    assert snapshot(target) == snapshot(source)


def test_a_deleted_filename_stays_taken_after_a_restore(source):
    target = World()
    restore(target, export(source))
    with target.uow() as uow:
        demo = uow.packages.get(uow.projects.get("proj").id, "demo")
        (tombstone,) = uow.distributions.list_tombstones(demo.id)
        assert tombstone.filename == GONE and uow.distributions.list_live(demo.id)
        with pytest.raises(FileExists):
            uow.distributions.add(
                Distribution(demo.id, GONE, "0.9", "f" * 64, None, target.clock.now())
            )


def test_an_archive_without_tombstones_still_imports(source):
    def drop_tombstones(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        for package in manifest["packages"]:
            del package["tombstones"]
        return json.dumps(manifest).encode()

    archive = rewrite(export(source), drop_tombstones)
    target = World()
    assert sorted(restore(target, archive).packages) == ["demo", "pkg"]


def test_reference_counts_after_import_are_one_per_upload(source):
    target = World()
    restore(target, export(source))
    v1 = source.upload(b"v1 bytes", filename="probe.bin").artifact_id  # 3rd ref at source
    assert target.artifact(v1).ref_count == 2
    assert target.blobs.temporary_count() == 0


def test_a_project_can_be_imported_under_another_name_next_to_the_original(source):
    restore(source, export(source), project="copy")
    assert snapshot(source, "copy") == snapshot(source, "proj")
    v2 = snapshot(source)["pkg"]["tags"]["latest"]
    assert source.artifact(v2).ref_count == 2  # deduplicated: one blob, both references


def test_importing_over_an_existing_package_is_refused_before_anything_is_stored(source):
    archive = export(source)
    with pytest.raises(AlreadyExists, match="--project"):
        restore(source, archive)
    assert source.blobs.temporary_count() == 0


def test_a_corrupted_blob_in_the_archive_imports_nothing(source):
    archive = rewrite(
        export(source), lambda name, data: data[:-1] + b"X" if name.startswith("blobs/") else data
    )
    target = World()
    with pytest.raises(InvalidInput, match="corrupt"):
        restore(target, archive)
    with target.uow() as uow:
        assert uow.projects.get("proj") is None
    assert target.blobs.blobs == {} and target.blobs.temporary_count() == 0


@pytest.mark.parametrize(
    "archive",
    [b"not a tar at all", b""],
)
def test_a_file_that_is_no_archive_is_refused(archive):
    with pytest.raises(InvalidInput):
        restore(World(), archive)


def test_an_archive_missing_a_blob_imports_nothing(source):
    dropped = []
    archive = rewrite(
        export(source),
        lambda name, data: (
            dropped.append(name) if name.startswith("blobs/") and not dropped else data
        ),
    )
    target = World()
    with pytest.raises(InvalidInput, match="lacks"):
        restore(target, archive)
    assert target.blobs.blobs == {} and target.blobs.temporary_count() == 0


def test_the_manifest_comes_first_and_names_every_blob(source):
    with tarfile.open(fileobj=io.BytesIO(export(source))) as archive:
        names = archive.getnames()
        manifest = json.load(archive.extractfile("manifest.json"))
    assert names[0] == "manifest.json"
    assert names[1:] == [f"blobs/{sha}" for sha in sorted(manifest["artifacts"])]
    assert manifest["format"] == "orchard-export" and manifest["format_version"] == 1


def test_exporting_a_corrupt_blob_fails_instead_of_writing_a_bad_backup(source):
    sha = snapshot(source)["pkg"]["tags"]["latest"]
    source.blobs.blobs[sha] = (b"v2 bytez", source.clock.now())
    with pytest.raises(Conflict, match="fsck"):
        export(source)


def rewrite(archive: bytes, change) -> bytes:
    """A copy of the archive with each member's bytes passed through ``change``
    (None drops the member)."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(archive)) as old,
        tarfile.open(fileobj=out, mode="w") as new,
    ):
        for member in old.getmembers():
            data = change(member.name, old.extractfile(member).read())
            if data is not None:
                member.size = len(data)
                new.addfile(member, io.BytesIO(data))
    return out.getvalue()
