"""A worker killed mid-upload (SIGKILL: no teardown, no abort) leaves its temporary object:
a file under ``<blobs>/.tmp/`` or an unfinished S3 multipart upload. ``orchard fsck`` and
``orchard gc`` report it (count and bytes), ``orchard gc --apply`` sweeps it, and so does
``orchard serve`` at start, each once it is older than the grace period.

A dedicated server per configuration (its workers are killed; the shared one is left be).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.factories import (
    BOUNDARY,
    create_api_key,
    create_package,
    create_project,
    login,
    multipart_content_type,
    request_head,
    unique_name,
)
from tests.harness.live_server import LiveServer, build_server, selected_configs

MIB = 1024 * 1024
SENT = 20 * MIB  # past one 8 MiB S3 part, so the multipart upload holds bytes
pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture(params=selected_configs())
def server(request: pytest.FixtureRequest, tmp_path):
    server = build_server(request.param, tmp_path, request)
    server.env["ORCHARD_MAX_UPLOAD_SIZE"] = "1G"
    server.start()
    yield server
    server.stop()


def workers_of(server: LiveServer) -> list[int]:
    """The gunicorn master's children (``orchard serve`` execs gunicorn), from /proc."""
    master, children = server.process.pid, []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited while we looked
        if int(fields[1]) == master:
            children.append(int(stat.parent.name))
    return children


def stale(server: LiveServer):
    """What a sweep with no grace would take: every temporary object now."""
    return server.blob_store().stale_temporary(datetime.now(UTC) + timedelta(hours=1))


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)


def upload_then_kill_the_workers(server: LiveServer, target: str, bearer: str) -> None:
    """Send part of a 64 MiB upload, wait until the store holds it, SIGKILL every worker."""
    head = request_head(
        server.url, "POST", target, {"Content-Type": multipart_content_type()}, 64 * MIB,
        auth=bearer,
    )  # fmt: skip
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="k.bin"\r\n\r\n'
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(head + part.encode())
        for _ in range(SENT // MIB):
            sock.sendall(os.urandom(MIB))
        wait_for(lambda: stale(server).bytes >= 8 * MIB, "the upload reaching the store")
        killed = workers_of(server)
        assert killed, "no gunicorn worker found"
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not set(workers_of(server)) & set(killed), "the killed workers to go")


def cli_json(server: LiveServer, *args: str) -> tuple[int, dict]:
    done = server.cli(*args, "--json")
    return done.returncode, json.loads(done.stdout)


def test_a_killed_upload_is_reported_by_fsck_and_gc_and_swept_by_gc_and_at_start(server):
    with login(server.url, server.admin_user, server.admin_password) as client:
        project, package = unique_name("killed"), unique_name("pkg")
        create_project(client, project)
        create_package(client, project, package)
        bearer = f"Bearer {create_api_key(client)['key']}"
    target = f"/api/v1/project/{project}/{package}/upload"

    upload_then_kill_the_workers(server, target, bearer)
    left = stale(server)
    assert left.count == 1 and left.bytes >= 8 * MIB

    status, fsck = cli_json(server, "fsck", "--grace", "3600")
    assert (status, fsck["temporary"]) == (0, 0)  # younger than the grace: not a problem yet
    status, fsck = cli_json(server, "fsck", "--grace", "0")
    assert (fsck["temporary"], fsck["temporary_bytes"]) == (1, left.bytes)
    assert status == 1 and fsck["problems"] == 1
    _, dry = cli_json(server, "gc", "--grace", "0")
    assert (dry["dry_run"], dry["temporary"], dry["temporary_bytes"]) == (True, 1, left.bytes)
    assert stale(server).count == 1  # a dry run removes nothing
    _, applied = cli_json(server, "gc", "--grace", "0", "--apply")
    assert (applied["temporary"], applied["temporary_removed"]) == (1, 1)
    assert stale(server).count == 0 == server.temp_count()

    upload_then_kill_the_workers(server, target, bearer)
    assert stale(server).count == 1
    server.stop()
    server.env["ORCHARD_GC_GRACE"] = "0"
    server.start()
    assert server.temp_count() == 0
    assert "Removed 1 stale temporary upload(s)" in server.log_text()
