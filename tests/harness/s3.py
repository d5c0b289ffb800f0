"""The S3 endpoint integration tests run against: one per session, started on first use.

Which one, in order:

1. ``ORCHARD_TEST_S3_ENDPOINT`` (+ ``ORCHARD_TEST_S3_ACCESS_KEY``/``_SECRET_KEY``/``_REGION``):
   an external S3 or MinIO the developer runs.
2. testcontainers ``MinioContainer``, when a Docker engine answers within ~3 s.
3. a ``moto`` server subprocess on a free 127.0.0.1 port (``moto[server]`` is a test
   dependency, so this is what runs on machines without Docker).

Only the moto server can be taken down and brought back (``stop()``/``start()``, same port;
``pause()``/``resume()`` freeze it so connections hang instead of being refused). On the
other two, ``can_restart`` is False and those methods skip the calling test with a reason.
moto keeps its state in memory: after ``start()`` the buckets made with ``make_bucket`` are
made again, empty. When no S3 can run at all, tests needing it fail, unless
``ORCHARD_TEST_ALLOW_SKIP=1`` turns that into a skip.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

REGION = "us-east-1"


@dataclass
class S3Server:
    """Where the tests' S3 answers, and the few controls the tests need."""

    kind: str
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = REGION
    can_restart: bool = False
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _buckets: set[str] = field(default_factory=set, repr=False)
    _container: Any = field(default=None, repr=False)

    def make_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a fresh unique name by default) and return its name."""
        name = name or f"orchard-test-{uuid.uuid4().hex[:12]}"
        if self.kind == "minio-container":
            client = self._container.get_client()
            if not client.bucket_exists(name):
                client.make_bucket(name)
        else:
            _create_bucket(self, name)
        self._buckets.add(name)
        return name

    def _require_moto(self, action: str) -> None:
        if not self.can_restart:
            pytest.skip(f"cannot {action} the {self.kind} S3 endpoint; only moto can")

    def stop(self) -> None:
        """Take the endpoint down: connections are refused until ``start()``."""
        self._require_moto("stop")
        assert self._process is not None
        self._process.terminate()
        self._process.wait(timeout=10)

    def start(self) -> None:
        """Bring a stopped endpoint back on the same port, with the same (empty) buckets."""
        self._require_moto("start")
        port = int(self.endpoint_url.rsplit(":", 1)[1])
        self._process = _spawn_moto(port)
        _wait_until_answering(self.endpoint_url, self._process)
        for name in self._buckets:
            _create_bucket(self, name)

    def pause(self) -> None:
        """Freeze the endpoint: connections open but nothing answers (a hung server)."""
        self._require_moto("pause")
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._require_moto("resume")
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGCONT)
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        if self._container is not None:
            self._container.stop()


def _create_bucket(server: S3Server, name: str) -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=server.region,
        config=Config(s3={"addressing_style": "path"}),
    )
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _moto_command() -> list[str] | None:
    beside = os.path.join(os.path.dirname(sys.executable), "moto_server")
    if os.access(beside, os.X_OK):
        return [beside]
    if shutil.which("moto_server"):
        return ["moto_server"]
    try:
        import moto.server  # noqa: F401 - only checking that moto[server] is installed
    except ImportError:
        return None
    return [sys.executable, "-m", "moto.server"]


def _spawn_moto(port: int) -> subprocess.Popen[bytes]:
    command = _moto_command()
    assert command is not None
    return subprocess.Popen(
        [*command, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with status {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"moto server did not answer on {url} within {timeout} s")


@functools.cache
def _docker_answers() -> bool:
    """A fast probe: these CI machines have no Docker engine, so never wait long."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host and not os.path.exists("/var/run/docker.sock"):
        return False
    import requests

    import docker

    try:
        return bool(docker.from_env(timeout=3).ping())
    except (docker.errors.DockerException, requests.RequestException, OSError):
        return False


@functools.cache
def chosen_source() -> str:
    """Which S3 the session uses: 'external', 'minio-container', 'moto' or 'none'."""
    if os.environ.get("ORCHARD_TEST_S3_ENDPOINT"):
        return "external"
    if _docker_answers():
        return "minio-container"
    return "moto" if _moto_command() else "none"


def _external() -> S3Server:
    env = os.environ
    return S3Server(
        kind="external",
        endpoint_url=env["ORCHARD_TEST_S3_ENDPOINT"],
        access_key=env.get("ORCHARD_TEST_S3_ACCESS_KEY", "minioadmin"),
        secret_key=env.get("ORCHARD_TEST_S3_SECRET_KEY", "minioadmin"),
        region=env.get("ORCHARD_TEST_S3_REGION", REGION),
    )


def _minio_container() -> S3Server:
    from testcontainers.community.minio import MinioContainer

    container = MinioContainer().start()
    config = container.get_config()
    return S3Server(
        kind="minio-container",
        endpoint_url=f"http://{config['endpoint']}",
        access_key=config["access_key"],
        secret_key=config["secret_key"],
        _container=container,
    )


def _moto() -> S3Server:
    port = _free_port()
    process = _spawn_moto(port)
    url = f"http://127.0.0.1:{port}"
    server = S3Server("moto", url, "testing", "testing", can_restart=True, _process=process)
    try:
        _wait_until_answering(url, process)
    except RuntimeError:
        server.close()
        raise
    return server


def start_moto() -> S3Server:
    """A moto server of the caller's own (for tests that take S3 down); close() it."""
    if _moto_command() is None:
        pytest.skip("moto[server] is not installed: no S3 endpoint to take down")
    return _moto()


def pytest_report_header(config: pytest.Config) -> str:
    names = {
        "external": f"external endpoint {os.environ.get('ORCHARD_TEST_S3_ENDPOINT')}",
        "minio-container": "MinIO in a testcontainers container",
        "moto": "moto server subprocess on 127.0.0.1 (started on first use)",
        "none": "none available (tests needing S3 fail; ORCHARD_TEST_ALLOW_SKIP=1 skips)",
    }
    return f"s3: {names[chosen_source()]}"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """The session's S3 endpoint; see the module docstring for where it comes from."""
    source = chosen_source()
    if source == "none":
        reason = "no S3: set ORCHARD_TEST_S3_ENDPOINT, run Docker, or install moto[server]"
        if os.environ.get("ORCHARD_TEST_ALLOW_SKIP") == "1":
            pytest.skip(reason)
        pytest.fail(reason)
    server = {"external": _external, "minio-container": _minio_container, "moto": _moto}[source]()
    try:
        yield server
    finally:
        server.close()
