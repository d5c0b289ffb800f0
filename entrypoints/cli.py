"""The ``orchard`` command: serve and migrate here; the administration commands live in
``cli_admin.py`` and the maintenance walks (gc, fsck, export, import) in
``cli_maintenance.py``, registered below."""

from __future__ import annotations

import click

from entrypoints import cli_maintenance
from entrypoints.cli_admin import admin
from entrypoints.cli_help import MainGroup, ServeCommand
from entrypoints.cli_pypi import pypi as pypi_group
from entrypoints.cli_selftest import selftest
from entrypoints.cli_upstream import upstream as upstream_group
from entrypoints.config import load_settings
from entrypoints.schema_check import upgrade_report
from entrypoints.serve import run_server
from entrypoints.startup import migrate


@click.group(cls=MainGroup)
@click.version_option(package_name="orchard", prog_name="orchard")
def main() -> None:
    """Orchard: a content-addressed artifact repository and Python package index."""


@main.command(cls=ServeCommand)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="gunicorn worker processes"
)
def serve(workers: int | None) -> None:
    """Migrate, create the first admin, then serve with gunicorn.

    Creates the data directory and the database on first start.
    """
    run_server(workers)


@main.group()
def db() -> None:
    """Database schema: create or upgrade it."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the schema or apply pending migrations (idempotent)."""
    done = migrate(load_settings())
    click.echo(upgrade_report(done.before, done.after))


main.add_command(admin)  # orchard admin users|keys|projects|members ... (cli_admin.py)
for _command in cli_maintenance.COMMANDS:  # orchard gc|fsck|export|import (cli_maintenance.py)
    main.add_command(_command)
main.add_command(pypi_group)
main.add_command(selftest)  # orchard selftest: upload, install, import (cli_selftest.py)
main.add_command(upstream_group)  # orchard upstream ... (cli_upstream.py)
