"""The manifest of an export archive: entities to JSON-ready dicts and back.

Kept apart from the archive walking so the format (``docs/backup.md``) lives in one place.
Rows are written without their database ids: an import assigns new ones, and the only
cross-reference (a distribution's upload) is the upload's position in its package's list.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime
from typing import Any

from domain.distributions import metadata_digest
from domain.errors import InvalidInput
from domain.model import Artifact, Distribution, TagChange, Upload, Version, VersionSource

FORMAT = "orchard-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BLOB_PREFIX = "blobs/"


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def parse_when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def parse_time(value: str | None) -> datetime:
    """A timestamp the manifest must have (a row's ``created_at``)."""
    if not value:
        raise InvalidInput("The archive's manifest lacks a timestamp a row needs.")
    return datetime.fromisoformat(value)


def artifact_to_dict(artifact: Artifact) -> dict[str, Any]:
    return {
        "size": artifact.size,
        "content_type": artifact.content_type,
        "md5": artifact.md5,
        "sha1": artifact.sha1,
        "blake2b_256": artifact.blake2b_256,
        "created_at": when(artifact.created_at),
    }


def artifact_from_dict(sha256: str, data: dict[str, Any]) -> Artifact:
    return Artifact(
        id=sha256,
        size=int(data["size"]),
        content_type=data["content_type"],
        md5=data["md5"],
        sha1=data["sha1"],
        blake2b_256=data["blake2b_256"],
        created_at=parse_time(data["created_at"]),
    )


def upload_to_dict(upload: Upload) -> dict[str, Any]:
    return {
        "artifact_id": upload.artifact_id,
        "filename": upload.original_name,
        "uploader": upload.uploader,
        "created_at": when(upload.created_at),
        "tag": upload.tag,
        "version": upload.version,
        "version_source": upload.version_source.value if upload.version_source else None,
    }


def upload_from_dict(package_id: int, data: dict[str, Any]) -> Upload:
    source = data.get("version_source")
    return Upload(
        package_id=package_id,
        artifact_id=data["artifact_id"],
        original_name=data["filename"],
        created_at=parse_time(data["created_at"]),
        uploader=data.get("uploader"),
        tag=data.get("tag"),
        version=data.get("version"),
        version_source=VersionSource(source) if source else None,
    )


def version_to_dict(version: Version) -> dict[str, Any]:
    return {
        "version": version.version,
        "artifact_id": version.artifact_id,
        "version_source": version.version_source.value,
        "created_at": when(version.created_at),
    }


def version_from_dict(package_id: int, data: dict[str, Any]) -> Version:
    return Version(
        package_id=package_id,
        version=data["version"],
        artifact_id=data["artifact_id"],
        version_source=VersionSource(data["version_source"]),
        created_at=parse_time(data["created_at"]),
    )


def change_to_dict(change: TagChange) -> dict[str, Any]:
    return {
        "old_artifact_id": change.old_artifact_id,
        "new_artifact_id": change.new_artifact_id,
        "changed_at": when(change.changed_at),
        "changed_by": change.changed_by,
    }


def distribution_to_dict(dist: Distribution, upload_index: int | None) -> dict[str, Any]:
    metadata = dist.core_metadata
    return {
        "filename": dist.filename,
        "version": dist.version,
        "artifact_id": dist.artifact_id,
        "upload_index": upload_index,
        "packagetype": dist.packagetype,
        "requires_python": dist.requires_python,
        "core_metadata": base64.b64encode(metadata).decode() if metadata else None,
        "yanked": dist.yanked,
        "yanked_reason": dist.yanked_reason,
        "size": dist.size,
        "created_at": when(dist.created_at),
    }


_TOMBSTONE_FIELDS = ("filename", "version", "artifact_id", "packagetype", "size", "created_at")


def tombstone_to_dict(dist: Distribution) -> dict[str, Any]:
    """A deleted file: only what keeps its filename from returning with other bytes."""
    entry = distribution_to_dict(dist, None)
    return {key: entry[key] for key in _TOMBSTONE_FIELDS} | {"deleted_at": when(dist.deleted_at)}


def tombstone_from_dict(package_id: int, data: dict[str, Any]) -> Distribution:
    return replace(
        distribution_from_dict(package_id, data, None), deleted_at=parse_when(data["deleted_at"])
    )


def distribution_from_dict(
    package_id: int, data: dict[str, Any], upload_id: int | None
) -> Distribution:
    metadata = data.get("core_metadata")
    core = base64.b64decode(metadata) if metadata else None
    return Distribution(
        package_id=package_id,
        filename=data["filename"],
        version=data["version"],
        artifact_id=data["artifact_id"],
        upload_id=upload_id,
        created_at=parse_time(data["created_at"]),
        packagetype=data.get("packagetype", "sdist"),
        requires_python=data.get("requires_python"),
        core_metadata=core,
        metadata_sha256=metadata_digest(core),
        yanked=bool(data.get("yanked")),
        yanked_reason=data.get("yanked_reason"),
        size=int(data.get("size") or 0),
    )


def check_manifest(manifest: Any) -> dict[str, Any]:
    """Refuse an archive that is not ours, or from a newer Orchard."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput("This file is not an Orchard export (no orchard-export manifest).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise InvalidInput(
            f"This archive has format version {manifest.get('format_version')!r}; "
            f"this Orchard reads version {FORMAT_VERSION}."
        )
    return manifest
