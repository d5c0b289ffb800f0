"""Python distribution filenames: what a wheel or sdist name says, and whether the upload
form agrees with it (SPEC §3 upload rules).

``packaging`` does the parsing; this module only turns its answers into domain values and
its errors into ``InvalidInput`` sentences that twine and uv show to the user.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    is_normalized_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from domain.errors import InvalidInput

PackageType = Literal["sdist", "bdist_wheel"]


def _shown(value: str, limit: int = 120) -> str:
    """Quote a client's value for a message (twine prints it): escaped and bounded."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


@dataclass(frozen=True)
class DistributionFile:
    """A parsed distribution filename: PEP 503 name, normalized PEP 440 version, type.

    ``filename`` is the name it was parsed from, kept for error messages; it does not
    take part in equality.
    """

    name: str
    version: str
    packagetype: PackageType
    filename: str = field(default="", compare=False)


def parse_distribution_filename(filename: str) -> DistributionFile:
    """Parse a wheel (``.whl``) or sdist (``.tar.gz``, ``.zip``) filename.

    Raises ``InvalidInput`` with the reason for anything else, as pypi.org does: an index
    whose filenames do not parse is an index pip cannot use.
    """
    shown = _shown(filename)
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
            return _distribution(name, version, "bdist_wheel", filename, shown)
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return _distribution(name, version, "sdist", filename, shown)
    except (InvalidWheelFilename, InvalidSdistFilename) as error:
        raise InvalidInput(f"Invalid distribution filename {shown}: {error}") from None
    raise InvalidInput(
        f"Invalid distribution filename {shown}: "
        "a wheel ends in '.whl' and a source distribution in '.tar.gz' or '.zip'."
    )


def _distribution(
    name: str, version: Version, packagetype: PackageType, filename: str, shown: str
) -> DistributionFile:
    # parse_sdist_filename normalizes without validating ("foo_-1.0.tar.gz" -> "foo-").
    if not is_normalized_name(name):
        raise InvalidInput(
            f"Invalid distribution filename {shown}: the project name is not a valid "
            "Python project name."
        )
    return DistributionFile(str(name), str(version), packagetype, filename)


def check_matches_form(dist: DistributionFile, form_name: str, form_version: str) -> None:
    """Raise ``InvalidInput`` unless the form's name and version are the filename's, after
    PEP 503 name normalization and PEP 440 version comparison (``1.0`` == ``1.0.0``)."""
    described = _shown(dist.filename) if dist.filename else "of this distribution"
    if canonicalize_name(form_name) != dist.name:
        raise InvalidInput(
            f"The filename {described} does not match the name {_shown(form_name)} "
            f"given in the upload form (the filename says {dist.name!r})."
        )
    try:
        matches = Version(form_version) == Version(dist.version)
    except InvalidVersion:
        raise InvalidInput(
            f"The version {_shown(form_version)} in the upload form is not a valid PEP 440 version."
        ) from None
    if not matches:
        raise InvalidInput(
            f"The filename {described} does not match the version {_shown(form_version)} "
            f"given in the upload form (the filename says {dist.version!r})."
        )


def metadata_digest(core_metadata: bytes | None) -> str | None:
    """The SHA-256 an index shows for a wheel's METADATA (PEP 658/714); None without one."""
    return hashlib.sha256(core_metadata).hexdigest() if core_metadata else None
