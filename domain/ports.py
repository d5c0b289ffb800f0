"""The ports: what the use cases need from the outside world, and nothing more.

Adapters implement these ABCs; tests implement them with in-memory fakes
(``tests/unit/fakes.py``). Every adapter translates its vendor's errors into the domain
errors named in the docstrings (``BlobNotFound``, ``BackendUnavailable``, ...).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from domain.model import (
    ApiKey,
    Artifact,
    Checksums,
    Distribution,
    LoginSession,
    Membership,
    Package,
    Project,
    Tag,
    TagChange,
    Upload,
    User,
    Version,
)

# --------------------------------------------------------------------------- clock


class Clock(abc.ABC):
    @abc.abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


# --------------------------------------------------------------------------- package metadata


@dataclass(frozen=True)
class PackageMetadata:
    """What a self-describing archive says about itself."""

    name: str | None = None
    version: str | None = None
    requires_python: str | None = None
    summary: str | None = None
    core_metadata: bytes | None = None  # a wheel's METADATA file, verbatim (PEP 658)


class MetadataReader(abc.ABC):
    @abc.abstractmethod
    def read(self, file: BinaryIO, filename: str) -> PackageMetadata | None:
        """Read the metadata of a wheel (``*.dist-info/METADATA``), an sdist (``PKG-INFO``)
        or an npm-style ``.tgz`` (``package.json``) from a seekable file.

        Bounded in bytes read and decompressed; never raises: an unreadable or hostile
        archive yields None.
        """

    @abc.abstractmethod
    def read_wheel_metadata(self, file: BinaryIO) -> bytes:
        """The METADATA of a wheel, for the index. Raises ``InvalidInput`` with a reason
        when the file is not a zip, has no METADATA, or METADATA is too large once
        decompressed (a zip bomb)."""


# --------------------------------------------------------------------------- blobs


@dataclass(frozen=True)
class StagedBlob:
    """Bytes written to a temporary place in the blob store, hashed, not yet visible.

    ``token`` is the adapter's handle on the temporary object (a path, a key).
    """

    token: str
    checksums: Checksums

    @property
    def sha256(self) -> str:
        return self.checksums.sha256

    @property
    def size(self) -> int:
        return self.checksums.size


class BlobWriter(abc.ABC):
    """A write-only stream into a temporary object that hashes every byte it is given."""

    @abc.abstractmethod
    def write(self, data: bytes) -> int:
        """Append ``data``; raises ``TooLarge`` past the writer's limit,
        ``BackendUnavailable`` when the store fails."""

    @abc.abstractmethod
    def finish(self) -> StagedBlob:
        """Flush and make the bytes durable in the temporary place; return the digests."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Drop everything written so far. Safe to call more than once, or after finish."""


class BlobReader(abc.ABC):
    """An open blob: iterate for chunks, ``close()`` when done."""

    size: int

    @abc.abstractmethod
    def __iter__(self) -> Iterator[bytes]:
        """The bytes, in chunks of bounded size."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the underlying file or connection."""


class BlobStore(abc.ABC):
    """Content-addressed storage: a blob's key is the hex SHA-256 of its bytes."""

    @abc.abstractmethod
    def writer(self, max_size: int | None = None) -> BlobWriter:
        """Open a temporary object to stream into. ``max_size`` bounds it (``TooLarge``)."""

    @abc.abstractmethod
    def open_staged(self, staged: StagedBlob) -> BinaryIO:
        """A seekable, read-only file object over a staged blob, to read package metadata."""

    @abc.abstractmethod
    def promote(self, staged: StagedBlob) -> None:
        """Make the staged bytes visible under their SHA-256 and drop the temporary object.

        Idempotent: when the blob exists already the temporary one is dropped and the
        existing blob's modification time is refreshed, so garbage collection's grace
        period starts again. Raises ``BackendUnavailable``.
        """

    @abc.abstractmethod
    def discard(self, staged: StagedBlob) -> None:
        """Drop a staged blob that will not be promoted. Never raises for a missing one."""

    @abc.abstractmethod
    def exists(self, sha256: str) -> bool:
        """Whether a promoted blob exists under that key."""

    @abc.abstractmethod
    def open(self, sha256: str, start: int = 0, end: int | None = None) -> BlobReader:
        """Read bytes ``start`` to ``end`` inclusive (``end=None``: to the last byte).

        Raises ``BlobNotFound`` or ``BackendUnavailable``.
        """

    @abc.abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove a promoted blob. A missing blob is not an error."""

    @abc.abstractmethod
    def quarantine(self, sha256: str) -> None:
        """Move a promoted blob aside (fsck --repair: its bytes do not match its key) so it
        is no longer listed or served, yet kept for a human to inspect. Afterwards
        ``exists`` is False and ``open`` raises ``BlobNotFound``. Raises ``BlobNotFound``
        when there is no such blob, ``BackendUnavailable`` when the store fails."""

    @abc.abstractmethod
    def modified_at(self, sha256: str) -> datetime | None:
        """When the blob was last written or refreshed; ``None`` when it does not exist."""

    @abc.abstractmethod
    def iter_blobs(self) -> Iterable[str]:
        """Every promoted blob's key (for fsck and the orphan sweep)."""

    @abc.abstractmethod
    def sweep_temporary(self, older_than: datetime) -> int:
        """Delete temporary objects (and aborted multipart uploads) older than that time;
        return how many were removed."""

    @abc.abstractmethod
    def presigned_url(
        self, sha256: str, filename: str, content_type: str, expires_in: int
    ) -> str | None:
        """A URL a client can GET directly, or ``None`` where the store cannot sign."""

    @abc.abstractmethod
    def local_path(self, sha256: str) -> str | None:
        """A filesystem path to the blob for zero-copy serving, or ``None``."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise ``BackendUnavailable`` unless the store answers now (for /health)."""


# --------------------------------------------------------------------------- metadata


class ProjectRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, name: str) -> Project | None:
        """The project of that (exact) name, or None."""

    @abc.abstractmethod
    def add(self, project: Project) -> Project:
        """Insert; returns it with ``id`` set. Raises ``AlreadyExists`` on a duplicate name."""

    @abc.abstractmethod
    def update(self, project: Project) -> None:
        """Store description, is_public, allow_overwrite, updated_at of an existing project."""

    @abc.abstractmethod
    def delete(self, project_id: int) -> None:
        """Delete the project row with everything below it (packages, tags, versions,
        uploads, distributions, members). Reference counts are released by the caller first."""

    @abc.abstractmethod
    def list(
        self,
        *,
        visible_to_user_id: int | None,
        include_all: bool,
        search: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Project], int]:
        """Projects ordered by name, and the total count. ``include_all`` for admins;
        otherwise public projects plus those ``visible_to_user_id`` is a member of."""


class PackageRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, project_id: int, name: str) -> Package | None:
        """The package of that name in the project, or None."""

    @abc.abstractmethod
    def find(self, project_name: str, name: str) -> tuple[Project, Package | None] | None:
        """The project of that name with its package of that name (None when missing),
        in one read: every index page and file request starts here. None when the
        project does not exist."""

    @abc.abstractmethod
    def add(self, package: Package) -> Package:
        """Insert; returns it with ``id`` set and the project's ``index_serial`` bumped.
        Raises ``AlreadyExists``."""

    @abc.abstractmethod
    def delete(self, package_id: int) -> None:
        """Delete the package row with its tags, versions, uploads and distributions, and
        bump its project's ``index_serial``."""

    @abc.abstractmethod
    def list(
        self,
        project_id: int,
        *,
        search: str | None,
        format: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Package], int]:
        """Packages of the project ordered by name, and the total count."""

    @abc.abstractmethod
    def names(self, project_id: int, *, format: str | None) -> list[str]:
        """Every package name of the project (of that format), ordered: the PEP 503 root
        page, without building whole packages or counting."""

    @abc.abstractmethod
    def touch(self, package_id: int, at: datetime) -> int:
        """Advance the package's change serial (for index ETags); return the new serial."""


class ArtifactRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, artifact_id: str) -> Artifact | None:
        """The artifact row, or None."""

    @abc.abstractmethod
    def add_reference(self, artifact: Artifact) -> tuple[int, bool]:
        """Insert the artifact if absent, then add one reference with atomic SQL.

        Returns ``(ref_count_after, existed_before)``. Concurrent callers with the same id
        each get their reference counted; the row is locked until the transaction ends,
        which is what keeps garbage collection from deleting the blob meanwhile.
        """

    @abc.abstractmethod
    def release(self, artifact_id: str, count: int, at: datetime) -> int:
        """Remove ``count`` references atomically; when the count reaches 0 record
        ``released_at = at``. Returns the count after."""

    @abc.abstractmethod
    def list_garbage(self, released_before: datetime, limit: int) -> list[Artifact]:
        """Artifacts with ref_count 0 released before that time."""

    @abc.abstractmethod
    def claim_orphan(self, artifact_id: str, at: datetime) -> bool:
        """Hold the id of an artifact that has no row, for the rest of this transaction:
        an upload of the same bytes, which inserts that row, waits until the transaction
        ends. False when a row exists (the blob is no orphan). The claim is a row the
        caller must never commit: leaving without ``commit()`` removes it."""

    @abc.abstractmethod
    def lock_garbage(self, artifact_id: str, released_before: datetime) -> Artifact | None:
        """Lock the row (``FOR UPDATE``) and return it only if it is still garbage released
        before that time; the caller then deletes blob and row in the same transaction."""

    @abc.abstractmethod
    def delete(self, artifact_id: str) -> None:
        """Delete the artifact row."""

    @abc.abstractmethod
    def all_ids(self) -> set[str]:
        """Every artifact id (for fsck and the orphan sweep)."""

    @abc.abstractmethod
    def set_ref_count(self, artifact_id: str, ref_count: int, at: datetime) -> None:
        """Overwrite the count (fsck --repair only, from a fresh count of uploads)."""


class UploadRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, upload: Upload) -> Upload:
        """Insert; returns it with ``id`` set."""

    @abc.abstractmethod
    def list(self, package_id: int, *, limit: int, offset: int) -> tuple[list[Upload], int]:
        """Uploads of the package, newest first, and the total."""

    @abc.abstractmethod
    def artifacts_of_package(self, package_id: int) -> dict[str, int]:
        """artifact id -> number of uploads of the package holding it."""

    @abc.abstractmethod
    def package_holds(self, package_id: int, artifact_id: str) -> bool:
        """Whether any upload of the package holds the artifact."""

    @abc.abstractmethod
    def latest_for_artifact(self, package_id: int, artifact_id: str) -> Upload | None:
        """The package's most recent upload of that artifact (its filename names downloads)."""

    @abc.abstractmethod
    def delete_for_artifact(self, package_id: int, artifact_id: str) -> int:
        """Delete the package's uploads of that artifact; return how many."""

    @abc.abstractmethod
    def delete(self, upload_id: int) -> Upload | None:
        """Delete one upload; return it, or None when absent."""

    @abc.abstractmethod
    def references_by_artifact(
        self, *, project_id: int | None = None, package_id: int | None = None
    ) -> dict[str, int]:
        """artifact id -> uploads holding it, over one package, one project, or everything."""

    @abc.abstractmethod
    def readable_packages_holding(self, artifact_id: str) -> list[tuple[Project, Package]]:
        """Every (project, package) with an upload of the artifact (for access checks)."""


class TagRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, package_id: int, name: str) -> Tag | None:
        """The tag, or None."""

    @abc.abstractmethod
    def set(
        self, package_id: int, name: str, artifact_id: str, at: datetime, by: str | None
    ) -> TagChange | None:
        """Create or move the tag and append to its history in the same transaction.
        Returns the change, or None when the tag already pointed there."""

    @abc.abstractmethod
    def delete(self, package_id: int, name: str) -> bool:
        """Delete the tag (its history stays); False when absent."""

    @abc.abstractmethod
    def delete_for_artifact(self, package_id: int, artifact_id: str) -> int:
        """Delete the package's tags pointing at that artifact; return how many."""

    @abc.abstractmethod
    def list(
        self, package_id: int, *, search: str | None, limit: int, offset: int
    ) -> tuple[list[Tag], int]:
        """Tags ordered by name, and the total."""

    @abc.abstractmethod
    def history(self, package_id: int, name: str) -> list[TagChange]:
        """The tag's moves, oldest first."""


class VersionRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, package_id: int, version: str) -> Version | None:
        """The version, or None."""

    @abc.abstractmethod
    def add_if_absent(self, version: Version) -> Version:
        """Insert unless (package, version) exists; return the row that is stored now.

        Concurrent inserts of the same version resolve to one winner (a unique
        constraint); the caller compares the returned ``artifact_id`` with its own.
        """

    @abc.abstractmethod
    def delete(self, package_id: int, version: str) -> bool:
        """Delete; False when absent."""

    @abc.abstractmethod
    def delete_for_artifact(self, package_id: int, artifact_id: str) -> int:
        """Delete the package's versions pointing at that artifact; return how many."""

    @abc.abstractmethod
    def list(
        self, package_id: int, *, search: str | None, limit: int, offset: int
    ) -> tuple[list[Version], int]:
        """Versions, newest first, and the total."""


class DistributionRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, package_id: int, filename: str) -> Distribution | None:
        """The file (live or tombstone) of that exact filename, or None."""

    @abc.abstractmethod
    def add(self, distribution: Distribution) -> Distribution:
        """Insert. Raises ``FileExists`` when the filename exists (a unique constraint)."""

    @abc.abstractmethod
    def update(self, distribution: Distribution) -> None:
        """Store yanked, yanked_reason, deleted_at, artifact_id, upload_id, metadata."""

    @abc.abstractmethod
    def list_live(self, package_id: int, *, with_metadata: bool = True) -> list[Distribution]:
        """Files not deleted, ordered by version then filename. ``with_metadata=False``
        leaves ``core_metadata`` unread (None) for display: never ``update()`` those."""

    @abc.abstractmethod
    def list_tombstones(self, package_id: int) -> list[Distribution]:
        """Deleted files, oldest first: kept so their filenames never return with other
        bytes."""

    @abc.abstractmethod
    def find_in_project(
        self, project_name: str, artifact_id: str, filename: str, *, with_metadata: bool = True
    ) -> tuple[Project, Distribution | None, Artifact | None] | None:
        """The project of that name with its undeleted file of those bytes and that
        filename and the file's artifact, in one read: every ``/files/`` request starts
        here. None when the project does not exist; ``(project, None, None)`` when it has
        no such file. ``with_metadata=False`` leaves ``core_metadata`` unread (None)."""


class UserRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, username: str) -> User | None:
        """The user, or None."""

    @abc.abstractmethod
    def get_by_id(self, user_id: int) -> User | None:
        """The user, or None."""

    @abc.abstractmethod
    def add(self, user: User) -> User:
        """Insert; raises ``AlreadyExists``."""

    @abc.abstractmethod
    def update(self, user: User) -> None:
        """Store password_hash and is_admin."""

    @abc.abstractmethod
    def delete(self, user_id: int) -> None:
        """Delete the user with their keys and memberships."""

    @abc.abstractmethod
    def list(self) -> list[User]:
        """All users by name."""

    @abc.abstractmethod
    def lock_admins(self) -> list[User]:
        """The administrators by name, locked until the transaction ends, so that two
        transactions each taking away one of the last two cannot both commit."""


class ApiKeyRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, key: ApiKey) -> ApiKey:
        """Insert; returns it with ``id`` set."""

    @abc.abstractmethod
    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key whose keyed hash this is, or None."""

    @abc.abstractmethod
    def list_for_user(self, user_id: int) -> list[ApiKey]:
        """The user's keys, newest first."""

    @abc.abstractmethod
    def delete(self, user_id: int, key_id: int) -> bool:
        """Delete the user's key; False when absent."""

    @abc.abstractmethod
    def mark_used(self, key_id: int, at: datetime) -> None:
        """Record a use."""


class SessionRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, login: LoginSession) -> None:
        """Record a new session."""

    @abc.abstractmethod
    def get(self, token_hash: str) -> LoginSession | None:
        """The session with that token hash, or None (expired ones included)."""

    @abc.abstractmethod
    def delete(self, token_hash: str) -> bool:
        """End the session; False when absent."""

    @abc.abstractmethod
    def delete_expired(self, before: datetime) -> int:
        """Remove sessions that expired before that time; return how many."""


class MembershipRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, project_id: int, user_id: int) -> Membership | None:
        """The membership, or None."""

    @abc.abstractmethod
    def set(self, membership: Membership) -> None:
        """Insert or change the role."""

    @abc.abstractmethod
    def delete(self, project_id: int, user_id: int) -> bool:
        """Remove; False when absent."""

    @abc.abstractmethod
    def list(self, project_id: int) -> list[Membership]:
        """Members of the project, by username."""


class UnitOfWork(abc.ABC):
    """One transaction over every repository.

    ``with uow:`` opens it; ``uow.commit()`` makes the work durable; leaving the block
    without committing rolls back. Database failures surface as ``BackendUnavailable``.
    """

    projects: ProjectRepository
    packages: PackageRepository
    artifacts: ArtifactRepository
    uploads: UploadRepository
    tags: TagRepository
    versions: VersionRepository
    distributions: DistributionRepository
    users: UserRepository
    api_keys: ApiKeyRepository
    members: MembershipRepository
    sessions: SessionRepository

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None:
        """Make the transaction durable. Raises ``Conflict`` for a unique-constraint race
        the repositories did not resolve, ``BackendUnavailable`` when the database fails."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Undo everything since the last commit. Safe to call twice."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise ``BackendUnavailable`` unless the database answers now (for /health)."""


# --------------------------------------------------------------------------- credentials


class PasswordHasher(abc.ABC):
    """A deliberately slow password hash (argon2 in production, a cheap one in tests)."""

    @abc.abstractmethod
    def hash(self, password: str) -> str:
        """An encoded hash with its own salt and parameters."""

    @abc.abstractmethod
    def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches; never raises for a mismatch or a malformed hash."""
