"""The legacy upload use case (what twine, uv, poetry, pdm and hatch call).

Same atomicity as the generic upload (``domain/services/uploads.py``): the bytes arrive
staged and hashed; names, digests and the wheel's METADATA are checked before anything is
recorded; rows are written, the blob is promoted while this transaction holds the
artifact row (new bytes are placed just before it: ``domain/services/uploads.py``), then
everything commits. Any ``DomainError`` discards the staged bytes.

Duplicate policy (pypi.org's, minus its refusal of identical retries): a filename exists
once per package. The same bytes again is a success that changes nothing, so retries and
``uv publish --check-url`` are harmless; other bytes are ``FileExists`` unless the project
allows overwriting; a deleted filename (tombstone) is never reused with other bytes, but
the same bytes bring the file back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import names
from domain.access import Principal, require_role
from domain.distributions import DistributionFile, metadata_digest
from domain.errors import AlreadyExists, Conflict, DomainError, FileExists
from domain.model import (
    Artifact,
    Distribution,
    Package,
    PackageFormat,
    Project,
    Role,
    Upload,
    VersionSource,
)
from domain.ports import BlobStore, Clock, MetadataReader, StagedBlob, UnitOfWork
from domain.services.pypi.checks import (
    DistributionUpload,
    check_content,
    check_form,
    check_metadata_matches,
    check_wheel_metadata,
    requires_python,
)
from domain.services.pypi.releases import is_live, repoint_version, require_pypi
from domain.services.references import release_references
from domain.services.uploads import discard_quietly, placed_early

WHEEL_CONTENT_TYPE = "application/zip"
SDIST_CONTENT_TYPES = {".zip": "application/zip", ".tar.gz": "application/gzip"}


@dataclass(frozen=True)
class UploadedDistribution:
    project: str
    package: str
    filename: str
    version: str
    sha256: str
    size: int
    duplicate: bool  # identical bytes were there already: nothing changed


def upload_distribution(
    uow: UnitOfWork,
    blobs: BlobStore,
    clock: Clock,
    reader: MetadataReader,
    *,
    actor: Principal | None,
    upload: DistributionUpload,
    staged: StagedBlob,
) -> UploadedDistribution:
    """Record a staged sdist or wheel in the project's package of that name (created on
    the first upload); discard the staged bytes on any failure."""
    try:
        parsed = check_form(upload)
        check_content(upload, staged.checksums)
        core = _wheel_metadata(blobs, reader, staged, parsed)
        sdist_requires = _sdist_requires_python(blobs, reader, staged, parsed)
        new = Distribution(
            package_id=0,
            filename=upload.filename,
            version=parsed.version,
            artifact_id=staged.sha256,
            upload_id=None,
            created_at=clock.now(),
            packagetype=parsed.packagetype,
            requires_python=requires_python(
                upload.requires_python or sdist_requires,
                core,
            ),
            core_metadata=core,
            metadata_sha256=metadata_digest(core),
            size=staged.size,
        )
        with placed_early(uow, blobs, clock, staged) as placed:
            return _record(uow, blobs, actor, upload.project, parsed.name, new, staged, placed)
    except DomainError:
        discard_quietly(blobs, staged)
        raise


def check_upload_allowed(uow: UnitOfWork, *, actor: Principal | None, project: str) -> None:
    """Refuse (401/403/404) before a byte of the body is read."""
    with uow:
        require_role(uow, actor, project, Role.WRITE)


def _sdist_requires_python(
    blobs: BlobStore, reader: MetadataReader, staged: StagedBlob, parsed: DistributionFile
) -> str | None:
    """An sdist must be the archive its name says and its PKG-INFO must agree with the
    filename; that PKG-INFO says Requires-Python when the upload form did not (some
    clients send it only in the archive)."""
    if parsed.packagetype != "sdist":
        return None
    with blobs.open_staged(staged) as file:
        metadata = reader.read_sdist_metadata(file, parsed.filename)
    if metadata is None:
        return None
    check_metadata_matches(parsed, metadata.name, metadata.version, "PKG-INFO")
    return metadata.requires_python


def _wheel_metadata(
    blobs: BlobStore, reader: MetadataReader, staged: StagedBlob, parsed: DistributionFile
) -> bytes | None:
    """A wheel's METADATA, once it names the project and version of the filename."""
    if parsed.packagetype != "bdist_wheel":
        return None
    with blobs.open_staged(staged) as file:
        core = reader.read_wheel_metadata(file)
    check_wheel_metadata(parsed, core)
    return core


def _record(
    uow: UnitOfWork,
    blobs: BlobStore,
    actor: Principal | None,
    project_name: str,
    package_name: str,
    new: Distribution,
    staged: StagedBlob,
    placed: bool,
) -> UploadedDistribution:
    with uow:
        project = require_role(uow, actor, project_name, Role.WRITE)
        package = _package(uow, project, package_name, new.created_at)
        new.package_id = package.id
        existing = _add_or_existing(uow, new)
        if existing is not None and is_live(existing) and existing.artifact_id == new.artifact_id:
            blobs.discard(staged)
            return _result(project, package, new, duplicate=True)
        if existing is not None:
            _replace(uow, project, existing, new)
        _hold(uow, actor, package, new, staged)
        if not placed:
            blobs.promote(staged)
        uow.packages.touch(package.id, new.created_at)  # last: its row lock (uploads.py)
        uow.commit()
    return _result(project, package, new, duplicate=False)


def _package(uow: UnitOfWork, project: Project, name: str, at: datetime) -> Package:
    """The project's package of that (PEP 503) name; the first upload creates it."""
    name = names.validate_package_name(name, pypi=True)
    package = uow.packages.get(project.id, name)
    if package is None:
        try:
            package = uow.packages.add(Package(project.id, name, PackageFormat.PYPI, created_at=at))
        except AlreadyExists:  # a concurrent first upload created it
            package = uow.packages.get(project.id, name)
    if package is None:  # created and deleted again meanwhile
        raise Conflict(f"Package '{name}' changed during the upload; upload again.")
    package.project_name = project.name
    return require_pypi(package)


def _add_or_existing(uow: UnitOfWork, new: Distribution) -> Distribution | None:
    """Insert the file row, or return the row that already holds the filename."""
    existing = uow.distributions.get(new.package_id, new.filename)
    if existing is not None:
        return existing
    try:
        uow.distributions.add(new)
    except FileExists:  # a concurrent upload of the same filename committed first
        return uow.distributions.get(new.package_id, new.filename)
    return None


def _replace(uow: UnitOfWork, project: Project, existing: Distribution, new: Distribution) -> None:
    """Take over an existing filename: a tombstone only with its own bytes, a live file
    only where the project allows overwriting. The old bytes' reference is released."""
    if existing.artifact_id != new.artifact_id:
        if existing.deleted_at is not None:
            raise FileExists(
                f"File already exists: '{new.filename}' was deleted, and a deleted filename "
                "cannot be reused with other content. Upload a new version instead."
            )
        if not project.allow_overwrite:
            raise FileExists(
                f"File already exists: '{new.filename}' is in this package with other "
                "content. Upload a new version (or enable allow_overwrite on the project)."
            )
    held = existing.upload_id if existing.deleted_at is None else None
    if held is not None and uow.uploads.delete(held) is not None:
        release_references(uow, {existing.artifact_id: 1}, new.created_at)
    new.id = existing.id


def _hold(
    uow: UnitOfWork,
    actor: Principal | None,
    package: Package,
    new: Distribution,
    staged: StagedBlob,
) -> None:
    """One counted reference: the artifact, the upload row, the file row, the release."""
    uow.artifacts.add_reference(_artifact_row(staged, new))
    upload = uow.uploads.add(
        Upload(
            package_id=package.id,
            artifact_id=new.artifact_id,
            original_name=new.filename,
            created_at=new.created_at,
            uploader=actor.username if actor else None,
            version=new.version,
            version_source=VersionSource.EXPLICIT,
        )
    )
    new.upload_id = upload.id
    uow.distributions.update(new)
    repoint_version(uow, package, new.version, new.created_at)


def _artifact_row(staged: StagedBlob, new: Distribution) -> Artifact:
    sums = staged.checksums
    suffix = next((s for s in SDIST_CONTENT_TYPES if new.filename.endswith(s)), None)
    return Artifact(
        id=sums.sha256,
        size=sums.size,
        content_type=SDIST_CONTENT_TYPES[suffix] if suffix else WHEEL_CONTENT_TYPE,
        md5=sums.md5,
        sha1=sums.sha1,
        blake2b_256=sums.blake2b_256,
        created_at=new.created_at,
    )


def _result(
    project: Project, package: Package, new: Distribution, *, duplicate: bool
) -> UploadedDistribution:
    return UploadedDistribution(
        project=project.name,
        package=package.name,
        filename=new.filename,
        version=new.version,
        sha256=new.artifact_id,
        size=new.size,
        duplicate=duplicate,
    )
