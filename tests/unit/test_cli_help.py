"""Every command explains itself: a one-line help for each, the settings and the data
directory in ``orchard --help`` and ``orchard serve --help``, and ``--version``."""

from __future__ import annotations

from dataclasses import fields
from importlib.metadata import version

import click
import pytest
from click.testing import CliRunner

from entrypoints.cli import main
from entrypoints.config import Settings
from entrypoints.schema_check import upgrade_report

pytestmark = pytest.mark.unit


def walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from walk(sub, (*path, name))


COMMANDS = list(walk(main))[1:]  # every subcommand: each appears in its group's listing


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_a_one_line_help_that_fits_its_listing(path, command):
    assert command.help, f"orchard {' '.join(path)} has no help"
    short = command.get_short_help_str(limit=60)
    assert short and not short.endswith("..."), f"orchard {' '.join(path)}: {short!r}"


def test_the_walk_finds_the_commands_that_had_no_help():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"admin users list", "admin keys revoke", "admin members remove", "pypi delete"} <= names


def test_version_prints_the_installed_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"orchard, version {version('orchard')}"


def test_help_names_the_settings_and_the_data_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("ORCHARD_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "ORCHARD_*" in result.output and "ORCHARD_CONFIG_FILE" in result.output
    assert "ORCHARD_DATA_DIR" in result.output
    assert str(tmp_path / "data") in result.output.replace("\n", "").replace(" ", "")


def test_serve_help_lists_every_setting_with_its_default_and_hides_secrets(monkeypatch):
    monkeypatch.setenv("ORCHARD_PORT", "9123")
    monkeypatch.setenv("ORCHARD_SECRET_KEY", "do-not-print-me")
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for spec in fields(Settings):
        assert f"ORCHARD_{spec.name.upper()}" in result.output
    assert "set here to 9123" in result.output
    assert "do-not-print-me" not in result.output


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, "0003", "Created the database schema (revision 0003)."),
        ("0002", "0003", "Upgraded the database schema from revision 0002 to 0003."),
        ("0003", "0003", "Nothing to do: the database is already at the newest revision (0003)."),
    ],
)
def test_db_upgrade_says_what_it_did(before, after, expected):
    assert upgrade_report(before, after) == expected


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_option_says_what_it_does(path, command):
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert param.help, f"orchard {' '.join(path)} {param.opts[0]} has no help"
