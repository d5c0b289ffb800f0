"""The real clients (twine, uv, pip) as subprocesses, with an environment that cannot
reach any other index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BIN = Path(sys.executable).parent
TWINE, UV, PIP = str(BIN / "twine"), str(BIN / "uv"), str(BIN / "pip")


def client_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "TWINE_")) and k not in ("NETRC",)
    }
    return {
        **env,
        "HOME": str(home),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_NO_INPUT": "1",
        "UV_NO_CONFIG": "1",
        "UV_CACHE_DIR": str(home / "uv-cache"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }


def with_credentials(url: str, username: str, password: str) -> str:
    from urllib.parse import quote

    parts = urlsplit(url)
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{parts.netloc}"
    return urlunsplit(parts._replace(netloc=netloc))


def run(argv: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


def twine_upload(
    env: dict[str, str], url: str, files: list[Path], username: str, password: str
) -> subprocess.CompletedProcess:
    return run(
        [TWINE, "upload", "--repository-url", url, "-u", username, "-p", password,
         "--non-interactive", "--disable-progress-bar", *map(str, files)],
        env,
    )  # fmt: skip


def uv_publish(
    env: dict[str, str], url: str, files: list[Path], token: str, *extra: str
) -> subprocess.CompletedProcess:
    return run(
        [UV, "publish", "--publish-url", url, "-u", "__token__", "-p", token, *extra,
         *map(str, files)],
        env,
    )  # fmt: skip


def new_venv(path: Path) -> Path:
    """A fresh, empty virtualenv (no pip inside: the session's pip installs into it)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path / "bin" / "python"


def pip_install(
    env: dict[str, str], python: Path, index_url: str, *requirements: str
) -> subprocess.CompletedProcess:
    return run(
        [PIP, "--python", str(python), "install", "--index-url", index_url, *requirements], env
    )


def uv_pip_install(
    env: dict[str, str], python: Path, index_url: str, *requirements: str
) -> subprocess.CompletedProcess:
    return run(
        [UV, "pip", "install", "--python", str(python), "--index-url", index_url, *requirements],
        env,
    )


def imported_version(python: Path, module: str) -> str:
    done = subprocess.run(
        [str(python), "-c", f"import {module}; print({module}.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()
