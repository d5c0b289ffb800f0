"""The upstream cache in a project's export: its settings (never the password), merged
names and cached pages, with the blobs of cached files among the archive's artifacts, so
an import serves what the cache held even while the upstream is down.

The manifest carries it under an optional ``upstream`` key: archives without one (older
Orchards, projects without an upstream) import as before.
"""

from __future__ import annotations

from typing import Any

from domain.errors import InvalidInput
from domain.model import Project
from domain.ports import BlobStore, StagedBlob, UnitOfWork
from domain.services import backup_manifest as fmt
from domain.upstream import (
    CachedFile,
    UpstreamFile,
    UpstreamPage,
    UpstreamSettings,
    upstream_repository,
)


def manifest_entry(uow: UnitOfWork, project: Project) -> dict[str, Any] | None:
    """The project's cache as manifest data (inside the export's transaction), or None."""
    repository = upstream_repository(uow)
    settings = repository.settings(project.id)
    names = repository.page_names(project.id)
    merge = repository.merge_names(project.id)
    if settings is None and not names and not merge:
        return None
    pages = [repository.page(project.id, name) for name in names]
    return {
        "settings": _settings_to_dict(settings) if settings else None,
        "merge_names": merge,
        "pages": [
            {
                "name": page.name,
                "checked_at": fmt.when(page.checked_at),
                "etag": page.etag,
                "last_modified": page.last_modified,
                "files": [_file_to_dict(f) for f in page.files],
            }
            for page in pages
            if page is not None
        ],
    }


def held_artifacts(entry: dict[str, Any] | None) -> set[str]:
    """The artifacts the cache's files hold (their blobs go into the archive)."""
    if not entry:
        return set()
    return {f["artifact_id"] for p in entry["pages"] for f in p["files"] if f.get("artifact_id")}


def validate(entry: Any, artifacts: dict[str, Any]) -> None:
    if entry is None:
        return
    try:
        strays = held_artifacts(entry) - set(artifacts)
        for page in entry["pages"]:
            for data in page["files"]:
                _file_from_dict(data)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(f"The archive's upstream cache is incomplete ({error!r}).") from None
    if strays:
        raise InvalidInput(f"The archive's upstream cache holds a missing blob ({min(strays)}).")


def restore(
    uow: UnitOfWork,
    blobs: BlobStore,
    project_id: int,
    entry: dict[str, Any] | None,
    artifacts: dict[str, Any],
    staged: dict[str, StagedBlob],
) -> None:
    """Write the cache back in one transaction: settings (without a password), merged
    names, pages, and one reference per cached file whose blob the archive holds."""
    if not entry:
        return
    with uow:
        repository = upstream_repository(uow)
        if entry.get("settings") and repository.settings(project_id) is None:
            repository.set_settings(project_id, UpstreamSettings(**entry["settings"]))
        for name in entry.get("merge_names", ()):
            repository.set_merge(project_id, name, True)
        for page in entry["pages"]:
            files = [_file_from_dict(data) for data in page["files"]]
            checked_at = fmt.parse_time(page["checked_at"])
            repository.save_page(
                project_id,
                UpstreamPage(
                    page["name"], tuple(files), page.get("etag"), page.get("last_modified")
                ),
                checked_at,
            )
            for data in page["files"]:
                _attach(uow, blobs, project_id, data, artifacts, staged)
        uow.commit()


def _attach(
    uow: UnitOfWork,
    blobs: BlobStore,
    project_id: int,
    data: dict[str, Any],
    artifacts: dict[str, Any],
    staged: dict[str, StagedBlob],
) -> None:
    sha256 = data.get("artifact_id")
    if not sha256:
        return
    cached = upstream_repository(uow).find_file(project_id, data["sha256"], data["filename"])
    if cached is None or not upstream_repository(uow).attach_artifact(cached.id, sha256):
        return
    uow.artifacts.add_reference(fmt.artifact_from_dict(sha256, artifacts[sha256]))
    blobs.promote(staged[sha256])  # while this transaction holds the artifact row


def _settings_to_dict(settings: UpstreamSettings) -> dict[str, Any]:
    return {
        "url": settings.url, "ttl": settings.ttl, "cooldown": settings.cooldown,
        "stale_max_age": settings.stale_max_age, "negative_ttl": settings.negative_ttl,
        "username": settings.username,
    }  # fmt: skip


def _file_to_dict(cached: CachedFile) -> dict[str, Any]:
    file = cached.file
    return {
        "filename": file.filename, "url": file.url, "sha256": file.sha256, "size": file.size,
        "upload_time": fmt.when(file.upload_time), "requires_python": file.requires_python,
        "yanked": file.yanked, "yanked_reason": file.yanked_reason,
        "metadata_sha256": file.metadata_sha256, "artifact_id": cached.artifact_id,
    }  # fmt: skip


def _file_from_dict(data: dict[str, Any]) -> UpstreamFile:
    return UpstreamFile(
        filename=str(data["filename"]), url=str(data["url"]), sha256=str(data["sha256"]),
        size=data.get("size"), upload_time=fmt.parse_when(data.get("upload_time")),
        requires_python=data.get("requires_python"), yanked=bool(data.get("yanked")),
        yanked_reason=data.get("yanked_reason"), metadata_sha256=data.get("metadata_sha256"),
    )  # fmt: skip
