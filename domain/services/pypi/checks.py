"""What an uploaded distribution must satisfy before anything is recorded (pure rules)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from packaging.metadata import parse_email
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from domain import names
from domain.distributions import (
    DistributionFile,
    check_matches_form,
    parse_distribution_filename,
)
from domain.errors import EmptyContent, InvalidInput
from domain.model import Checksums

MAX_REQUIRES_PYTHON = 255
# form field -> attribute of Checksums; twine and uv send all three, poetry sha256 + md5.
DIGEST_FIELDS = {
    "sha256_digest": "sha256",
    "blake2_256_digest": "blake2b_256",
    "md5_digest": "md5",
}


@dataclass(frozen=True)
class DistributionUpload:
    """What the client sent with the file, as primitives (the legacy upload form)."""

    project: str
    name: str
    version: str
    filename: str
    digests: dict[str, str]  # form field name -> hex digest, as sent
    requires_python: str | None = None


def check_form(upload: DistributionUpload) -> DistributionFile:
    """The parsed filename, once it is safe and agrees with the form's name and version."""
    names.validate_filename(upload.filename)
    parsed = parse_distribution_filename(upload.filename)
    check_matches_form(parsed, upload.name, upload.version)
    return parsed


def check_content(upload: DistributionUpload, checksums: Checksums) -> None:
    """Every digest the client sent must be the content's; a missing one is not checked."""
    if checksums.size == 0:
        raise EmptyContent("The uploaded file is empty.")
    for field, attribute in DIGEST_FIELDS.items():
        sent = (upload.digests.get(field) or "").strip().lower()
        actual = getattr(checksums, attribute)
        if sent and not hmac.compare_digest(sent.encode(), actual.encode()):
            raise InvalidInput(
                f"The {field} {sent[:128]!r} does not match the uploaded content "
                f"({actual}): the file was corrupted in transit. Nothing was stored."
            )


def check_metadata_matches(
    parsed: DistributionFile, name: str | None, version: str | None, source: str
) -> None:
    """The archive's own metadata must name the project and version its filename does,
    as pypi.org requires: an index would otherwise list a file under one project that
    installs as another (pip trusts METADATA once it has downloaded the file)."""
    if not name or not version:
        raise InvalidInput(f"The {source} of {parsed.filename!r} lacks its Name or Version.")
    if canonicalize_name(name) != parsed.name:
        raise InvalidInput(
            f"The {source} of {parsed.filename!r} names the project {name[:120]!r}, "
            f"but the filename says {parsed.name!r}."
        )
    try:
        same = Version(version) == Version(parsed.version)
    except InvalidVersion:
        same = False
    if not same:
        raise InvalidInput(
            f"The {source} of {parsed.filename!r} says version {version[:120]!r}, "
            f"but the filename says {parsed.version!r}."
        )


def check_wheel_metadata(parsed: DistributionFile, core_metadata: bytes) -> None:
    """``check_metadata_matches`` for a wheel's ``.dist-info/METADATA``."""
    raw, _unparsed = parse_email(core_metadata)
    name, version = raw.get("name"), raw.get("version")
    check_metadata_matches(
        parsed,
        name if isinstance(name, str) else None,
        version if isinstance(version, str) else None,
        "METADATA",
    )


def requires_python(form_value: str | None, core_metadata: bytes | None) -> str | None:
    """The form's ``requires_python``, else the wheel's ``Requires-Python``; a valid
    PEP 440 specifier set or ``InvalidInput`` (pip would choke on anything else)."""
    value = (form_value or "").strip() or _from_metadata(core_metadata)
    if not value:
        return None
    if len(value) > MAX_REQUIRES_PYTHON:
        raise InvalidInput(f"Requires-Python is longer than {MAX_REQUIRES_PYTHON} characters.")
    try:
        SpecifierSet(value)
    except InvalidSpecifier:
        raise InvalidInput(
            f"Requires-Python {value[:120]!r} is not a valid version specifier "
            "(PEP 440), e.g. '>=3.9'."
        ) from None
    return value


def _from_metadata(core_metadata: bytes | None) -> str | None:
    if not core_metadata:
        return None
    raw, _unparsed = parse_email(core_metadata)
    value = raw.get("requires_python")
    return value.strip() if isinstance(value, str) else None
