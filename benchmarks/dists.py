"""Wheels made on the spot: valid enough for twine and pip, built without a build backend.

Building 1,200 wheels with ``python -m build`` would take longer than the benchmark;
writing the zip directly takes milliseconds each and gives every server byte-identical
files.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel(
    directory: Path,
    name: str,
    version: str,
    requires: tuple[str, ...] = (),
    payload_size: int = 256,
) -> Path:
    """Write ``name-version-py3-none-any.whl`` with a payload of random bytes."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    metadata = "\n".join(
        [
            "Metadata-Version: 2.1",
            f"Name: {name}",
            f"Version: {version}",
            "Summary: benchmark package",
            "Requires-Python: >=3.8",
            *(f"Requires-Dist: {r}" for r in requires),
            "",
        ]
    ).encode()
    files = {
        f"{module}/__init__.py": b"",
        f"{module}/payload.bin": os.urandom(payload_size),
        f"{dist_info}/METADATA": metadata,
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = [_record_line(p, d) for p, d in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def random_file(path: Path, size: int) -> Path:
    """``size`` bytes of random data, written once and reused by every server."""
    if path.exists() and path.stat().st_size == size:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)  # benchmarks.ab may run before run.py
    with open(path, "wb") as out:
        for offset in range(0, size, 1024 * 1024):
            out.write(os.urandom(min(1024 * 1024, size - offset)))
    return path
