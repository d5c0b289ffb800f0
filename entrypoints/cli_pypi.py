"""``orchard pypi``: yank, unyank and delete distributions from the command line.

The CLI runs on the server with direct access to the database, so it acts as an
administrator (like ``orchard admin``); the HTTP API checks roles instead.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from domain.access import Principal
from domain.errors import DomainError
from domain.services.pypi import manage
from entrypoints.cli_support import destructive, services

OPERATOR = Principal(user_id=0, username="orchard-cli", is_admin=True)


@click.group("pypi")
def pypi() -> None:
    """Python packages: yank, unyank or delete files and releases."""


def _target(command: Callable) -> Callable:
    command = click.option("--file", "filename", help="one distribution file")(command)
    command = click.option("--version", help="every file of a release")(command)
    command = click.argument("package")(command)
    return click.argument("project")(command)


def _run(action: Callable, verb: str, **arguments: object) -> None:
    svc = services()
    try:
        changed = action(svc.uow(), svc.clock, actor=OPERATOR, **arguments)
    except DomainError as error:
        raise click.ClickException(error.detail) from None
    for filename in changed:
        click.echo(f"{verb} {filename}")


@pypi.command("yank")
@_target
@click.option("--reason", default=None, help="shown to pip users (PEP 592)")
def yank(project: str, package: str, version: str, filename: str, reason: str | None) -> None:
    """Yank a file or a release: pip skips it unless pinned (==)."""
    _run(
        manage.yank,
        "yanked",
        project=project,
        package=package,
        filename=filename,
        version=version,
        reason=reason,
    )


@pypi.command("unyank")
@_target
def unyank(project: str, package: str, version: str, filename: str) -> None:
    """Undo a yank."""
    _run(
        manage.unyank,
        "unyanked",
        project=project,
        package=package,
        filename=filename,
        version=version,
    )


@pypi.command("delete")
@_target
@destructive(
    lambda project, package, version, filename: (
        f"Delete {f'release {version}' if version else filename} of {package} in "
        f"'{project}' for good? Its filenames can never be uploaded again with other bytes."
    )
)
def delete(project: str, package: str, version: str, filename: str) -> None:
    """Delete a file or a release, for good.

    Its filenames can never be reused with other bytes.
    """
    _run(
        manage.delete,
        "deleted",
        project=project,
        package=package,
        filename=filename,
        version=version,
    )
