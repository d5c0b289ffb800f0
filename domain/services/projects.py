"""Use cases for projects, packages and project members."""

from __future__ import annotations

from domain import names
from domain.access import (
    Principal,
    readable_project,
    require_authenticated,
    require_role,
    require_role_on,
)
from domain.errors import AlreadyExists, InvalidInput, NotFound
from domain.model import Membership, Package, PackageFormat, Page, Project, Role
from domain.ports import Clock, UnitOfWork
from domain.services.paging import paged
from domain.services.references import release_references


def create_project(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Principal | None,
    name: str,
    description: str = "",
    is_public: bool = True,
    allow_overwrite: bool = False,
) -> Project:
    """Create a project; its creator becomes its admin."""
    actor = require_authenticated(actor)
    name = names.validate_project_name(name)
    with uow:
        if uow.projects.get(name) is not None:
            raise AlreadyExists(f"Project '{name}' already exists.")
        now = clock.now()
        project = uow.projects.add(
            Project(
                name=name,
                description=description,
                is_public=is_public,
                allow_overwrite=allow_overwrite,
                created_at=now,
                updated_at=now,
                created_by=actor.username,
            )
        )
        if not actor.is_admin:
            uow.members.set(Membership(project.id, actor.user_id, Role.ADMIN, created_at=now))
        uow.commit()
        return project


def ensure_project(uow: UnitOfWork, clock: Clock, *, name: str, is_public: bool = True) -> None:
    """Create a project at start-up if it is missing (the default index project).

    Instances started together all find it missing; the ones that lose the insert
    see ``AlreadyExists``, which here means the goal is met, not an error."""
    with uow:
        if uow.projects.get(name) is not None:
            return
        now = clock.now()
        try:
            uow.projects.add(
                Project(
                    name=name,
                    is_public=is_public,
                    created_at=now,
                    updated_at=now,
                    description="The default package index",
                )
            )
        except AlreadyExists:
            return
        uow.commit()


def get_project(uow: UnitOfWork, *, actor: Principal | None, name: str) -> Project:
    with uow:
        return readable_project(uow, actor, name)


def list_projects(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    search: str | None = None,
    page: int = 1,
    limit: int = 50,
) -> Page:
    with uow:
        return paged(
            page,
            limit,
            lambda lim, off: uow.projects.list_page(
                visible_to_user_id=actor.user_id if actor else None,
                include_all=bool(actor and actor.is_admin),
                search=search,
                limit=lim,
                offset=off,
            ),
        )


def update_project(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Principal | None,
    name: str,
    description: str | None = None,
    is_public: bool | None = None,
    allow_overwrite: bool | None = None,
) -> Project:
    with uow:
        project = require_role(uow, actor, name, Role.ADMIN)
        if description is not None:
            project.description = description
        if is_public is not None:
            project.is_public = is_public
        if allow_overwrite is not None:
            project.allow_overwrite = allow_overwrite
        project.updated_at = clock.now()
        uow.projects.update(project)
        uow.commit()
        return project


def delete_project(uow: UnitOfWork, clock: Clock, *, actor: Principal | None, name: str) -> None:
    """Delete a project and release every reference its uploads held."""
    with uow:
        project = require_role(uow, actor, name, Role.ADMIN)
        release_references(
            uow, uow.uploads.references_by_artifact(project_id=project.id), clock.now()
        )
        uow.projects.delete(project.id)
        uow.commit()


def create_package(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Principal | None,
    project: str,
    name: str,
    description: str = "",
    format: str = "generic",
) -> Package:
    package_format = _package_format(format)
    name = names.validate_package_name(name, pypi=package_format is PackageFormat.PYPI)
    with uow:
        owner = require_role(uow, actor, project, Role.WRITE)
        if uow.packages.get(owner.id, name) is not None:
            raise AlreadyExists(f"Package '{name}' already exists in project '{project}'.")
        package = uow.packages.add(
            Package(
                project_id=owner.id,
                name=name,
                format=package_format,
                description=description,
                created_at=clock.now(),
                project_name=owner.name,
            )
        )
        uow.commit()
        return package


def get_package(uow: UnitOfWork, *, actor: Principal | None, project: str, name: str) -> Package:
    with uow:
        return readable_package(uow, actor, project, name)


def readable_package(uow: UnitOfWork, actor: Principal | None, project: str, name: str) -> Package:
    """The package, or NotFound when it or its project is missing or hidden."""
    owner = readable_project(uow, actor, project)
    package = package_named(uow, owner.id, name)
    if package is None:
        raise NotFound(f"Package '{name}' not found in project '{project}'.")
    package.project_name = owner.name
    return package


def writable_package(
    uow: UnitOfWork, actor: Principal | None, project: str, name: str
) -> tuple[Project, Package]:
    # One read for the project and its package: every upload asks this twice, once
    # before its body and once inside its transaction (on SQLite, holding the lock).
    found = uow.packages.find(project, name)
    owner = require_role_on(uow, actor, found[0] if found else None, project, Role.WRITE)
    package = found[1] if found else None
    if package is None:
        package = _folded_package(uow, owner.id, name)
    if package is None:
        raise NotFound(f"Package '{name}' not found in project '{project}'.")
    package.project_name = owner.name
    return owner, package


def package_named(uow: UnitOfWork, project_id: int, name: str) -> Package | None:
    """The package of exactly that name, else the Python package that name folds to.

    A ``pypi`` package is stored under its PEP 503 name (``nc-hello``), and people write
    it as they import or publish it (``nc_hello``, ``NC.Hello``): every spelling that
    folds to the stored name finds it, as under ``/simple/``. Generic names are exact.
    """
    package = uow.packages.get(project_id, name)
    if package is not None:
        return package
    return _folded_package(uow, project_id, name)


def _folded_package(uow: UnitOfWork, project_id: int, name: str) -> Package | None:
    """The ``pypi`` package another spelling of ``name`` folds to (PEP 503), if any."""
    folded = names.normalize_pypi_name(name)
    if folded == name:
        return None
    package = uow.packages.get(project_id, folded)
    return package if package is not None and package.format is PackageFormat.PYPI else None


def list_packages(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    project: str,
    search: str | None = None,
    format: str | None = None,
    page: int = 1,
    limit: int = 50,
) -> Page:
    with uow:
        owner = readable_project(uow, actor, project)
        found = paged(
            page,
            limit,
            lambda lim, off: uow.packages.list_page(
                owner.id, search=search, format=format, limit=lim, offset=off
            ),
        )
    for item in found.items:
        item.project_name = owner.name
    return found


def delete_package(
    uow: UnitOfWork, clock: Clock, *, actor: Principal | None, project: str, name: str
) -> None:
    """Delete a package and release every reference its uploads held."""
    with uow:
        _, package = writable_package(uow, actor, project, name)
        release_references(
            uow, uow.uploads.references_by_artifact(package_id=package.id), clock.now()
        )
        uow.packages.delete(package.id)
        uow.commit()


def list_members(uow: UnitOfWork, *, actor: Principal | None, project: str) -> list[Membership]:
    with uow:
        owner = require_role(uow, actor, project, Role.READ)
        return uow.members.list_for_project(owner.id)


def set_member(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Principal | None,
    project: str,
    username: str,
    role: str,
) -> Membership:
    member_role = _role(role)
    with uow:
        owner = require_role(uow, actor, project, Role.ADMIN)
        user = uow.users.get(username)
        if user is None:
            raise NotFound(f"User '{username}' not found.")
        membership = Membership(
            owner.id, user.id, member_role, username=user.username, created_at=clock.now()
        )
        uow.members.set(membership)
        uow.commit()
        return membership


def get_member(
    uow: UnitOfWork, *, actor: Principal | None, project: str, username: str
) -> Membership:
    with uow:
        owner = require_role(uow, actor, project, Role.READ)
        user = uow.users.get(username)
        membership = uow.members.get(owner.id, user.id) if user else None
        if user is None or membership is None:
            raise NotFound(f"User '{username}' is not a member of project '{project}'.")
        membership.username = user.username
        return membership


def remove_member(uow: UnitOfWork, *, actor: Principal | None, project: str, username: str) -> None:
    with uow:
        owner = require_role(uow, actor, project, Role.ADMIN)
        user = uow.users.get(username)
        if user is None or not uow.members.delete(owner.id, user.id):
            raise NotFound(f"User '{username}' is not a member of project '{project}'.")
        uow.commit()


def _package_format(value: str) -> PackageFormat:
    try:
        return PackageFormat(value)
    except ValueError:
        raise InvalidInput(f"Unknown package format '{value}': use 'generic' or 'pypi'.") from None


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(f"Unknown role '{value}': use 'read', 'write' or 'admin'.") from None
