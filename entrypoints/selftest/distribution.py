"""A tiny, installable Python distribution (sdist and wheel) written with zipfile and
tarfile: no build backend, no network, and the same bytes on every run.

Deterministic bytes matter: ``helm test`` may run twice against one release, and the
second upload of a filename must be the identical file (200), never new bytes (409). They
also let a check know the SHA-256 the server must serve without trusting the server."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
import zipfile
from dataclasses import dataclass

from packaging.utils import canonicalize_name
from packaging.version import Version

FIXED_DATE = (2020, 1, 1, 0, 0, 0)  # zip timestamps cannot be earlier than 1980
FIXED_MTIME = 1577836800  # the same instant for tar members
METADATA_VERSION = "2.1"


@dataclass(frozen=True)
class DistributionFile:
    """One file to upload: its name, bytes and the form fields the legacy API takes."""

    filename: str
    content: bytes
    filetype: str  # "sdist" or "bdist_wheel"
    pyversion: str  # "source" or "py3"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Distribution:
    """A release of the test project: its name, version, import name and two files."""

    name: str
    version: str
    module: str
    sdist: DistributionFile
    wheel: DistributionFile

    @property
    def files(self) -> tuple[DistributionFile, DistributionFile]:
        return (self.sdist, self.wheel)


def module_name(name: str) -> str:
    """The import name and the filename stem of a project: PEP 503 name, ``-`` as ``_``."""
    return str(canonicalize_name(name)).replace("-", "_")


def build(name: str, version: str) -> Distribution:
    """The sdist and wheel of project ``name`` whose module's ``__version__`` is ``version``."""
    version = str(Version(version))  # normalized, as the filename and the index write it
    module = module_name(name)
    return Distribution(
        name=name,
        version=version,
        module=module,
        sdist=DistributionFile(
            f"{module}-{version}.tar.gz", _sdist(name, version, module), "sdist", "source"
        ),
        wheel=DistributionFile(
            f"{module}-{version}-py3-none-any.whl",
            _wheel(name, version, module),
            "bdist_wheel",
            "py3",
        ),
    )


def core_metadata(name: str, version: str) -> str:
    return (
        f"Metadata-Version: {METADATA_VERSION}\nName: {name}\nVersion: {version}\n"
        "Summary: A package orchard selftest uploads and installs.\n"
        "Requires-Python: >=3.8\nDescription-Content-Type: text/plain\n\n"
        "Uploaded and installed by `orchard selftest` to prove an index works.\n"
    )


def _module_source(version: str) -> bytes:
    return f'"""Written by orchard selftest."""\n\n__version__ = "{version}"\n'.encode()


def _wheel(name: str, version: str, module: str) -> bytes:
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": _module_source(version),
        f"{dist_info}/METADATA": core_metadata(name, version).encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: orchard-selftest\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist_info}/RECORD"] = _record(files, f"{dist_info}/RECORD")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in files.items():
            info = zipfile.ZipInfo(member, date_time=FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _record(files: dict[str, bytes], record: str) -> bytes:
    """RECORD: every file's urlsafe-base64 SHA-256 (no padding) and size (PEP 376/427)."""
    rows = []
    for member, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        rows.append(f"{member},sha256={digest.decode()},{len(data)}")
    return ("\n".join([*rows, f"{record},,"]) + "\n").encode()


def _sdist(name: str, version: str, module: str) -> bytes:
    root = f"{module}-{version}"
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=61"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\n'
        'description = "A package orchard selftest uploads and installs."\n'
        'requires-python = ">=3.8"\n\n'
        f'[tool.setuptools]\npackages = ["{module}"]\n'
    )
    files = {
        f"{root}/PKG-INFO": core_metadata(name, version).encode(),
        f"{root}/pyproject.toml": pyproject.encode(),
        f"{root}/{module}/__init__.py": _module_source(version),
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for directory in (root, f"{root}/{module}"):
            archive.addfile(_tar_info(directory, tarfile.DIRTYPE, 0o755))
        for member, data in files.items():
            info = _tar_info(member, tarfile.REGTYPE, 0o644)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as stream:
        stream.write(raw.getvalue())
    return compressed.getvalue()


def _tar_info(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, FIXED_MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info
