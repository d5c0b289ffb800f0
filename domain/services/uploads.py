"""The upload use case: staged bytes in, one counted reference out.

Order matters for atomicity (SPEC §5): the bytes are already staged and hashed when this
runs; the checksum is verified before anything is recorded; rows are written, the blob
is promoted while the artifact row is locked by this transaction, then everything
commits. Any failure before the commit discards the staged bytes, so nothing is left.

One exception to "promoted under the lock": bytes no blob holds yet are placed just
before the transaction, where the store can do it atomically only if the blob is absent
(``BlobStore.place_new``). On SQLite every upload's transaction queues on one lock, and
the rename and directory fsync were a quarter of the time each upload held it. Such a
blob is safe from garbage collection by its fresh modification time; if the transaction
then fails, it is withdrawn again unless a row names it by then (``placed_early``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from domain import names
from domain.access import Principal
from domain.errors import (
    BackendUnavailable,
    ChecksumMismatch,
    DomainError,
    EmptyContent,
    VersionConflict,
)
from domain.model import Artifact, Package, Upload, Version, VersionSource
from domain.ports import BlobStore, Clock, MetadataReader, StagedBlob, UnitOfWork
from domain.services.gc import withdraw_unrecorded
from domain.services.projects import writable_package
from domain.versioning import detect_version


@dataclass(frozen=True)
class UploadRequest:
    """What the caller sent, as primitives."""

    project: str
    package: str
    filename: str
    content_type: str
    tag: str | None = None
    version: str | None = None
    expected_sha256: str | None = None


@dataclass(frozen=True)
class UploadResult:
    artifact_id: str
    size: int
    original_name: str
    content_type: str
    created_at: datetime
    project: str
    package: str
    tag: str | None
    version: str | None
    version_source: str | None
    deduplicated: bool
    ref_count: int
    upload_id: int


def check_upload_allowed(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    expected_sha256: str | None = None,
) -> None:
    """Refuse (400/401/403/404) what can be refused before a byte of the body is read:
    a malformed checksum header, a caller who may not write, a package that does not
    exist. Reads only: give it a read-only unit of work, so that on SQLite it neither
    waits for nor takes the writers' lock. ``upload_artifact`` checks again, in its own
    transaction, since the answer may change while the body streams."""
    if expected_sha256 is not None:
        names.validate_checksum(expected_sha256)
    with uow:
        writable_package(uow, actor, project, package)


def validate_upload_fields(request: UploadRequest) -> UploadRequest:
    """Check every name before a byte is recorded (``upload_artifact`` does; views don't)."""
    names.validate_filename(request.filename)
    if request.tag is not None:
        names.validate_tag_name(request.tag)
    if request.version is not None:
        names.validate_version_name(request.version)
    if request.expected_sha256 is not None:
        return _with_checksum(request, names.validate_checksum(request.expected_sha256))
    return request


def upload_artifact(
    uow: UnitOfWork,
    blobs: BlobStore,
    clock: Clock,
    reader: MetadataReader,
    *,
    actor: Principal | None,
    request: UploadRequest,
    staged: StagedBlob,
) -> UploadResult:
    """Record staged bytes as an upload; discard them on any failure."""
    try:
        request = validate_upload_fields(request)
        _verify_content(request, staged)
        version, source = _detect_version(blobs, reader, request, staged)
        with placed_early(uow, blobs, clock, staged) as placed:
            return _record(uow, blobs, clock, actor, request, staged, version, source, placed)
    except DomainError:
        discard_quietly(blobs, staged)
        raise


@contextlib.contextmanager
def placed_early(
    uow: UnitOfWork, blobs: BlobStore, clock: Clock, staged: StagedBlob
) -> Iterator[bool]:
    """Place new bytes before the transaction (``BlobStore.place_new``); if recording them
    then fails (a version conflict, a revoked role), take them back out, so a refused
    upload leaves nothing behind. Best effort: an orphan left is swept by gc."""
    placed = blobs.place_new(staged)
    try:
        yield placed
    except DomainError:
        if placed:
            with contextlib.suppress(DomainError):
                withdraw_unrecorded(uow, blobs, staged.sha256, clock.now())
        raise


def discard_quietly(blobs: BlobStore, staged: StagedBlob) -> None:
    """Drop staged bytes without hiding the error that made us drop them: a store that
    cannot delete now leaves a temporary object the sweep removes later."""
    with contextlib.suppress(BackendUnavailable):
        blobs.discard(staged)


def _verify_content(request: UploadRequest, staged: StagedBlob) -> None:
    if staged.size == 0:
        raise EmptyContent("The uploaded file is empty.")
    if request.expected_sha256 and request.expected_sha256 != staged.sha256:
        raise ChecksumMismatch(
            f"Checksum mismatch: the content's SHA-256 is {staged.sha256}, "
            f"not {request.expected_sha256}. Nothing was stored."
        )


def _detect_version(
    blobs: BlobStore, reader: MetadataReader, request: UploadRequest, staged: StagedBlob
) -> tuple[str | None, VersionSource | None]:
    metadata_version = None
    if not (request.version and request.version.strip()):
        with blobs.open_staged(staged) as file:
            metadata = reader.read(file, request.filename)
        metadata_version = metadata.version if metadata else None
    version, source = detect_version(request.version, metadata_version, request.filename)
    if version is not None and source is not VersionSource.EXPLICIT:
        version = _usable_detected(version)
    return version, (source if version is not None else None)


def _usable_detected(version: str) -> str | None:
    """A detected version that breaks the naming rules is ignored, not an error."""
    try:
        return names.validate_version_name(version)
    except DomainError:
        return None


def _record(
    uow: UnitOfWork,
    blobs: BlobStore,
    clock: Clock,
    actor: Principal | None,
    request: UploadRequest,
    staged: StagedBlob,
    version: str | None,
    source: VersionSource | None,
    placed: bool,
) -> UploadResult:
    with uow:
        _, package = writable_package(uow, actor, request.project, request.package)
        now = clock.now()
        ref_count, existed = uow.artifacts.add_reference(
            _artifact_row(staged, request.content_type, now)
        )
        if version is not None:
            _claim_version(uow, package, version, source, staged.sha256, now)
        if request.tag is not None:
            uow.tags.set(
                package.id, request.tag, staged.sha256, now, actor.username if actor else None
            )
        upload = uow.uploads.add(
            Upload(
                package_id=package.id,
                artifact_id=staged.sha256,
                original_name=request.filename,
                created_at=now,
                uploader=actor.username if actor else None,
                tag=request.tag,
                version=version,
                version_source=source,
            )
        )
        if not placed:
            blobs.promote(staged)
        # Last: the package row's lock (PostgreSQL) is then held for the commit only, not
        # for a store's round trip; every upload to one package queues on that row.
        uow.packages.touch(package.id, now)
        uow.commit()
    return UploadResult(
        artifact_id=staged.sha256,
        size=staged.size,
        original_name=request.filename,
        content_type=request.content_type,
        created_at=now,
        project=request.project,
        package=package.name,
        tag=request.tag,
        version=version,
        version_source=source.value if source else None,
        deduplicated=existed,
        ref_count=ref_count,
        upload_id=upload.id,
    )


def _claim_version(
    uow: UnitOfWork,
    package: Package,
    version: str,
    source: VersionSource | None,
    sha256: str,
    now: datetime,
) -> None:
    """Versions are immutable: the first content wins, other content is a conflict."""
    stored = uow.versions.add_if_absent(
        Version(
            package_id=package.id,
            version=version,
            artifact_id=sha256,
            version_source=source or VersionSource.EXPLICIT,
            created_at=now,
        )
    )
    if stored.artifact_id != sha256:
        raise VersionConflict(
            f"Version '{version}' of package '{package.name}' already exists with "
            f"different content (artifact {stored.artifact_id}). Versions are immutable."
        )


def _artifact_row(staged: StagedBlob, content_type: str, now: datetime) -> Artifact:
    sums = staged.checksums
    return Artifact(
        id=sums.sha256,
        size=sums.size,
        content_type=content_type,
        md5=sums.md5,
        sha1=sums.sha1,
        blake2b_256=sums.blake2b_256,
        created_at=now,
    )


def _with_checksum(request: UploadRequest, checksum: str) -> UploadRequest:
    return UploadRequest(
        request.project,
        request.package,
        request.filename,
        request.content_type,
        request.tag,
        request.version,
        checksum,
    )
