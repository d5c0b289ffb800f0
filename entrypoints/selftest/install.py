"""pip, run as a user would, into a throwaway target directory; then ``import`` from there.

pip runs with an environment of its own: no pip.conf (``PIP_CONFIG_FILE`` is the null
device), no ``PIP_*`` from the pod or the operator's shell, and the index URL, which may
carry the credentials, in ``PIP_INDEX_URL`` rather than on a command line ``ps`` shows.
``--only-binary :all:`` and ``--no-deps``: the wheel alone, nothing to build, nothing to
fetch from anywhere but the index under test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from entrypoints.selftest.client import SelftestFailure, Server

PIP_TIMEOUT = 300
IMPORT_PROBE = (
    "import importlib, sys; sys.path.insert(0, sys.argv[1]); "
    "module = importlib.import_module(sys.argv[2]); print(module.__version__); "
    "print(module.__file__)"
)


def pip_install(server: Server, target: Path, *requirements: str) -> None:
    """``pip install REQUIREMENT...`` from the server's index into ``target``, or fail."""
    requirement = " ".join(requirements)
    argv = [
        sys.executable, "-m", "pip", "install", "--no-input", "--disable-pip-version-check",
        "--no-cache-dir", "--no-deps", "--only-binary", ":all:", "--target", str(target),
        *requirements,
    ]  # fmt: skip
    env = {
        "HOME": str(target.parent),
        "PATH": "/usr/bin:/bin",
        "TMPDIR": str(target.parent),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": server.index_url_with_credentials(),
    }
    host = urlsplit(server.index_url)
    if host.scheme == "http":  # a cluster-internal service: pip refuses plain HTTP otherwise
        env["PIP_TRUSTED_HOST"] = host.netloc
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=PIP_TIMEOUT, env=env,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise SelftestFailure(
            f"pip install {requirement} from {server.index_url} took over {PIP_TIMEOUT} s."
        ) from None
    if done.returncode != 0:
        said = server.redact(_last_error(done.stdout + done.stderr))
        raise SelftestFailure(f"pip install {requirement} from {server.index_url} failed: {said}")


def imported_version(target: Path, module: str) -> str:
    """``module.__version__`` as a fresh interpreter imports it from ``target``."""
    done = subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_PROBE, str(target), module],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0:
        raise SelftestFailure(
            f"import {module} failed after pip installed it: {_last_error(done.stderr)}"
        )
    version, location = [*done.stdout.splitlines(), "", ""][:2]
    if not Path(location).resolve().is_relative_to(target.resolve()):
        raise SelftestFailure(f"import {module} found {location}, not the installed copy.")
    return version


def _last_error(output: str) -> str:
    """The line that says what went wrong (pip and Python print it last, or as ERROR:)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    return (errors or lines or ["no output"])[-1]
