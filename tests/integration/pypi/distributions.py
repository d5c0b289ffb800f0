"""Test distributions: tiny projects built with ``python -m build`` (what the seed does)
and wheels written directly with zipfile (fast, any size, any breakage)."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

from packaging.utils import canonicalize_name

PYTHON = sys.executable


def module_name(name: str) -> str:
    return str(canonicalize_name(name)).replace("-", "_")


def build_project(root: Path, name: str, version: str) -> list[Path]:
    """sdist and wheel of a one-module project whose ``__version__`` is ``version``."""
    source = root / f"src-{module_name(name)}-{version}"
    package = source / module_name(name)
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(f'__version__ = "{version}"\n')
    (source / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\nrequires-python = ">=3.8"\n'
        f'[tool.setuptools]\npackages = ["{module_name(name)}"]\n'
    )
    out = root / f"dist-{module_name(name)}-{version}"
    subprocess.run(
        [PYTHON, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    return sorted(out.iterdir())


def core_metadata(name: str, version: str, requires_python: str | None = None) -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    return ("\n".join(lines) + "\n\n").encode()


def write_wheel(
    root: Path,
    name: str,
    version: str,
    *,
    requires_python: str | None = None,
    payload: bytes = b"",
    metadata: bytes | None = None,
) -> Path:
    """A valid, installable wheel of module ``module_name(name)`` (plus ``payload``)."""
    root.mkdir(parents=True, exist_ok=True)
    module = module_name(name)
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f'__version__ = "{version}"\n'.encode(),
        f"{dist_info}/METADATA": metadata or core_metadata(name, version, requires_python),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: orchard-tests\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    if payload:
        files[f"{module}/payload.bin"] = payload
    path = root / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in files.items():
            archive.writestr(member, data)
        archive.writestr(f"{dist_info}/RECORD", _record(files, dist_info))
    return path


def _record(files: dict[str, bytes], dist_info: str) -> str:
    rows = []
    for member, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{member},sha256={digest},{len(data)}")
    return "\n".join([*rows, f"{dist_info}/RECORD,,"]) + "\n"


def zip_bomb_wheel(root: Path, name: str, version: str) -> Path:
    """A wheel whose METADATA inflates to 64 MiB (a few KiB on disk)."""
    metadata = core_metadata(name, version) + b"\0" * (64 << 20)
    return write_wheel(root, name, version, metadata=metadata)
