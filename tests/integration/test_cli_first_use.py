"""The real ``orchard`` executable where no Orchard lives yet, and ``db upgrade``'s report.

A command that reads never creates a data directory; a missing or unmigrated database is
named as such (with ORCHARD_DATA_DIR, the path and the command that creates it), never
"unavailable"."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from adapters.migrations import head, upgrade
from tests.harness.live_server import ORCHARD

pytestmark = pytest.mark.integration

READERS = [
    ("admin", "users", "list"),
    ("admin", "keys", "list", "admin"),
    ("admin", "projects", "list"),
    ("admin", "members", "list", "team"),
    ("fsck",),
    ("gc",),
    ("export", "team", "--output", "team.tar"),
    ("pypi", "yank", "team", "pkg", "--version", "1.0"),
]


def orchard(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    return subprocess.run(
        [ORCHARD, *args], cwd=cwd, env={**clean, **env}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_command_in_an_empty_directory_creates_nothing_and_says_how_to_start(tmp_path, args):
    result = orchard(tmp_path, *args)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert "No Orchard database at" in message and "ORCHARD_DATA_DIR=./orchard-data" in message
    assert str(tmp_path / "orchard-data") in message
    assert "orchard db upgrade" in message and "orchard serve" in message
    assert "unavailable" not in message
    assert list(tmp_path.iterdir()) == []


def test_a_named_data_directory_that_does_not_exist_is_named_and_not_created(tmp_path):
    missing = tmp_path / "nowhere" / "orchard"
    result = orchard(tmp_path, "admin", "users", "list", ORCHARD_DATA_DIR=str(missing))
    assert result.returncode == 1
    assert f"ORCHARD_DATA_DIR={missing}" in " ".join(result.stderr.split())
    assert not (tmp_path / "nowhere").exists()


def test_an_empty_database_file_is_reported_as_having_no_schema(tmp_path):
    (tmp_path / "orchard-data").mkdir()
    sqlite3.connect(tmp_path / "orchard-data" / "orchard.db").close()
    result = orchard(tmp_path, "admin", "users", "list")
    assert result.returncode == 1
    assert "has no Orchard schema yet" in result.stderr
    assert "no such table" not in result.stderr.lower()


def test_an_old_schema_names_its_revision_and_the_upgrade(tmp_path):
    (tmp_path / "orchard-data").mkdir()
    upgrade(f"sqlite:///{tmp_path / 'orchard-data' / 'orchard.db'}", "0002")
    result = orchard(tmp_path, "admin", "users", "list")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert f"is at schema revision 0002, and this Orchard expects {head()}" in message
    assert "run 'orchard db upgrade'" in message


def test_an_unreachable_database_is_named_without_its_password(tmp_path):
    url = "postgresql+psycopg://orchard:s3cret@127.0.0.1:1/orchard"
    result = orchard(tmp_path, "admin", "users", "list", ORCHARD_DATABASE_URL=url)
    assert result.returncode == 1
    assert "Cannot reach the database at postgresql+psycopg://orchard:***@127.0.0.1:1" in (
        result.stderr
    )
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr


def test_db_upgrade_says_it_created_then_that_there_was_nothing_to_do(tmp_path):
    first = orchard(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"Created the database schema (revision {head()})."
    second = orchard(tmp_path, "db", "upgrade")
    assert "Nothing to do" in second.stdout and head() in second.stdout
    listed = orchard(tmp_path, "admin", "users", "list")
    assert listed.returncode == 0 and listed.stdout.startswith("USERNAME")


def test_db_upgrade_names_the_revisions_it_upgraded_between(tmp_path):
    (tmp_path / "orchard-data").mkdir()
    upgrade(f"sqlite:///{tmp_path / 'orchard-data' / 'orchard.db'}", "0002")
    result = orchard(tmp_path, "db", "upgrade")
    assert result.stdout.strip() == f"Upgraded the database schema from revision 0002 to {head()}."
