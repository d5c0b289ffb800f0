"""What the gunicorn master shares with its workers, and what a worker builds only on use.

Issue #19 ("Memory per worker"): the master imports the application and parses
botocore's S3 data before the fork (shared copy-on-write), but creates nothing that
holds a connection; each worker builds its S3 client over that preloaded data; the
upstream HTTP client (an SSL context with the CA bundle) is made on its first call; a
worker hands the heap an upload freed back to the kernel. Real parts throughout: fresh
interpreters doing what the master and a worker do, moto, PostgreSQL, a fake upstream
and a live ``orchard serve``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.blobstore_s3 import S3BlobStore, botocore_loader, preload_botocore_data
from tests.harness.live_server import LiveServer, s3_env, server_env
from tests.harness.postgres import fresh_database

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
REPO = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: what the gunicorn master does before forking, then a census
# of what exists in the process (objects and open sockets).
MASTER = """
import gc, json, os, ssl, socket, sys
from entrypoints import gunicorn_config
gunicorn_config.on_starting(None)
import botocore.client, httpx, psycopg, sqlalchemy.engine
from adapters.blobstore_s3 import botocore_loader
kinds = {
    "boto3 client": botocore.client.BaseClient, "SQLAlchemy engine": sqlalchemy.engine.Engine,
    "psycopg connection": psycopg.Connection, "httpx client": httpx.Client,
    "SSL context": ssl.SSLContext, "socket": socket.socket,
}
found = {name: 0 for name in kinds}
gc.unfreeze()  # frozen objects are not listed by get_objects
for thing in gc.get_objects():
    for name, kind in kinds.items():
        if isinstance(thing, kind):
            found[name] += 1
found["open sockets"] = 0
for fd in os.listdir("/proc/self/fd"):
    try:
        found["open sockets"] += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    except FileNotFoundError:  # the directory listing's own descriptor
        pass
found["preloaded data files"] = len(botocore_loader()._cache)
found["httpcore imported"] = "httpcore" in sys.modules
found["shared by the fork"] = [
    name for name in ("httpx", "adapters.upstream.client", "prometheus_client.multiprocess")
    if name in sys.modules
]
print(json.dumps(found))
"""


# What a worker does on start (gunicorn's post-fork: the app factory), then what it made.
WORKER = """
import gc, json, ssl, sys
from entrypoints.http.app import create_app
app = create_app()
import httpx
found = {
    "httpx clients": sum(isinstance(thing, httpx.Client) for thing in gc.get_objects()),
    "SSL contexts": sum(isinstance(thing, ssl.SSLContext) for thing in gc.get_objects()),
    "httpcore imported": "httpcore" in sys.modules,
}
services = app.extensions["orchard"]
from tests.harness.fake_upstream import FakeUpstream
upstream = FakeUpstream().start()
try:
    from domain.upstream import UpstreamSettings
    services.upstream.client.fetch_page(UpstreamSettings(url=upstream.url), "nothing")
    found["httpx clients after a call"] = sum(
        isinstance(thing, httpx.Client) for thing in gc.get_objects()
    )
finally:
    upstream.stop()
print(json.dumps(found))
"""


def _postgres_s3_env(
    request: pytest.FixtureRequest, data_dir: Path, *, workers: int, max_upload_size: int
) -> tuple[dict[str, str], str]:
    """A server's environment on a fresh PostgreSQL database and its own bucket, and the
    database's URL."""
    s3 = request.getfixturevalue("s3_server")
    database_url = fresh_database(request.getfixturevalue("postgres_server_url"))
    env = server_env(
        data_dir,
        database_url=database_url,
        blob_store="s3",
        workers=workers,
        max_upload_size=max_upload_size,
        extra=s3_env(s3, s3.make_bucket()),
    )
    return env, database_url


def _census(env: dict[str, str], script: str = MASTER) -> dict[str, int]:
    answer = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout.strip().splitlines()[-1])


@pytest.mark.postgres
@pytest.mark.s3
def test_the_master_preloads_data_and_creates_no_client_engine_or_connection(
    request: pytest.FixtureRequest, s3_server, tmp_path: Path
) -> None:
    env, _ = _postgres_s3_env(request, tmp_path, workers=2, max_upload_size=64 * MIB)
    found = _census(env)
    assert found.pop("preloaded data files") >= 6  # S3's model, rules, partitions, ...
    assert found == {
        "boto3 client": 0,
        "SQLAlchemy engine": 0,
        "psycopg connection": 0,
        "httpx client": 0,
        "SSL context": 0,
        "socket": 0,
        "open sockets": 0,
        "httpcore imported": False,
        "shared by the fork": [
            "httpx",
            "adapters.upstream.client",
            "prometheus_client.multiprocess",
        ],
    }


def test_a_filesystem_master_parses_no_s3_data(tmp_path: Path) -> None:
    env = server_env(
        tmp_path,
        database_url=f"sqlite:///{tmp_path / 'orchard.db'}",
        blob_store="filesystem",
        workers=2,
        max_upload_size=64 * MIB,
    )
    assert _census(env)["preloaded data files"] == 0


def test_a_worker_makes_its_upstream_http_client_on_the_first_upstream_call(
    tmp_path: Path,
) -> None:
    env = server_env(
        tmp_path,
        database_url=f"sqlite:///{tmp_path / 'orchard.db'}",
        blob_store="filesystem",
        workers=2,
        max_upload_size=64 * MIB,
    )
    assert _census(env, WORKER) == {
        "httpx clients": 0,
        "SSL contexts": 0,
        "httpcore imported": False,
        "httpx clients after a call": 1,
    }


@pytest.mark.s3
def test_a_worker_s3_client_uses_the_preloaded_data_and_loads_nothing_more(s3_server) -> None:
    preload_botocore_data()
    loader = botocore_loader()
    preloaded = dict(loader._cache)

    def store() -> S3BlobStore:
        return S3BlobStore(
            s3_server.make_bucket(),
            endpoint_url=s3_server.endpoint_url,
            region=s3_server.region,
            access_key=s3_server.access_key,
            secret_key=s3_server.secret_key,
        )

    stores = [store()]
    paths = list(loader.search_paths)  # boto3's resource data added once, by the first
    stores += [store(), store()]
    content = os.urandom(9 * MIB)  # more than one part: a multipart upload
    writer = stores[0].writer()
    writer.write(content)
    staged = writer.finish()
    stores[0].promote(staged)
    assert b"".join(stores[0].open(staged.sha256)) == content
    assert list(stores[0].iter_blobs()) == [staged.sha256]  # a paginator
    assert dict(loader._cache) == preloaded  # every data file was there already
    model = loader.load_service_model("s3", "service-2", api_version=None)
    for store in stores:  # the very objects parsed before the fork, not a copy
        assert store._client.meta.service_model._service_description is model
    assert loader.search_paths == paths  # one loader for many sessions: no growing list


# ------------------------------------------------------------------------ a live server


@pytest.fixture(scope="module")
def one_worker(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[LiveServer]:
    """Orchard on PostgreSQL + S3 with one worker, so every request lands on it."""
    s3 = request.getfixturevalue("s3_server")
    data_dir = tmp_path_factory.mktemp("worker-memory")
    env, database_url = _postgres_s3_env(request, data_dir, workers=1, max_upload_size=256 * MIB)
    server = LiveServer("worker-memory", env, data_dir, 1, 256 * MIB, database_url, None, s3=s3)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(child) for child in children.read().split()]


def _established_tcp(pid: int) -> int:
    """TCP connections the process holds open (state 01), from its fds and /proc/net."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                count += fields[3] == "01" and fields[9] in inodes
    return count


def _private_mib(pid: int) -> float:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        fields = {line.split()[0]: int(line.split()[1]) for line in rollup if "kB" in line}
    return (fields["Private_Clean:"] + fields["Private_Dirty:"]) / 1024


@pytest.mark.postgres
@pytest.mark.s3
def test_a_live_master_holds_no_connection_and_a_worker_trims_after_uploads(
    one_worker: LiveServer,
) -> None:
    with httpx.Client(base_url=one_worker.url, timeout=120) as http:
        login = {"username": one_worker.admin_user, "password": one_worker.admin_password}
        assert http.post("/api/v1/auth/login", json=login).status_code == 200
        http.post("/api/v1/projects", json={"name": "memory"})
        http.post("/api/v1/project/memory/packages", json={"name": "pkg"})
        assert one_worker.process is not None
        (worker,) = _children(one_worker.process.pid)

        def upload(number: int) -> None:
            content = os.urandom(48 * MIB)
            answer = http.post(
                "/api/v1/project/memory/pkg/upload",
                files={"file": (f"f{number}.bin", content)},
                data={"tag": f"t{number}"},
                headers={"X-Checksum-SHA256": hashlib.sha256(content).hexdigest()},
            )
            assert answer.status_code in (200, 201), answer.text

        upload(0)  # the worker's first upload builds its S3 client and warms its caches
        time.sleep(0.5)
        before = _private_mib(worker)
        for number in range(1, 4):
            upload(number)
        time.sleep(0.5)
        after = _private_mib(worker)
    # Three uploads of six 8 MiB parts each: without the trim the worker kept +54 MiB
    # of the buffers they freed; with it +2-10 MiB stays (caches, its pools).
    assert after - before < 20, (before, after)
    assert _established_tcp(one_worker.process.pid) == 0  # the master: none
    assert _established_tcp(worker) >= 1  # the worker: its PostgreSQL pool at least
