"""Entities and value objects of Orchard.

Plain dataclasses: adapters map rows to these with explicit functions, services pass
them around, entry points render them. Identifiers of stored rows are integers that the
metadata repository assigns, from 1; ``0`` before the row exists. Not ``None``: every
entity a repository returns has its id, and the use cases pass it on as an ``int``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class PackageFormat(enum.StrEnum):
    GENERIC = "generic"
    PYPI = "pypi"


class Role(enum.StrEnum):
    """Project roles, ordered: each includes the rights of the ones before it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return ("read", "write", "admin").index(self.value)

    def includes(self, other: Role) -> bool:
        return self.rank >= other.rank


class VersionSource(enum.StrEnum):
    EXPLICIT = "explicit"
    METADATA = "metadata"
    FILENAME = "filename"


@dataclass(frozen=True)
class Checksums:
    """Every digest Orchard records for a blob, computed in one streaming pass."""

    sha256: str
    md5: str
    sha1: str
    blake2b_256: str
    size: int


@dataclass
class Artifact:
    id: str  # lowercase hex SHA-256
    size: int
    content_type: str
    md5: str
    sha1: str
    blake2b_256: str
    created_at: datetime
    ref_count: int = 0
    released_at: datetime | None = None  # when ref_count last fell to 0 (GC grace starts)

    @property
    def checksums(self) -> dict[str, str]:
        return {
            "sha256": self.id,
            "md5": self.md5,
            "sha1": self.sha1,
            "blake2b_256": self.blake2b_256,
        }


@dataclass
class Project:
    name: str
    description: str = ""
    is_public: bool = True
    allow_overwrite: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str | None = None
    id: int = 0
    # Grows whenever a package is added to or deleted from the project: the key under
    # which the rendered package list (the index root) can be reused.
    index_serial: int = 0


@dataclass
class Package:
    project_id: int
    name: str
    format: PackageFormat = PackageFormat.GENERIC
    description: str = ""
    created_at: datetime | None = None
    id: int = 0
    project_name: str = ""
    serial: int = 0  # grows with every upload, yank and delete (index ETags, page caches)


@dataclass
class Upload:
    package_id: int
    artifact_id: str
    original_name: str
    created_at: datetime
    uploader: str | None = None
    tag: str | None = None
    version: str | None = None
    version_source: VersionSource | None = None
    id: int = 0


@dataclass
class Tag:
    package_id: int
    name: str
    artifact_id: str
    created_at: datetime
    updated_at: datetime
    id: int = 0


@dataclass
class TagChange:
    """One move of a tag: from ``old_artifact_id`` (None when created) to the new one."""

    tag_name: str
    old_artifact_id: str | None
    new_artifact_id: str
    changed_at: datetime
    changed_by: str | None = None


@dataclass
class Version:
    package_id: int
    version: str
    artifact_id: str
    version_source: VersionSource
    created_at: datetime
    id: int = 0


@dataclass
class Distribution:
    """One file of a Python release (sdist or wheel) in a ``pypi`` package.

    A deleted distribution stays as a tombstone (``deleted_at`` set) so its filename can
    never be reused with other bytes.
    """

    package_id: int
    filename: str
    version: str
    artifact_id: str
    upload_id: int | None
    created_at: datetime
    packagetype: str = "sdist"
    requires_python: str | None = None
    core_metadata: bytes | None = None  # the wheel's METADATA (PEP 658), when extracted
    metadata_sha256: str | None = None  # of core_metadata: index pages show it (PEP 714)
    yanked: bool = False
    yanked_reason: str | None = None
    deleted_at: datetime | None = None
    size: int = 0
    id: int = 0


@dataclass
class User:
    username: str
    password_hash: str
    is_admin: bool = False
    created_at: datetime | None = None
    id: int = 0


@dataclass
class ApiKey:
    """An API key: only a keyed hash of its secret is stored, never the secret."""

    user_id: int
    name: str
    key_hash: str
    prefix: str  # first characters of the secret, to recognise it in listings
    created_at: datetime
    last_used_at: datetime | None = None
    id: int = 0


@dataclass
class LoginFailures:
    """Failed password attempts under one throttling key (a hash of a username and a
    client address, or of an address alone), and until when that key is locked out."""

    key_hash: str
    failures: int
    last_failure_at: datetime
    blocked_until: datetime | None = None


@dataclass
class LoginSession:
    """A browser session: the cookie carries a random token, the database its hash, so
    logging out (deleting the row) ends the session everywhere at once."""

    token_hash: str
    user_id: int
    created_at: datetime
    expires_at: datetime


@dataclass
class Membership:
    project_id: int
    user_id: int
    role: Role
    username: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class Page:
    """One page of a listing and where it sits in the whole."""

    items: list = field(default_factory=list)
    total: int = 0
    page: int = 1
    limit: int = 50

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit)) if self.limit else 1


@dataclass(frozen=True)
class PackageMetadata:
    """What a self-describing archive says about itself."""

    name: str | None = None
    version: str | None = None
    requires_python: str | None = None
    summary: str | None = None
    core_metadata: bytes | None = None  # a wheel's METADATA file, verbatim (PEP 658)
