"""Tags (mutable, with history) and versions (immutable) of a package."""

from __future__ import annotations

from domain import names
from domain.access import Principal
from domain.errors import Conflict, InvalidInput, NotFound
from domain.model import Page, Tag, TagChange, Version
from domain.ports import Clock, UnitOfWork
from domain.services.paging import paged
from domain.services.projects import readable_package, writable_package
from domain.services.pypi import manage as pypi_manage


def list_tags(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    search: str | None = None,
    page: int = 1,
    limit: int = 50,
) -> Page:
    with uow:
        pkg = readable_package(uow, actor, project, package)
        return paged(
            page,
            limit,
            lambda lim, off: uow.tags.list_page(pkg.id, search=search, limit=lim, offset=off),
        )


def get_tag(
    uow: UnitOfWork, *, actor: Principal | None, project: str, package: str, name: str
) -> Tag:
    with uow:
        pkg = readable_package(uow, actor, project, package)
        tag = uow.tags.get(pkg.id, name)
        if tag is None:
            raise NotFound(f"Tag '{name}' not found in package '{package}'.")
        return tag


def set_tag(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    name: str,
    artifact_id: str,
) -> Tag:
    """Point a tag at an artifact the package holds, keeping the move in its history."""
    name = names.validate_tag_name(name)
    if not names.is_artifact_id(artifact_id or ""):
        raise InvalidInput("artifact_id must be a 64-character lowercase hex SHA-256.")
    with uow:
        _, pkg = writable_package(uow, actor, project, package)
        if not uow.uploads.package_holds(pkg.id, artifact_id):
            raise NotFound(f"Package '{package}' holds no artifact {artifact_id}.")
        uow.tags.set(pkg.id, name, artifact_id, clock.now(), actor.username if actor else None)
        uow.packages.touch(pkg.id, clock.now())
        tag = uow.tags.get(pkg.id, name)
        uow.commit()
    if tag is None:  # cannot be: set() just wrote it in this transaction
        raise Conflict(f"Tag '{name}' could not be read back; try again.")
    return tag


def delete_tag(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    name: str,
) -> None:
    with uow:
        _, pkg = writable_package(uow, actor, project, package)
        if not uow.tags.delete(pkg.id, name):
            raise NotFound(f"Tag '{name}' not found in package '{package}'.")
        uow.packages.touch(pkg.id, clock.now())
        uow.commit()


def tag_history(
    uow: UnitOfWork, *, actor: Principal | None, project: str, package: str, name: str
) -> list[TagChange]:
    with uow:
        pkg = readable_package(uow, actor, project, package)
        history = uow.tags.history(pkg.id, name)
        if not history:
            raise NotFound(f"Tag '{name}' has no history in package '{package}'.")
        return history


def list_versions(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    search: str | None = None,
    page: int = 1,
    limit: int = 50,
) -> Page:
    with uow:
        pkg = readable_package(uow, actor, project, package)
        return paged(
            page,
            limit,
            lambda lim, off: uow.versions.list_page(pkg.id, search=search, limit=lim, offset=off),
        )


def get_version(
    uow: UnitOfWork, *, actor: Principal | None, project: str, package: str, version: str
) -> Version:
    with uow:
        pkg = readable_package(uow, actor, project, package)
        found = uow.versions.get(pkg.id, version)
        if found is None:
            raise NotFound(f"Version '{version}' not found in package '{package}'.")
        return found


def delete_version(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    version: str,
) -> None:
    """Remove the version name; the uploads (and so the references) stay. In a pypi
    package the version is a release: its files are deleted (tombstoned) with it."""
    with uow:
        _, pkg = writable_package(uow, actor, project, package)
        released = pypi_manage.delete_release(uow, pkg, version, clock.now())
        if not uow.versions.delete(pkg.id, version) and not released:
            raise NotFound(f"Version '{version}' not found in package '{package}'.")
        uow.packages.touch(pkg.id, clock.now())
        uow.commit()
