"""Export a project as a portable archive (``docs/backup.md`` describes the format).

The archive is a tar stream: ``manifest.json`` first (every row that matters, as JSON),
then one ``blobs/<sha256>`` member per artifact. Metadata is read in one transaction, so
the manifest is a consistent snapshot; blobs are then streamed one chunk at a time and
re-hashed on the way, so a corrupt blob fails the export instead of poisoning a backup.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from domain.errors import Conflict, NotFound
from domain.model import Artifact, Package
from domain.ports import BlobReader, BlobStore, Clock, UnitOfWork
from domain.services import backup_manifest as fmt
from domain.services.progress import NO_PROGRESS, Progress
from domain.services.upstream import archive as upstream_archive

PAGE = 1000


@dataclass(frozen=True)
class ExportReport:
    project: str
    packages: int
    uploads: int
    artifacts: int
    bytes: int


def export_project(
    uow: UnitOfWork,
    blobs: BlobStore,
    clock: Clock,
    *,
    project: str,
    output: BinaryIO,
    progress: Progress = NO_PROGRESS,
) -> ExportReport:
    """Write the project's archive to ``output`` (any writable stream, seekable or not)."""
    manifest = build_manifest(uow, project, clock.now())
    artifacts = manifest["artifacts"]
    with tarfile.open(fileobj=output, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        _add_member(archive, fmt.MANIFEST, io.BytesIO(_encode(manifest)), clock.now())
        progress.start(len(artifacts), "blobs")
        for sha256 in sorted(artifacts):
            _add_blob(archive, blobs, sha256, artifacts[sha256]["size"], clock.now())
            progress.advance(1)
    return ExportReport(
        project=project,
        packages=len(manifest["packages"]),
        uploads=sum(len(p["uploads"]) for p in manifest["packages"]),
        artifacts=len(artifacts),
        bytes=sum(a["size"] for a in artifacts.values()),
    )


def build_manifest(uow: UnitOfWork, project_name: str, now: datetime) -> dict[str, Any]:
    """Every row of the project worth restoring, read in one transaction."""
    with uow:
        project = uow.projects.get(project_name)
        if project is None:
            raise NotFound(f"Project '{project_name}' not found.")
        packages = _all(
            lambda lim, off: uow.packages.list_page(
                project.id, search=None, format=None, limit=lim, offset=off
            )
        )
        entries = [_package_entry(uow, package) for package in packages]
        held = {u["artifact_id"] for entry in entries for u in entry["uploads"]}
        upstream = upstream_archive.manifest_entry(uow, project)
        held |= upstream_archive.held_artifacts(upstream)
        artifacts = {sha: fmt.artifact_to_dict(_artifact(uow, sha)) for sha in sorted(held)}
    manifest = {
        "format": fmt.FORMAT,
        "format_version": fmt.FORMAT_VERSION,
        "exported_at": fmt.when(now),
        "project": {
            "name": project.name,
            "description": project.description,
            "is_public": project.is_public,
            "allow_overwrite": project.allow_overwrite,
            "created_at": fmt.when(project.created_at),
        },
        "packages": entries,
        "artifacts": artifacts,
    }
    if upstream is not None:
        manifest["upstream"] = upstream  # the cache, with its files' blobs (optional key)
    return manifest


def _package_entry(uow: UnitOfWork, package: Package) -> dict[str, Any]:
    uploads = _all(lambda lim, off: uow.uploads.list_page(package.id, limit=lim, offset=off))
    uploads.reverse()  # oldest first: an import replays them in order
    position = {upload.id: index for index, upload in enumerate(uploads)}
    tags = _all(lambda lim, off: uow.tags.list_page(package.id, search=None, limit=lim, offset=off))
    versions = _all(
        lambda lim, off: uow.versions.list_page(package.id, search=None, limit=lim, offset=off)
    )
    return {
        "name": package.name,
        "format": package.format.value,
        "description": package.description,
        "created_at": fmt.when(package.created_at),
        "uploads": [fmt.upload_to_dict(upload) for upload in uploads],
        "versions": [fmt.version_to_dict(version) for version in reversed(versions)],
        "tags": [_tag_entry(uow, package.id, tag) for tag in tags],
        "distributions": [
            fmt.distribution_to_dict(dist, position.get(dist.upload_id))
            for dist in uow.distributions.list_live(package.id)
        ],
        "tombstones": [
            fmt.tombstone_to_dict(dist) for dist in uow.distributions.list_tombstones(package.id)
        ],
    }


def _artifact(uow: UnitOfWork, sha256: str) -> Artifact:
    artifact = uow.artifacts.get(sha256)
    if artifact is None:  # uploads hold it by a foreign key: only a damaged database
        raise Conflict(f"Artifact {sha256} of an upload has no row; run 'orchard fsck'.")
    return artifact


def _tag_entry(uow: UnitOfWork, package_id: int, tag) -> dict[str, Any]:
    return {
        "name": tag.name,
        "artifact_id": tag.artifact_id,
        "created_at": fmt.when(tag.created_at),
        "updated_at": fmt.when(tag.updated_at),
        "history": [fmt.change_to_dict(c) for c in uow.tags.history(package_id, tag.name)],
    }


def _all(fetch: Callable[[int, int], tuple[list, int]]) -> list:
    """Every row of a paginated listing."""
    rows: list = []
    while True:
        page, total = fetch(PAGE, len(rows))
        rows.extend(page)
        if not page or len(rows) >= total:
            return rows


def _encode(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode()


def _add_member(archive: tarfile.TarFile, name: str, file: BinaryIO, at: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size = file.seek(0, io.SEEK_END)
    file.seek(0)
    info.mtime = int(at.timestamp())
    archive.addfile(info, file)


def _add_blob(
    archive: tarfile.TarFile, blobs: BlobStore, sha256: str, size: int, at: datetime
) -> None:
    info = tarfile.TarInfo(fmt.BLOB_PREFIX + sha256)
    info.size, info.mtime = size, int(at.timestamp())
    stream = _VerifyingStream(blobs.open(sha256), sha256, size)
    try:
        archive.addfile(info, stream)
    finally:
        stream.close()
    stream.verify()


class _VerifyingStream(io.RawIOBase):
    """A blob as a file for ``tarfile``: hashes what it hands out, refuses a short blob."""

    def __init__(self, reader: BlobReader, sha256: str, size: int) -> None:
        self._reader, self._chunks = reader, iter(reader)
        self._sha256, self._size = sha256, size
        self._buffer, self._offset = b"", 0
        self._digest, self._sent = hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        wanted = size if size >= 0 else self._size - self._sent
        parts = []
        while wanted > 0 and self._fill():
            piece = self._buffer[self._offset : self._offset + wanted]
            self._offset += len(piece)
            wanted -= len(piece)
            parts.append(piece)
        data = b"".join(parts)
        self._digest.update(data)
        self._sent += len(data)
        if wanted > 0 and self._sent < self._size:
            raise self._corrupt()  # tarfile would only say "unexpected end of data"
        return data

    def _fill(self) -> bool:
        """Make sure unread bytes are buffered; False at the end of the blob."""
        if self._offset >= len(self._buffer):
            self._buffer, self._offset = next(self._chunks, b""), 0
        return bool(self._buffer)

    def close(self) -> None:
        self._reader.close()
        super().close()

    def verify(self) -> None:
        if self._sent != self._size or self._digest.hexdigest() != self._sha256:
            raise self._corrupt()

    def _corrupt(self) -> Conflict:
        return Conflict(
            f"Blob {self._sha256} does not match its SHA-256; run 'orchard fsck' "
            "before exporting. The archive is incomplete."
        )
