"""The real clients (twine, uv, pip; poetry, pdm and hatch in virtualenvs of their own) as
subprocesses, with an environment that cannot reach any other index."""

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
    """Run a client; its standard input is empty, so a prompt ends it instead of hanging."""
    return subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


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


# What pip installs for each publishing tool: the current release. pdm's ``locked`` extra is
# pdm's own pin set: its plain dependencies are open-ended (``hishel>=1.0.0``) and a new
# major of one broke ``pdm`` at start-up (no ``hishel.SyncSqliteStorage``).
PUBLISHERS = {"poetry": "poetry", "pdm": "pdm[locked]", "hatch": "hatch"}


def install_publisher(root: Path, tool: str, env: dict[str, str]) -> tuple[Path, str | None]:
    """A virtualenv of its own holding ``tool`` (its pins never meet Orchard's): the tool's
    executable, and None or why the install failed.

    ``env`` is ``client_env``'s: pip.conf and ``PIP_*`` are out, pip's default index is in."""
    venv = root / tool
    python = venv / "bin" / "python"
    steps = (
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", PUBLISHERS[tool]],
    )
    for argv in steps:
        done = run(argv, env, timeout=600)
        if done.returncode != 0:
            return venv / "bin" / tool, f"{' '.join(argv)}: {done.stderr.strip()[-2000:]}"
    return venv / "bin" / tool, None


def publisher_env(env: dict[str, str], home: Path, executable: Path) -> dict[str, str]:
    """``client_env`` with a fresh home for one tool: no user config, cache or keyring of
    the machine's, and none of the tools' own variables."""
    own = ("POETRY_", "PDM_", "HATCH_", "XDG_")
    return {
        **{k: v for k, v in env.items() if not k.startswith(own)},
        "HOME": str(home),
        "POETRY_CONFIG_DIR": str(home / "poetry-config"),
        "POETRY_CACHE_DIR": str(home / "poetry-cache"),
        "POETRY_DATA_DIR": str(home / "poetry-data"),
        "POETRY_KEYRING_ENABLED": "false",
        "PDM_CHECK_UPDATE": "false",
        "PDM_PYTHON": str(executable.with_name("python")),  # else pdm makes the project a venv
    }


def poetry_publish(
    executable: Path, env: dict[str, str], project: Path, url: str, username: str, password: str
) -> subprocess.CompletedProcess:
    """Uploads the files of ``project/dist`` named for the pyproject's name and version."""
    return run(
        [str(executable), "publish", "--directory", str(project), "--repository", "orchard",
         "--username", username, "--password", password, "--no-interaction", "--no-ansi"],
        {**env, "POETRY_REPOSITORIES_ORCHARD_URL": url},
    )  # fmt: skip


def pdm_publish(
    executable: Path, env: dict[str, str], project: Path, url: str, username: str, password: str
) -> subprocess.CompletedProcess:
    """Uploads every file of ``project/dist`` (``--no-build``: the dists are given)."""
    return run(
        [str(executable), "publish", "--project", str(project), "--no-build",
         "--dest", str(project / "dist"), "--repository", url, "--username", username,
         "--password", password],
        env,
    )  # fmt: skip


def hatch_publish(
    executable: Path, env: dict[str, str], project: Path, url: str, username: str, password: str
) -> subprocess.CompletedProcess:
    """Uploads the files of ``project/dist`` named on the command line."""
    return run(
        [str(executable), "publish", "--repo", url, "--user", username, "--auth", password,
         "--no-prompt", *map(str, sorted((project / "dist").iterdir()))],
        env,
    )  # fmt: skip


PUBLISH = {"poetry": poetry_publish, "pdm": pdm_publish, "hatch": hatch_publish}
