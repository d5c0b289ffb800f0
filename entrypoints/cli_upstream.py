"""``orchard upstream``: a project's upstream index from the command line.

Runs on the server with direct database access, so it acts as an administrator, like
``orchard pypi``; the REST API (``/api/v1/projects/<p>/upstream``) checks roles instead.
The password is read from ``--password-stdin`` only (never an argument, which ``ps`` and
shell histories would show) and never printed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from domain.access import Principal
from domain.errors import DomainError
from domain.services.upstream import manage
from entrypoints.bootstrap import bootstrap
from entrypoints.config import load_settings

OPERATOR = Principal(user_id=0, username="orchard-cli", is_admin=True)


@click.group("upstream")
def upstream() -> None:
    """A project's upstream index and the cache of it.

    Settings, merging, refresh and purge.
    """


def _run(action: Callable, *arguments: object, **changes: object) -> object:
    svc = bootstrap(load_settings())
    try:
        return action(svc.upstream, OPERATOR, *arguments, **changes)
    except DomainError as error:
        raise click.ClickException(error.detail) from None


def _echo(view: manage.UpstreamView) -> None:
    click.echo(f"project:        {view.project}")
    click.echo(f"source:         {view.source}")
    click.echo(f"url:            {view.url or '(none)'}")
    click.echo(f"ttl:            {view.ttl:g} s")
    click.echo(f"cooldown:       {view.cooldown:g} s")
    click.echo(f"stale max age:  {view.stale_max_age:g} s")
    click.echo(f"negative ttl:   {view.negative_ttl:g} s")
    click.echo(f"username:       {view.username or '(none)'}")
    click.echo(f"password:       {'(set)' if view.has_password else '(none)'}")
    click.echo(f"merged names:   {', '.join(view.merge_names) or '(none)'}")
    click.echo(f"cached pages:   {view.cached_pages}")


@upstream.command("show")
@click.argument("project")
def show(project: str) -> None:
    """The upstream settings in effect for PROJECT."""
    _echo(_run(manage.show, project))  # type: ignore[arg-type]


@upstream.command("set")
@click.argument("project")
@click.option("--url", help="upstream simple index, e.g. https://pypi.org/simple/ ('' = off)")
@click.option("--ttl", type=float, help="seconds a cached page is fresh")
@click.option("--cooldown", type=float, help="hide upstream files younger than this (s)")
@click.option("--stale-max-age", type=float, help="longest a stale page is served (s)")
@click.option("--negative-ttl", type=float, help="how long a 'not found' is remembered (s)")
@click.option("--username", help="user for an upstream that needs credentials")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def set_(project: str, password_stdin: bool, **options: object) -> None:
    """Store PROJECT's own upstream settings.

    Options left out keep their value.
    """
    changes = {name: value for name, value in options.items() if value is not None}
    if password_stdin:
        changes["password"] = sys.stdin.readline().rstrip("\n") or None
    _echo(_run(manage.configure, project, **changes))  # type: ignore[arg-type]


@upstream.command("reset")
@click.argument("project")
def reset(project: str) -> None:
    """Forget PROJECT's own upstream settings.

    The default project then falls back to the environment.
    """
    _echo(_run(manage.reset, project))  # type: ignore[arg-type]


@upstream.command("merge")
@click.argument("project")
@click.argument("name")
@click.option("--off", is_flag=True, help="stop merging: the local name hides the upstream")
def merge(project: str, name: str, off: bool) -> None:
    """Merge upstream files into the local package NAME.

    Explicit, per name: never inherited.
    """
    _echo(_run(manage.set_merge, project, name, not off))  # type: ignore[arg-type]


@upstream.command("refresh")
@click.argument("project")
@click.argument("name")
def refresh(project: str, name: str) -> None:
    """Ask the upstream for NAME's page now."""
    click.echo(f"{name}: {_run(manage.refresh, project, name)}")


@upstream.command("purge")
@click.argument("project")
@click.argument("name", required=False)
@click.option("--all", "everything", is_flag=True, help="every cached page of PROJECT")
def purge(project: str, name: str | None, everything: bool) -> None:
    """Forget NAME's cached page and files (or --all).

    With --all, every cached page of PROJECT; their blobs go at the next gc.
    """
    if everything == (name is not None):
        raise click.UsageError("Name one page, or pass --all (not both).")
    if everything:
        released = _run(manage.purge_all, project)
        click.echo(f"purged the upstream cache of {project}: {released} stored file(s) released")
        return
    released = _run(manage.purge, project, name)
    click.echo(f"purged {name}: {released} stored file(s) released")
