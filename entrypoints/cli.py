"""The ``orchard`` command: serve and migrate here; the administration commands live in
``cli_admin.py`` and the maintenance walks (gc, fsck, export, import) in
``cli_maintenance.py``, registered below."""

from __future__ import annotations

import click

from entrypoints import cli_maintenance
from entrypoints.cli_admin import admin
from entrypoints.cli_group import OrchardGroup
from entrypoints.cli_pypi import pypi as pypi_group
from entrypoints.cli_selftest import selftest
from entrypoints.config import load_settings
from entrypoints.serve import run_server
from entrypoints.startup import migrate


@click.group(cls=OrchardGroup)
def main() -> None:
    """Orchard: a content-addressed artifact repository and Python package index."""


@main.command()
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="gunicorn worker processes"
)
def serve(workers: int | None) -> None:
    """Migrate, create the first admin, then serve with gunicorn."""
    run_server(workers)


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
main.add_command(selftest)  # orchard selftest: upload, install, import (cli_selftest.py)
