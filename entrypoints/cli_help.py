"""The texts ``orchard --help`` and ``orchard serve --help`` end with: where the
configuration comes from, every setting with its default, and the data directory in use.

Built when help is asked for, from ``Settings`` itself, so a new setting shows up here
without anyone remembering to document it twice.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, fields
from pathlib import Path

import click

from entrypoints.cli_group import OrchardGroup
from entrypoints.config import Settings, load_settings

# Settings whose value is a secret: help says whether one is set, never what it is.
SECRET_SETTINGS = {
    "admin_password",
    "secret_key",
    "s3_secret_key",
    "s3_access_key",
    "upstream_password",
}
_DEFAULT_NOTES = {
    "data_dir": "./orchard-data",
    "database_url": "SQLite in the data dir",
    "blob_dir": "<data dir>/blobs",
    "admin_password": "generated, printed once",
    "secret_key": "generated into the data dir",
    "s3_endpoint": "AWS",
    "max_upload_size": "10G",
}


def variable(name: str) -> str:
    return f"ORCHARD_{name.upper()}"


def data_dir_line() -> str:
    try:
        data_dir = load_settings().data_dir
    except ValueError:  # a bad setting elsewhere must not hide the help
        data_dir = os.environ.get("ORCHARD_DATA_DIR", Settings.data_dir)
    return f"Data directory (ORCHARD_DATA_DIR): {data_dir}, that is {Path(data_dir).resolve()}"


def settings_rows() -> list[tuple[str, str]]:
    """(variable, "default ...; set to ...") for every setting."""
    rows = []
    for spec in fields(Settings):
        name = variable(spec.name)
        default = _DEFAULT_NOTES.get(spec.name)
        if default is None and spec.default is not MISSING:
            default = str(spec.default) if spec.default != "" else "(none)"
        text = f"default {default}"
        value = os.environ.get(name)
        if value is not None:
            text += "; set here" if spec.name in SECRET_SETTINGS else f"; set here to {value}"
        rows.append((name, text))
    return rows


class MainGroup(OrchardGroup):
    """``orchard --help`` ends with where configuration lives and the data directory."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Configuration"):
            formatter.write_text(
                "Every setting is an ORCHARD_* environment variable (or a KEY=value line in "
                "the file named by ORCHARD_CONFIG_FILE; the environment wins). "
                "'orchard serve --help' lists them all with their defaults; the README's "
                "Configuration table says what each means. Run the administration commands "
                "with the server's settings."
            )
            formatter.write_paragraph()
            formatter.write_text(data_dir_line())


class ServeCommand(click.Command):
    """``orchard serve --help`` lists every setting, its default and the value set here."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Settings (environment variables)"):
            formatter.write_dl(settings_rows())
            formatter.write_paragraph()
            formatter.write_text(
                "Also ORCHARD_CONFIG_FILE: a file of KEY=value lines read first. "
                + data_dir_line()
                + "."
            )
