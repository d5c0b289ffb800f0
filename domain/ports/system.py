"""The system ports: the clock, the archive metadata reader and the password hasher.

Small seams the use cases need so that tests control time, archives and slow hashes
(``tests/fakes/clock.py``, ``package_metadata.py``, ``credentials.py``).
"""

from __future__ import annotations

import abc
from datetime import datetime
from typing import BinaryIO

from domain.model import PackageMetadata


class Clock(abc.ABC):
    @abc.abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class MetadataReader(abc.ABC):
    @abc.abstractmethod
    def read(self, file: BinaryIO, filename: str) -> PackageMetadata | None:
        """Read the metadata of a wheel (``*.dist-info/METADATA``), an sdist (``PKG-INFO``)
        or an npm-style ``.tgz`` (``package.json``) from a seekable file.

        Bounded in bytes read and decompressed; never raises: an unreadable or hostile
        archive yields None.
        """

    @abc.abstractmethod
    def read_sdist_metadata(self, file: BinaryIO, filename: str) -> PackageMetadata | None:
        """The PKG-INFO of a source distribution (``.tar.gz`` or ``.zip``), for the index.

        Raises ``InvalidInput`` with a reason when the file is not the archive its name
        says (a ``.tar.gz`` that is not gzip, a ``.zip`` that is not a zip), is corrupt, or
        has no top-level PKG-INFO. None when the archive is too large to look through
        within the reader's bounds (it is then not refused)."""

    @abc.abstractmethod
    def read_wheel_metadata(self, file: BinaryIO) -> bytes:
        """The METADATA of a wheel, for the index. Raises ``InvalidInput`` with a reason
        when the file is not a zip, has no METADATA, or METADATA is too large once
        decompressed (a zip bomb)."""


class PasswordHasher(abc.ABC):
    """A deliberately slow password hash (argon2 in production, a cheap one in tests)."""

    @abc.abstractmethod
    def hash(self, password: str) -> str:
        """An encoded hash with its own salt and parameters."""

    @abc.abstractmethod
    def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches; never raises for a mismatch or a malformed hash."""
