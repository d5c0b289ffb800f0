"""Rows to domain objects: one explicit function per entity, no ORM mapping."""

from __future__ import annotations

from typing import Any

from domain.model import (
    ApiKey,
    Artifact,
    Distribution,
    Membership,
    Package,
    PackageFormat,
    Project,
    Role,
    Tag,
    TagChange,
    Upload,
    User,
    Version,
    VersionSource,
)


def project(row: Any) -> Project:
    return Project(
        id=row.id,
        name=row.name,
        description=row.description,
        is_public=row.is_public,
        allow_overwrite=row.allow_overwrite,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
        index_serial=row.index_serial,
    )


def package(row: Any) -> Package:
    return Package(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        format=PackageFormat(row.format),
        description=row.description,
        created_at=row.created_at,
        project_name=row.project_name,
        serial=row.serial,
    )


def artifact(row: Any) -> Artifact:
    return Artifact(
        id=row.id,
        size=row.size,
        content_type=row.content_type,
        md5=row.md5,
        sha1=row.sha1,
        blake2b_256=row.blake2b_256,
        created_at=row.created_at,
        ref_count=row.ref_count,
        released_at=row.released_at,
    )


def upload(row: Any) -> Upload:
    source = VersionSource(row.version_source) if row.version_source else None
    return Upload(
        id=row.id,
        package_id=row.package_id,
        artifact_id=row.artifact_id,
        original_name=row.original_name,
        created_at=row.created_at,
        uploader=row.uploader,
        tag=row.tag,
        version=row.version,
        version_source=source,
    )


def tag(row: Any) -> Tag:
    return Tag(
        id=row.id,
        package_id=row.package_id,
        name=row.name,
        artifact_id=row.artifact_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def tag_change(row: Any) -> TagChange:
    return TagChange(
        tag_name=row.tag_name,
        old_artifact_id=row.old_artifact_id,
        new_artifact_id=row.new_artifact_id,
        changed_at=row.changed_at,
        changed_by=row.changed_by,
    )


def version(row: Any) -> Version:
    return Version(
        id=row.id,
        package_id=row.package_id,
        version=row.version,
        artifact_id=row.artifact_id,
        version_source=VersionSource(row.version_source),
        created_at=row.created_at,
    )


def distribution(row: Any) -> Distribution:
    return Distribution(
        id=row.id,
        package_id=row.package_id,
        filename=row.filename,
        version=row.version,
        artifact_id=row.artifact_id,
        upload_id=row.upload_id,
        created_at=row.created_at,
        packagetype=row.packagetype,
        requires_python=row.requires_python,
        core_metadata=_bytes(getattr(row, "core_metadata", None)),
        metadata_sha256=row.metadata_sha256,
        yanked=row.yanked,
        yanked_reason=row.yanked_reason,
        deleted_at=row.deleted_at,
        size=row.size,
    )


def user(row: Any, prefix: str = "") -> User:
    """``prefix``: how the user's columns are labelled when they come joined to another
    table's (an API key and its owner in one query)."""
    fields = row._mapping
    return User(
        id=fields[prefix + "id"],
        username=fields[prefix + "username"],
        password_hash=fields[prefix + "password_hash"],
        is_admin=fields[prefix + "is_admin"],
        created_at=fields[prefix + "created_at"],
    )


def api_key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        key_hash=row.key_hash,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


def membership(row: Any) -> Membership:
    return Membership(
        project_id=row.project_id,
        user_id=row.user_id,
        role=Role(row.role),
        username=row.username,
        created_at=row.created_at,
    )


class Prefixed:
    """The columns of one table in a joined row, labelled ``<prefix><column>`` so they
    do not collide with the other tables' (``id``, ``created_at``)."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: Any, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


def _bytes(value: Any) -> bytes | None:
    # Some drivers hand back memoryview for binary columns.
    return None if value is None else bytes(value)
