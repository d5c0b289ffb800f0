"""Reading artifacts: reference resolution, downloads, artifact info, what a package holds."""

from __future__ import annotations

from dataclasses import dataclass

from domain.access import Principal, can_read
from domain.errors import NotFound
from domain.model import Artifact, Package, Page, Upload
from domain.ports import Clock, UnitOfWork
from domain.references import resolve_reference
from domain.services.paging import paged
from domain.services.projects import readable_package, writable_package
from domain.services.references import release_references


@dataclass(frozen=True)
class ResolvedArtifact:
    """What a download needs: the artifact and the name to give the file."""

    artifact: Artifact
    filename: str
    package: Package


def resolve(
    uow: UnitOfWork, *, actor: Principal | None, project: str, package: str, ref: str
) -> ResolvedArtifact:
    """Resolve ``tag:``/``version:``/``artifact:``/bare references within one package."""
    with uow:
        pkg = readable_package(uow, actor, project, package)
        artifact_id, _ = resolve_reference(
            ref,
            find_tag=lambda name: _tag_target(uow, pkg.id, name),
            find_version=lambda name: _version_target(uow, pkg.id, name),
            holds_artifact=lambda sha: uow.uploads.package_holds(pkg.id, sha),
        )
        artifact = uow.artifacts.get(artifact_id)
        if artifact is None:
            raise NotFound(f"Artifact {artifact_id} not found.")
        upload = uow.uploads.latest_for_artifact(pkg.id, artifact_id)
        filename = upload.original_name if upload else artifact_id
        return ResolvedArtifact(artifact=artifact, filename=filename, package=pkg)


def get_artifact(uow: UnitOfWork, *, actor: Principal | None, artifact_id: str) -> Artifact:
    """Artifact info, only for a caller who may read a package holding it."""
    with uow:
        artifact = uow.artifacts.get(artifact_id.lower())
        holders = uow.uploads.readable_packages_holding(artifact_id.lower()) if artifact else []
        if artifact is None or not any(can_read(uow, actor, project) for project, _ in holders):
            raise NotFound(f"Artifact {artifact_id} not found.")
        return artifact


def list_package_artifacts(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    page: int = 1,
    limit: int = 50,
) -> Page:
    """The artifacts a package holds, with how many of its uploads hold each."""
    with uow:
        pkg = readable_package(uow, actor, project, package)
        return paged(
            page, limit, lambda lim, off: uow.uploads.held_artifacts(pkg.id, limit=lim, offset=off)
        )


def list_uploads(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    page: int = 1,
    limit: int = 50,
) -> Page:
    with uow:
        pkg = readable_package(uow, actor, project, package)
        return paged(
            page, limit, lambda lim, off: uow.uploads.list_page(pkg.id, limit=lim, offset=off)
        )


def delete_package_artifact(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    artifact_id: str,
) -> int:
    """Remove an artifact from a package: its uploads, tags and versions there.

    Returns how many references were released. The blob stays until garbage collection.
    """
    with uow:
        _, pkg = writable_package(uow, actor, project, package)
        released = uow.uploads.delete_for_artifact(pkg.id, artifact_id)
        if not released:
            raise NotFound(f"Package '{package}' holds no artifact {artifact_id}.")
        uow.tags.delete_for_artifact(pkg.id, artifact_id)
        uow.versions.delete_for_artifact(pkg.id, artifact_id)
        release_references(uow, {artifact_id: released}, clock.now())
        uow.packages.touch(pkg.id, clock.now())
        uow.commit()
        return released


def latest_upload(uow: UnitOfWork, package_id: int, artifact_id: str) -> Upload | None:
    return uow.uploads.latest_for_artifact(package_id, artifact_id)


def _tag_target(uow: UnitOfWork, package_id: int, name: str) -> str | None:
    tag = uow.tags.get(package_id, name)
    return tag.artifact_id if tag else None


def _version_target(uow: UnitOfWork, package_id: int, name: str) -> str | None:
    version = uow.versions.get(package_id, name)
    return version.artifact_id if version else None
