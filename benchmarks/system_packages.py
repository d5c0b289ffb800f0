"""Debian packages the benchmark wants (nginx for the static floor, wrk for load), installed
on first use when this machine allows it, so `make bench` on a fresh machine measures the
same things as on a prepared one. Anything that cannot be installed is reported, and the
scenarios needing it are skipped with that reason."""

from __future__ import annotations

import os
import shutil
import subprocess

WANTED = {"nginx": "nginx", "wrk": "wrk"}  # command -> Debian package


def ensure(commands: dict[str, str] = WANTED, timeout: float = 600) -> dict[str, str]:
    """Install the missing commands' packages; return {command: why it is missing}."""
    missing = {cmd: pkg for cmd, pkg in commands.items() if shutil.which(cmd) is None}
    if not missing:
        return {}
    problem = _install(sorted(set(missing.values())), timeout)
    return {cmd: problem for cmd in missing if shutil.which(cmd) is None}


def _install(packages: list[str], timeout: float) -> str:
    if shutil.which("apt-get") is None:
        return "not installed, and apt-get is not available here"
    if os.geteuid() != 0:
        return f"not installed (as root: apt-get install {' '.join(packages)})"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        try:
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"'{' '.join(argv[:2])}' did not finish in {timeout:.0f} s"
        if done.returncode != 0:
            return f"'{' '.join(argv[:2])}' failed: {done.stderr.strip()[-200:]}"
    return "apt-get install succeeded but the command is still missing"
