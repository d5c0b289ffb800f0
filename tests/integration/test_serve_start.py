"""``orchard serve`` as a new user meets it: a start that cannot serve says why in one
sentence and exits non-zero before creating or announcing anything; a start that can
announces "listening" once the socket listens, and keeps a generated admin password
where the next start finds it again."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from entrypoints.config import Settings
from entrypoints.preflight import bind_listener
from tests.harness.live_server import ORCHARD, LiveServer, free_port

pytestmark = pytest.mark.integration


def serve_env(data_dir: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    base.pop("XDG_RUNTIME_DIR", None)
    return {
        **base,
        "HOME": str(data_dir.parent / "home"),
        "ORCHARD_DATA_DIR": str(data_dir),
        "ORCHARD_PORT": str(free_port()),
        "ORCHARD_WORKERS": "1",
        "ORCHARD_THREADS": "2",
        "ORCHARD_LOG_LEVEL": "warning",
        **extra,
    }


def serve_failing(env: dict[str, str], **options) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [ORCHARD, "serve"], env=env, capture_output=True, text=True, timeout=60, **options
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "listening" not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("Error: ")
    return result


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_taken_port_stops_the_start_before_anything_is_created(tmp_path, taken_port) -> None:
    data_dir = tmp_path / "data"

    result = serve_failing(serve_env(data_dir, ORCHARD_PORT=str(taken_port)))

    assert f"Port {taken_port} on 127.0.0.1 is already in use" in result.stderr
    assert not data_dir.exists()  # no database, no admin, no password


def test_of_two_starts_on_one_port_the_second_stops_at_once(tmp_path) -> None:
    """Each start binds with SO_REUSEADDR (as gunicorn does), which Linux lets a second
    socket share until one listens: the first start's socket must already listen."""
    first = bind_listener(Settings(port=free_port()))
    try:
        port = first.getsockname()[1]
        result = serve_failing(serve_env(tmp_path / "data", ORCHARD_PORT=str(port)))
    finally:
        first.close()
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("ORCHARD_PORT", "abc", "ORCHARD_PORT=abc is not a whole number"),
        ("ORCHARD_PORT", "99999", "ORCHARD_PORT=99999 cannot be used: use a port from 1"),
        ("ORCHARD_HOST", "nonsense.invalid", "ORCHARD_HOST=nonsense.invalid is not an address"),
        ("ORCHARD_ADMIN_PASSWORD", "short", "ORCHARD_ADMIN_PASSWORD (5 characters) cannot"),
        ("ORCHARD_DATABASE_URL", "postgresql://nobody:pw@127.0.0.1:1/x", "cannot be used"),
    ],
)
def test_a_bad_setting_is_one_sentence_and_exit_status_1(tmp_path, variable, value, says) -> None:
    result = serve_failing(serve_env(tmp_path / "data", **{variable: value}))
    assert says in result.stderr
    assert ":pw@" not in result.stderr


def test_a_data_dir_that_is_a_file_is_one_sentence(tmp_path) -> None:
    data_file = tmp_path / "data"
    data_file.write_text("not a directory")

    result = serve_failing(serve_env(data_file))

    assert f"ORCHARD_DATA_DIR={data_file} is a file, not a directory" in result.stderr


@pytest.fixture
def read_only_dir(tmp_path) -> Iterator[Path]:
    """A directory nobody can write to: mode 0555, or, for root (who writes through
    modes), a read-only tmpfs mounted on it."""
    directory = tmp_path / "read-only"
    directory.mkdir()
    if os.geteuid() != 0:
        directory.chmod(0o555)
        yield directory
        directory.chmod(0o755)
        return
    mount = ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "orchard-test", str(directory)]
    if subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("running as root without the right to mount a read-only filesystem")
    yield directory
    subprocess.run(["umount", str(directory)], check=True)


def test_a_read_only_data_dir_is_one_sentence(read_only_dir) -> None:
    result = serve_failing(serve_env(read_only_dir))

    assert f"ORCHARD_DATA_DIR={read_only_dir} cannot be written to" in result.stderr


def test_other_commands_report_bad_settings_in_one_sentence_too(tmp_path) -> None:
    result = subprocess.run(
        [ORCHARD, "admin", "users", "list"],
        env=serve_env(tmp_path / "data", ORCHARD_WORKERS="none"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: ORCHARD_WORKERS=none is not a whole number; use 1 or more worker processes."
    )


def server_at(data_dir: Path) -> LiveServer:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = serve_env(data_dir, ORCHARD_WORKER="2")  # a typo, reported and ignored
    return LiveServer(
        config_name="sqlite-fs",
        env=env,
        data_dir=data_dir,
        workers=1,
        max_upload_size=1024,
        database_url="",
        database_path=data_dir / "orchard.db",
        port=int(env["ORCHARD_PORT"]),
    )


def test_a_generated_password_is_kept_private_until_changed(tmp_path) -> None:
    server = server_at(tmp_path / "data")
    password_file = server.data_dir / "admin-password"
    server.start()
    try:
        log = server.log_text()
        assert f"The password of 'admin' is in {password_file}" in log
        assert log.count("Orchard listening on ") == 1
        assert "ORCHARD_WORKER is not an Orchard setting and is ignored (did you mean" in log
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        password = password_file.read_text().split("password: ")[1].strip()
        login = {"username": "admin", "password": password}
        assert httpx.post(f"{server.url}/api/v1/auth/login", json=login).status_code == 200
        # gunicorn's control socket would sit in $HOME, shared by every instance
        assert not (tmp_path / "home" / ".gunicorn").exists()

        changed = server.cli("admin", "users", "set-password", "admin", "--password", "new-pw-12")

        assert changed.returncode == 0, changed.stderr
        assert f"Removed {password_file}" in changed.stdout
        assert not password_file.exists()
    finally:
        server.stop()


def test_a_worker_count_below_one_is_refused(tmp_path) -> None:
    result = subprocess.run(
        [ORCHARD, "serve", "--workers", "0"],
        env=serve_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2  # click's usage error
    assert "Invalid value for '--workers'" in result.stderr
    assert "listening" not in result.stderr
