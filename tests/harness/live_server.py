"""A live Orchard (``orchard serve``: gunicorn, several workers) per configuration.

Configurations are the production shapes Orchard supports: the embedded default
(SQLite + filesystem) and PostgreSQL with the filesystem or S3. Each server gets its own
data directory, database and bucket, binds a free loopback port, and is stopped at the
end of the session. ``ORCHARD_TEST_CONFIGS`` (comma-separated) narrows the list.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ALL_CONFIGS = ("sqlite-fs", "postgres-fs", "postgres-s3")
ADMIN_USER = "admin"
ADMIN_PASSWORD = "orchard-test-admin-pw"
ORCHARD = str(Path(sys.executable).with_name("orchard"))


def selected_configs() -> list[str]:
    wanted = os.environ.get("ORCHARD_TEST_CONFIGS")
    return [c.strip() for c in wanted.split(",")] if wanted else list(ALL_CONFIGS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """A running Orchard and handles on its storage, for assertions on end state."""

    config_name: str
    env: dict[str, str]
    data_dir: Path
    workers: int
    max_upload_size: int
    database_url: str
    database_path: Path | None
    s3: object | None = None  # the S3 harness object for s3 configurations
    admin_user: str = ADMIN_USER
    admin_password: str = ADMIN_PASSWORD
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**self.env, "ORCHARD_PORT": str(self.port)}
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - closed by the process
        self.process = subprocess.Popen(
            [ORCHARD, "serve"], env=env, stdout=log, stderr=log, start_new_session=True
        )
        self._wait_ready()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [ORCHARD, *args], env=self.env, capture_output=True, text=True, input=input, timeout=300
        )

    def blob_store(self):
        from entrypoints.bootstrap import BLOB_STORES
        from entrypoints.config import load_settings

        return BLOB_STORES[self.env["ORCHARD_BLOB_STORE"]](load_settings(self.env))

    def blob_exists(self, sha256: str) -> bool:
        return self.blob_store().modified_at(sha256) is not None

    def blob_count(self) -> int:
        return sum(1 for _ in self.blob_store().iter_blobs())

    def temp_count(self) -> int:
        return self.blob_store().temporary_count()

    def log_text(self) -> str:
        return (self.data_dir / "server.log").read_text(errors="replace")

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orchard exited early:\n{self.log_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"Orchard did not become ready:\n{self.log_text()[-4000:]}")


def server_env(
    data_dir: Path,
    *,
    database_url: str,
    blob_store: str,
    workers: int,
    max_upload_size: int,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    return {
        **base,
        "ORCHARD_HOST": "127.0.0.1",
        "ORCHARD_DATA_DIR": str(data_dir),
        "ORCHARD_DATABASE_URL": database_url,
        "ORCHARD_BLOB_STORE": blob_store,
        "ORCHARD_ADMIN_USER": ADMIN_USER,
        "ORCHARD_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "ORCHARD_WORKERS": str(workers),
        "ORCHARD_THREADS": "8",
        "ORCHARD_MAX_UPLOAD_SIZE": str(max_upload_size),
        "ORCHARD_SECRET_KEY": "test-secret-" + data_dir.name,
        "ORCHARD_LOG_LEVEL": "warning",
        **(extra or {}),
    }


def max_upload_size() -> int:
    from entrypoints.config import _size

    return _size(os.environ.get("ORCHARD_TEST_MAX_UPLOAD_SIZE", "64M"))


def build_server(config: str, tmp_root: Path, request: pytest.FixtureRequest) -> LiveServer:
    """Make (not start) a server for a configuration, with fresh storage."""
    data_dir = tmp_root / config
    data_dir.mkdir(parents=True, exist_ok=True)
    database, blob_store = config.split("-")
    extra: dict[str, str] = {}
    s3 = None
    if database == "sqlite":
        db_path = data_dir / "orchard.db"
        database_url, database_path, workers = f"sqlite:///{db_path}", db_path, 2
    else:
        from tests.harness.postgres import fresh_database

        database_url = fresh_database(request.getfixturevalue("postgres_server_url"))
        database_path, workers = None, 4
    if blob_store == "s3":
        s3 = request.getfixturevalue("s3_server")
        # A bucket per server, as a database per server: fsck and gc of one server must
        # not find the blobs another server of the same session left in a shared bucket.
        extra = s3_env(s3, s3.make_bucket(f"orchard-{config}-{uuid.uuid4().hex[:12]}"))
    env = server_env(
        data_dir,
        database_url=database_url,
        blob_store="s3" if blob_store == "s3" else "filesystem",
        workers=workers,
        max_upload_size=max_upload_size(),
        extra=extra,
    )
    return LiveServer(
        config_name=config,
        env=env,
        data_dir=data_dir,
        workers=workers,
        max_upload_size=max_upload_size(),
        database_url=database_url,
        database_path=database_path,
        s3=s3,
    )


def s3_env(s3, bucket: str) -> dict[str, str]:
    return {
        "ORCHARD_S3_ENDPOINT": s3.endpoint_url,
        "ORCHARD_S3_BUCKET": bucket,
        "ORCHARD_S3_REGION": s3.region,
        "ORCHARD_S3_ACCESS_KEY": s3.access_key,
        "ORCHARD_S3_SECRET_KEY": s3.secret_key,
        "ORCHARD_S3_TIMEOUT": "5",
    }


@pytest.fixture(scope="session", params=selected_configs())
def live_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    server = build_server(request.param, tmp_path_factory.mktemp("orchard"), request)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def admin_client(live_server: LiveServer):
    """An httpx client logged in as the admin (session cookie)."""
    with httpx.Client(base_url=live_server.url, timeout=120) as client:
        response = client.post(
            "/api/v1/auth/login",
            json={"username": live_server.admin_user, "password": live_server.admin_password},
        )
        assert response.status_code == 200, response.text
        yield client


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"orchard live servers: {', '.join(selected_configs())} (gunicorn, gthread)"]
