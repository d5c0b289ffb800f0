"""Who may do what: the permission rules, kept out of the views.

A private project the caller cannot read is reported as missing (404), so a name or a
hash never reveals that private content exists. A caller who may read but not write gets
401 when anonymous (so clients retry with credentials) and 403 otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Forbidden, NotFound, Unauthenticated
from domain.model import Project, Role
from domain.ports import UnitOfWork


@dataclass(frozen=True)
class Principal:
    """The authenticated caller; ``None`` stands for an anonymous one."""

    user_id: int
    username: str
    is_admin: bool = False


def role_in(uow: UnitOfWork, actor: Principal | None, project: Project) -> Role | None:
    """The caller's effective role in the project (admins hold every role)."""
    if actor is None:
        return None
    if actor.is_admin:
        return Role.ADMIN
    membership = uow.members.get(project.id, actor.user_id)
    return membership.role if membership else None


def can_read(uow: UnitOfWork, actor: Principal | None, project: Project) -> bool:
    return project.is_public or role_in(uow, actor, project) is not None


def readable_project(uow: UnitOfWork, actor: Principal | None, name: str) -> Project:
    """The project, or ``NotFound`` when it is missing or hidden from the caller."""
    project = uow.projects.get(name)
    if project is None or not can_read(uow, actor, project):
        raise NotFound(f"Project '{name}' not found.")
    return project


def require_role(
    uow: UnitOfWork, actor: Principal | None, project_name: str, needed: Role
) -> Project:
    """The project if the caller holds ``needed`` in it; else NotFound/401/403."""
    return require_role_on(uow, actor, uow.projects.get(project_name), project_name, needed)


def require_role_on(
    uow: UnitOfWork,
    actor: Principal | None,
    project: Project | None,
    project_name: str,
    needed: Role,
) -> Project:
    """``require_role`` for a project already read (``None``: there is none), so a caller
    that reads the project with its package in one query asks the same rules. The
    caller's role is read once, for both the visibility and the role check."""
    role = role_in(uow, actor, project) if project is not None else None
    if project is None or not (project.is_public or role is not None):
        raise NotFound(f"Project '{project_name}' not found.")
    if role is not None and role.includes(needed):
        return project
    if actor is None:
        raise Unauthenticated("Authentication is required for this operation.")
    raise Forbidden(f"You need the '{needed.value}' role in project '{project_name}'.")


def require_authenticated(actor: Principal | None) -> Principal:
    if actor is None:
        raise Unauthenticated("Authentication is required for this operation.")
    return actor


def require_admin(actor: Principal | None) -> Principal:
    actor = require_authenticated(actor)
    if not actor.is_admin:
        raise Forbidden("Only an administrator may do this.")
    return actor
