"""``orchard admin``: users, API keys, projects and members, from the server's console.

Each command parses, calls one use case as the console ``OPERATOR``, and prints. Domain
errors become one sentence on stderr and exit status 1.
"""

from __future__ import annotations

import click

from domain.model import ApiKey, Membership, Project, User
from domain.services import admin as admin_service
from domain.services import projects, users
from domain.services.admin import OPERATOR
from entrypoints import admin_password
from entrypoints.cli_support import destructive, domain_errors, services, table

ROLES = click.Choice(["read", "write", "admin"])


@click.group("admin")
def admin() -> None:
    """Users, API keys, projects and members."""


# ------------------------------------------------------------------ users


@admin.group("users")
def users_group() -> None:
    """User accounts."""


@users_group.command("list")
def users_list() -> None:
    """List every user and whether they are an administrator."""
    svc = services()
    with domain_errors():
        found = users.list_users(svc.uow(), actor=OPERATOR)
    click.echo(table([_user_row(u) for u in found], ("USERNAME", "ADMIN", "CREATED")))


def _user_row(user: User) -> tuple:
    return (user.username, "yes" if user.is_admin else "no", _date(user.created_at))


def _create_user(username: str, password: str, is_admin: bool) -> None:
    svc = services()
    with domain_errors():
        users.add_user(
            svc.uow(),
            svc.hasher,
            svc.clock,
            username=username,
            password=password,
            is_admin=is_admin,
        )
    click.echo(f"Created user '{username}'{' (administrator)' if is_admin else ''}.")


_PASSWORD = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="8 to 1024 characters (asked for, twice, when not given)",
)
_ADMIN_FLAG = click.option(
    "--admin/--no-admin", "is_admin", default=False, help="make the user an administrator"
)


@users_group.command("create")
@click.argument("username")
@_PASSWORD
@_ADMIN_FLAG
def users_create(username: str, password: str, is_admin: bool) -> None:
    """Create a user (prompts for the password unless --password)."""
    _create_user(username, password, is_admin)


@admin.command("create-user")
@click.argument("username")
@_PASSWORD
@_ADMIN_FLAG
def create_user(username: str, password: str, is_admin: bool) -> None:
    """Create a user (same as 'admin users create')."""
    _create_user(username, password, is_admin)


@users_group.command("delete")
@click.argument("username")
@destructive("Delete user '{username}' with their API keys and memberships?")
def users_delete(username: str) -> None:
    """Delete a user with their API keys and memberships."""
    svc = services()
    with domain_errors():
        users.delete_user(svc.uow(), actor=OPERATOR, username=username)
    click.echo(f"Deleted user '{username}'.")


@users_group.command("set-password")
@click.argument("username")
@_PASSWORD
def users_set_password(username: str, password: str) -> None:
    """Set a user's password (prompted for unless --password)."""
    svc = services()
    with domain_errors():
        users.set_password(svc.uow(), svc.hasher, username=username, password=password)
    click.echo(f"Changed the password of '{username}'.")
    if admin_password.discard_if_changed(svc):  # the generated one is no longer needed
        click.echo(f"Removed {admin_password.path_of(svc.settings)}.")


@users_group.command("set-admin")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="take the administrator flag away")
def users_set_admin(username: str, revoke: bool) -> None:
    """Make a user an administrator (--revoke: no longer)."""
    svc = services()
    with domain_errors():
        admin_service.set_admin(svc.uow(), username=username, is_admin=not revoke)
    click.echo(f"'{username}' is {'no longer' if revoke else 'now'} an administrator.")


# ------------------------------------------------------------------ API keys


@admin.group("keys")
def keys_group() -> None:
    """API keys of any user."""


@keys_group.command("list")
@click.argument("username")
def keys_list(username: str) -> None:
    """List a user's API keys (never their secrets)."""
    svc = services()
    with domain_errors():
        found = admin_service.list_user_keys(svc.uow(), username=username)
    click.echo(table([_key_row(k) for k in found], ("ID", "NAME", "PREFIX", "CREATED", "USED")))


def _key_row(key: ApiKey) -> tuple:
    return (key.id, key.name, key.prefix + "...", _date(key.created_at), _date(key.last_used_at))


def _create_key(username: str, name: str) -> None:
    svc = services(hashes_keys=True)
    with domain_errors():
        created = users.create_api_key(
            svc.uow(),
            svc.clock,
            actor=OPERATOR,
            name=name,
            pepper=svc.pepper,
            for_username=username,
        )
    click.echo(created.secret)
    click.echo(f"Created API key {created.key.id} for '{username}'; shown once.", err=True)


@keys_group.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="a label for the key")
def keys_create(username: str, name: str) -> None:
    """Create an API key for a user; prints its secret, shown once."""
    _create_key(username, name)


@admin.command("create-key")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="a label for the key")
def create_key(username: str, name: str) -> None:
    """Create an API key (same as 'admin keys create')."""
    _create_key(username, name)


@keys_group.command("revoke")
@click.argument("username")
@click.argument("key_id", type=int)
@destructive("Revoke API key {key_id} of '{username}'? Clients using it will fail.")
def keys_revoke(username: str, key_id: int) -> None:
    """Revoke a user's API key: requests carrying it fail at once."""
    svc = services()
    with domain_errors():
        admin_service.revoke_user_key(svc.uow(), username=username, key_id=key_id)
    click.echo(f"Revoked API key {key_id} of '{username}'.")


# ------------------------------------------------------------------ projects


@admin.group("projects")
def projects_group() -> None:
    """Projects."""


@projects_group.command("list")
def projects_list() -> None:
    """List every project, public and private."""
    svc = services()
    rows, page = [], 1
    with domain_errors():
        while True:
            found = projects.list_projects(svc.uow(), actor=OPERATOR, page=page, limit=1000)
            rows += [_project_row(p) for p in found.items]
            if page >= found.pages:
                break
            page += 1
    click.echo(table(rows, ("NAME", "VISIBILITY", "CREATED", "DESCRIPTION")))


def _project_row(project: Project) -> tuple:
    visibility = "public" if project.is_public else "private"
    return (project.name, visibility, _date(project.created_at), project.description)


@projects_group.command("create")
@click.argument("name")
@click.option("--description", default="", help="one line shown in listings")
@click.option("--private", is_flag=True, help="readable by members only")
def projects_create(name: str, description: str, private: bool) -> None:
    """Create a project (public unless --private)."""
    svc = services()
    with domain_errors():
        projects.create_project(
            svc.uow(),
            svc.clock,
            actor=OPERATOR,
            name=name,
            description=description,
            is_public=not private,
        )
    click.echo(f"Created {'private' if private else 'public'} project '{name}'.")


@projects_group.command("delete")
@click.argument("name")
@destructive("Delete project '{name}' and everything in it?")
def projects_delete(name: str) -> None:
    """Delete a project and everything in it.

    Its blobs are freed by 'orchard gc' after the grace period.
    """
    svc = services()
    with domain_errors():
        projects.delete_project(svc.uow(), svc.clock, actor=OPERATOR, name=name)
    click.echo(f"Deleted project '{name}'.")


def _set_visibility(name: str, public: bool) -> None:
    svc = services()
    with domain_errors():
        projects.update_project(svc.uow(), svc.clock, actor=OPERATOR, name=name, is_public=public)
    click.echo(f"Project '{name}' is now {'public' if public else 'private'}.")


@projects_group.command("set-public")
@click.argument("name")
def projects_set_public(name: str) -> None:
    """Make a project readable by anyone."""
    _set_visibility(name, True)


@projects_group.command("set-private")
@click.argument("name")
def projects_set_private(name: str) -> None:
    """Make a project readable by its members only."""
    _set_visibility(name, False)


# ------------------------------------------------------------------ members


@admin.group("members")
def members_group() -> None:
    """Who may read, write or administer a project."""


@members_group.command("list")
@click.argument("project")
def members_list(project: str) -> None:
    """List a project's members and their roles."""
    svc = services()
    with domain_errors():
        found = projects.list_members(svc.uow(), actor=OPERATOR, project=project)
    click.echo(table([_member_row(m) for m in found], ("USERNAME", "ROLE", "SINCE")))


def _member_row(member: Membership) -> tuple:
    return (member.username, member.role.value, _date(member.created_at))


@members_group.command("set")
@click.argument("project")
@click.argument("username")
@click.argument("role", type=ROLES)
def members_set(project: str, username: str, role: str) -> None:
    """Give a user a role in a project, replacing any other."""
    svc = services()
    with domain_errors():
        projects.set_member(
            svc.uow(), svc.clock, actor=OPERATOR, project=project, username=username, role=role
        )
    click.echo(f"'{username}' now has the '{role}' role in '{project}'.")


@members_group.command("remove")
@click.argument("project")
@click.argument("username")
def members_remove(project: str, username: str) -> None:
    """Take a user's role in a project away."""
    svc = services()
    with domain_errors():
        projects.remove_member(svc.uow(), actor=OPERATOR, project=project, username=username)
    click.echo(f"Removed '{username}' from '{project}'.")


def _date(value) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M") if value else None
