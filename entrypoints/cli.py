"""The ``orchard`` command: serve and migrate here; the administration commands live in
``cli_admin.py`` and the maintenance walks (gc, fsck, export, import) in
``cli_maintenance.py``, registered below."""

from __future__ import annotations

import os
import sys

import click

from entrypoints import cli_maintenance
from entrypoints.bootstrap import bootstrap
from entrypoints.cli_admin import admin
from entrypoints.cli_pypi import pypi as pypi_group
from entrypoints.cli_upstream import upstream as upstream_group
from entrypoints.config import load_settings
from entrypoints.http.metrics import prepare_multiprocess_dir
from entrypoints.startup import migrate, prepare


@click.group()
def main() -> None:
    """Orchard: a content-addressed artifact repository and Python package index."""


@main.command()
@click.option("--workers", type=int, default=None, help="gunicorn worker processes")
def serve(workers: int | None) -> None:
    """Migrate, create the first admin, then serve with gunicorn."""
    settings = load_settings()
    migrate(settings)
    prepare(bootstrap(settings), announce=click.echo)
    prepare_multiprocess_dir(settings.data_dir)  # fresh metrics files for this run
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:entrypoints.gunicorn_config",
        "entrypoints.wsgi:create_app()",
    ]
    if workers:
        argv[5:5] = ["--workers", str(workers)]
    click.echo(f"Orchard listening on http://{settings.host}:{settings.port}", err=True)
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with gunicorn


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (idempotent)."""
    migrate(load_settings())
    click.echo("Database is up to date.")


main.add_command(admin)  # orchard admin users|keys|projects|members ... (cli_admin.py)
for _command in cli_maintenance.COMMANDS:  # orchard gc|fsck|export|import (cli_maintenance.py)
    main.add_command(_command)
main.add_command(pypi_group)
main.add_command(upstream_group)  # orchard upstream ... (cli_upstream.py)
