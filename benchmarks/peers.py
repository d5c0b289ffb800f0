"""Installing the peers: each in its own virtual environment under ``benchmarks/.work``.

Own environments, so that the peers' pins never touch Orchard's ``.venv`` and a version
bump of either side cannot skew the other. The installed versions go into the report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.util import WORK, run

PEERS = {
    # gunicorn: how pypiserver's docs deploy it; watchdog enables its cached-dir backend,
    # the configuration its docs suggest for many packages.
    "pypiserver": ["pypiserver", "gunicorn", "passlib", "watchdog"],
    "devpi": ["devpi-server", "devpi-client"],
}
VERSION_OF = {"pypiserver": "pypiserver", "devpi": "devpi-server"}


def venv_bin(peer: str) -> Path:
    return WORK / "venvs" / peer / "bin"


def ensure(peer: str) -> Path:
    """Create the peer's environment on first use; return its ``bin`` directory."""
    bin_dir = venv_bin(peer)
    stamp = bin_dir.parent / ".installed"
    if not stamp.exists():
        run([sys.executable, "-m", "venv", str(bin_dir.parent)])
        run([str(bin_dir / "pip"), "install", "--quiet", *PEERS[peer]], timeout=900)
        stamp.touch()
    return bin_dir


def version(peer: str) -> str:
    bin_dir = venv_bin(peer)
    code = f"import importlib.metadata as m; print(m.version({VERSION_OF[peer]!r}))"
    result = subprocess.run(
        [str(bin_dir / "python"), "-c", code], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "unknown"
