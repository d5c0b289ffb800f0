"""Version detection: explicit > package metadata > filename (SPEC §1 Version detection).

Filenames are read by the first of these rules that finds something:

1. Wheels (``*.whl``) are parsed with ``packaging`` and give the PEP 440-normalized version.
2. Debian packages follow ``name_version_arch.deb`` and give the middle field as written
   (``1.2.3-1ubuntu1``), revision included.
3. Anything else: after removing the extension, the first token that follows a ``-`` or
   ``_`` (an optional ``v`` is dropped) and looks like a version: at least two dotted
   numbers, then optional pre/post-release qualifiers (``-beta.1``, ``rc1``, ``-SNAPSHOT``,
   ``.RELEASE``) and build metadata (``+build.5``). The token is returned as written.
4. Failing that, ``.tar.gz`` / ``.zip`` names are parsed as sdists by ``packaging``, which
   also knows the single-number and epoch versions rule 3 ignores (``tool-5.tar.gz``,
   ``pkg-1!2.0.tar.gz``).

Why this order: a generic tarball is indistinguishable from an sdist by its name, and the
sdist rule (split on the last dash) misreads ``app-2.1.0-cuda-11.8.tar.gz`` as 11.8 and
rewrites ``firmware-2024.05.01.zip`` as 2024.5.1. For real sdists rules 3 and 4 agree.
A dot is required in rule 3 because a lone number is too often part of a name or a
platform (``python3-``, ``x86_64``, ``-arm64``); the *first* token wins because what
follows a version is usually a platform qualifier (``-cuda-11.8``, ``-jdk-1.8``).
"""

from __future__ import annotations

import re

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from domain.errors import InvalidName
from domain.model import VersionSource
from domain.names import validate_version_name

# ".tar.gz", ".tgz", ".jar", ".7z"...: an extension starts with a letter (so the ".3" of
# "name-1.2.3" is not one), except the few well-known ones that start with a digit.
_EXTENSION = re.compile(r"(?:\.tar)?\.(?:7z|[a-z][a-z0-9]{0,9})$", re.IGNORECASE)
_QUALIFIER = r"[-_.+]?(?:alpha|beta|preview|pre|rc|dev|post|snapshot|final|release|a|b|c|m)\.?\d*"
_VERSION_TOKEN = re.compile(
    rf"(?:^|[-_])[vV]?(?P<version>\d+(?:\.\d+)+(?:{_QUALIFIER}){{0,3}}(?:\+[A-Za-z0-9.]+)?)"
    r"(?=$|[-_])",
    re.IGNORECASE,
)
_DEBIAN_SUFFIXES = (".deb", ".udeb", ".ddeb")


def version_from_filename(filename: str) -> str | None:
    """The version a filename carries, or None when it carries none."""
    for detect in (_wheel_version, _debian_version, _token_version, _sdist_version):
        version = detect(filename)
        if version is not None:
            return version if _is_version_name(version) else None
    return None


def _wheel_version(filename: str) -> str | None:
    try:
        return str(parse_wheel_filename(filename)[1]) if filename.endswith(".whl") else None
    except InvalidWheelFilename:
        return None  # "app-1.0.whl" is no wheel: keep looking


def _sdist_version(filename: str) -> str | None:
    try:
        return str(parse_sdist_filename(filename)[1])
    except InvalidSdistFilename:
        return None


def _debian_version(filename: str) -> str | None:
    if not filename.lower().endswith(_DEBIAN_SUFFIXES):
        return None
    fields = filename.rsplit(".", 1)[0].split("_")
    if len(fields) == 3 and _is_version_name(fields[1]):
        return fields[1]
    return None  # "1.0~rc1" (a "~" is no version name) or not name_version_arch: keep looking


def _token_version(filename: str) -> str | None:
    stem = _EXTENSION.sub("", filename)
    match = _VERSION_TOKEN.search(stem)
    return match.group("version") if match else None


def _is_version_name(value: str) -> bool:
    try:
        validate_version_name(value)
    except InvalidName:
        return False
    return True


def detect_version(
    explicit: str | None, metadata_version: str | None, filename: str
) -> tuple[str | None, VersionSource | None]:
    """The version of an upload and where it came from.

    An explicit version is the client's word: it is stripped and validated (``InvalidName``
    when it breaks the naming rules). A metadata version that is not a valid version name
    (an npm ``1.0.0~x``) is skipped rather than failing the upload, as is an unreadable
    archive: the filename is tried next.
    """
    if explicit is not None and explicit.strip():
        return validate_version_name(explicit.strip()), VersionSource.EXPLICIT
    if metadata_version is not None and _is_version_name(metadata_version.strip()):
        return metadata_version.strip(), VersionSource.METADATA
    version = version_from_filename(filename)
    if version is not None:
        return version, VersionSource.FILENAME
    return None, None
