"""Long walks show a bar with a total, a percentage and the time left on a terminal, and
print nothing but their report into a pipe or a log."""

from __future__ import annotations

import re

import pytest

from tests.factories import unique_content, unique_name, upload_test_file
from tests.harness.live_server import ORCHARD
from tests.harness.terminal import run_on_terminal

pytestmark = pytest.mark.integration

BAR = re.compile(r"Checking blobs: 100%\|.*\| (\d+)/\1 blobs \[\d\d:\d\d<\d\d:\d\d\]")


@pytest.fixture
def stored(admin_client):
    project = unique_name("bars")
    admin_client.post("/api/v1/projects", json={"name": project})
    admin_client.post(f"/api/v1/project/{project}/packages", json={"name": "pkg"})
    upload_test_file(admin_client, project, "pkg", unique_content("bar"), "bar.bin")
    yield
    admin_client.delete(f"/api/v1/projects/{project}")


def test_fsck_on_a_terminal_shows_a_bar_with_total_percentage_and_time_left(live_server, stored):
    status, output = run_on_terminal([ORCHARD, "fsck"], live_server.env)
    assert status in (0, 1), output  # 1: a problem another test left in the shared store
    assert BAR.search(output), output
    assert "Checked " in output


@pytest.mark.parametrize("command", [("fsck",), ("gc",)])
def test_into_a_pipe_a_walk_prints_its_report_and_nothing_else(live_server, stored, command):
    result = live_server.cli(*command)
    assert result.stderr == ""
    assert "%" not in result.stdout and len(result.stdout.splitlines()) >= 1
