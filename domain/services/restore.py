"""Import an export archive into this Orchard (``docs/backup.md`` describes the format).

The archive is read once, as a stream: the manifest first, then each blob goes through the
same path as an upload: staged while hashed, refused unless its SHA-256 is its name, then
promoted inside the transaction that records its reference (so deduplication and reference
counts stay right). Nothing is written before the whole archive has been read and checked;
then each package is restored in its own transaction: it is there completely or not at all.
"""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

from domain import names
from domain.errors import AlreadyExists, DomainError, InvalidInput
from domain.model import Package, PackageFormat, Project
from domain.ports import BlobStore, Clock, StagedBlob, UnitOfWork
from domain.services import backup_manifest as fmt
from domain.services.progress import NO_PROGRESS, Progress
from domain.services.upstream import archive as upstream_archive

CHUNK = 1024 * 1024
MAX_MANIFEST = 1024**3  # the manifest is read whole; a bigger one is not ours
_BLOB = re.compile(r"blobs/([0-9a-f]{64})")


@dataclass
class ImportReport:
    project: str
    packages: list[str] = field(default_factory=list)
    uploads: int = 0
    artifacts: int = 0
    bytes: int = 0


def import_archive(
    uow_factory: Callable[[], UnitOfWork],
    blobs: BlobStore,
    clock: Clock,
    *,
    source: BinaryIO,
    project: str | None = None,
    progress: Progress = NO_PROGRESS,
) -> ImportReport:
    """Restore the archive's project (as ``project`` when given) and its packages."""
    staged: dict[str, StagedBlob] = {}
    try:
        with tarfile.open(fileobj=source, mode="r|") as archive:
            members = iter(archive)
            manifest = _read_manifest(archive, next(members, None))
            target = names.validate_project_name(project or manifest["project"]["name"])
            _preflight(uow_factory(), target, manifest)
            progress.start(len(manifest["artifacts"]), "blobs")
            for sha256, blob in _stage_blobs(archive, members, blobs, manifest["artifacts"]):
                staged[sha256] = blob
                progress.advance(1)
        _check_complete(manifest["artifacts"], staged)
        return _restore(uow_factory, blobs, clock, target, manifest, staged)
    except (tarfile.TarError, EOFError) as error:
        raise InvalidInput(f"The archive is unreadable ({error}). Nothing was imported.") from None
    finally:
        for blob in staged.values():
            blobs.discard(blob)  # promoted ones are gone already: a no-op for them


def _read_manifest(archive: tarfile.TarFile, member: tarfile.TarInfo | None) -> dict[str, Any]:
    if member is None or member.name != fmt.MANIFEST or not member.isfile():
        raise InvalidInput(f"The archive does not start with {fmt.MANIFEST}.")
    if member.size > MAX_MANIFEST:
        raise InvalidInput("The archive's manifest is too large.")
    try:
        manifest = fmt.check_manifest(json.loads(_extract(archive, member).read()))
    except ValueError as error:
        raise InvalidInput(f"The archive's manifest is not valid JSON: {error}") from None
    validate_manifest(manifest)
    return manifest


def validate_manifest(manifest: dict[str, Any]) -> None:
    """Every name valid, every reference to an artifact the package holds, before any write."""
    try:
        for entry in manifest["packages"]:
            _validate_package(entry, manifest["artifacts"])
        upstream_archive.validate(manifest.get("upstream"), manifest["artifacts"])
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(f"The archive's manifest is incomplete ({error!r}).") from None


def _validate_package(entry: dict[str, Any], artifacts: dict[str, Any]) -> None:
    package_format = PackageFormat(entry["format"])
    names.validate_package_name(entry["name"], pypi=package_format is PackageFormat.PYPI)
    held = {upload["artifact_id"] for upload in entry["uploads"]}
    referenced = [row["artifact_id"] for row in entry["versions"] + entry["tags"]]
    referenced += [dist["artifact_id"] for dist in entry["distributions"]]
    strays = (held - set(artifacts)) | (set(referenced) - held)
    if strays:
        raise InvalidInput(
            f"Package '{entry['name']}' of the archive refers to content it does not hold "
            f"({sorted(strays)[0]})."
        )


def _preflight(uow: UnitOfWork, target: str, manifest: dict[str, Any]) -> None:
    """Refuse before a byte is staged when a package would collide with one that exists."""
    with uow:
        project = uow.projects.get(target)
        if project is None:
            return
        for entry in manifest["packages"]:
            if uow.packages.get(project.id, entry["name"]) is not None:
                raise AlreadyExists(
                    f"Package '{entry['name']}' already exists in project '{target}'. "
                    "Import into another project with --project NEWNAME. Nothing was imported."
                )


def _stage_blobs(
    archive: tarfile.TarFile,
    members: Iterator[tarfile.TarInfo],
    blobs: BlobStore,
    artifacts: dict[str, Any],
) -> Iterator[tuple[str, StagedBlob]]:
    seen: set[str] = set()
    for member in members:
        found = _BLOB.fullmatch(member.name)
        if not (found and member.isfile() and found[1] in artifacts) or found[1] in seen:
            raise InvalidInput(f"Unexpected member {member.name!r} in the archive.")
        seen.add(found[1])
        yield found[1], _stage(_extract(archive, member), blobs, found[1], artifacts[found[1]])


def _extract(archive: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    """The member's bytes; the callers checked it is a regular file, the only kind
    ``extractfile`` never answers None for."""
    file = archive.extractfile(member)
    if file is None:
        raise InvalidInput(f"Member {member.name!r} of the archive is not a file.")
    return file


def _stage(file: IO[bytes], blobs: BlobStore, sha256: str, artifact: dict[str, Any]) -> StagedBlob:
    """Stream one blob into the store while it is hashed; keep it only if it is intact."""
    writer = blobs.writer()
    try:
        while chunk := file.read(CHUNK):
            writer.write(chunk)
        staged = writer.finish()
    except DomainError:
        writer.abort()
        raise
    if staged.sha256 != sha256 or staged.size != int(artifact["size"]):
        blobs.discard(staged)
        raise InvalidInput(
            f"Blob {sha256} in the archive is corrupt: its bytes hash to {staged.sha256}. "
            "Nothing was imported."
        )
    return staged


def _check_complete(artifacts: dict[str, Any], staged: dict[str, StagedBlob]) -> None:
    missing = sorted(set(artifacts) - set(staged))
    if missing:
        raise InvalidInput(
            f"The archive lacks {len(missing)} blob(s), e.g. {missing[0]}. Nothing was imported."
        )


def _restore(
    uow_factory: Callable[[], UnitOfWork],
    blobs: BlobStore,
    clock: Clock,
    target: str,
    manifest: dict[str, Any],
    staged: dict[str, StagedBlob],
) -> ImportReport:
    report = ImportReport(project=target, artifacts=len(staged))
    report.bytes = sum(blob.size for blob in staged.values())
    project_id = _ensure_project(uow_factory(), clock, target, manifest["project"])
    for entry in manifest["packages"]:
        try:
            _restore_package(uow_factory(), blobs, clock, project_id, entry, manifest, staged)
        except DomainError as error:
            done = ", ".join(report.packages) or "none"
            raise type(error)(
                f"Importing package '{entry['name']}' failed: {error} "
                f"Packages imported before it: {done}; it and the later ones were not."
            ) from error
        report.packages.append(entry["name"])
        report.uploads += len(entry["uploads"])
    upstream_archive.restore(uow_factory(), blobs, project_id, manifest.get("upstream"),
                             manifest["artifacts"], staged)  # fmt: skip
    return report


def _ensure_project(uow: UnitOfWork, clock: Clock, target: str, data: dict[str, Any]) -> int:
    with uow:
        project = uow.projects.get(target)
        if project is None:
            project = uow.projects.add(
                Project(
                    name=target,
                    description=data.get("description", ""),
                    is_public=bool(data.get("is_public", True)),
                    allow_overwrite=bool(data.get("allow_overwrite", False)),
                    created_at=fmt.parse_when(data.get("created_at")) or clock.now(),
                    updated_at=clock.now(),
                )
            )
            uow.commit()
        return project.id


def _restore_package(
    uow: UnitOfWork,
    blobs: BlobStore,
    clock: Clock,
    project_id: int,
    entry: dict[str, Any],
    manifest: dict[str, Any],
    staged: dict[str, StagedBlob],
) -> None:
    with uow:
        package = uow.packages.add(_package(project_id, entry, clock))
        upload_ids = _restore_uploads(uow, package.id, entry["uploads"], manifest["artifacts"])
        for data in entry["versions"]:
            uow.versions.add_if_absent(fmt.version_from_dict(package.id, data))
        for data in entry["tags"]:
            _restore_tag(uow, package.id, data, {u["artifact_id"] for u in entry["uploads"]})
        for data in entry["distributions"]:
            index = data.get("upload_index")
            upload_id = upload_ids[index] if index is not None else None
            uow.distributions.add(fmt.distribution_from_dict(package.id, data, upload_id))
        for data in entry.get("tombstones", ()):  # absent from archives of 0.1.0
            uow.distributions.add(fmt.tombstone_from_dict(package.id, data))
        uow.packages.touch(package.id, clock.now())
        for sha256 in sorted({u["artifact_id"] for u in entry["uploads"]}):
            blobs.promote(staged[sha256])  # while this transaction holds the artifact rows
        uow.commit()


def _package(project_id: int, entry: dict[str, Any], clock: Clock) -> Package:
    return Package(
        project_id=project_id,
        name=entry["name"],
        format=PackageFormat(entry["format"]),
        description=entry.get("description", ""),
        created_at=fmt.parse_when(entry.get("created_at")) or clock.now(),
    )


def _restore_uploads(
    uow: UnitOfWork, package_id: int, uploads: list[dict[str, Any]], artifacts: dict[str, Any]
) -> list[int]:
    """One reference per upload, as the upload path counts them."""
    ids = []
    for data in uploads:
        sha256 = data["artifact_id"]
        uow.artifacts.add_reference(fmt.artifact_from_dict(sha256, artifacts[sha256]))
        ids.append(uow.uploads.add(fmt.upload_from_dict(package_id, data)).id)
    return ids


def _restore_tag(uow: UnitOfWork, package_id: int, data: dict[str, Any], held: set[str]) -> None:
    """Replay the moves (those to content the package still holds), then the current target."""
    name = data["name"]
    for change in data["history"]:
        if change["new_artifact_id"] in held:
            at = fmt.parse_time(change["changed_at"])
            uow.tags.set(package_id, name, change["new_artifact_id"], at, change["changed_by"])
    current = uow.tags.get(package_id, name)
    if current is None or current.artifact_id != data["artifact_id"]:
        at = fmt.parse_time(data["updated_at"])
        uow.tags.set(package_id, name, data["artifact_id"], at, None)
