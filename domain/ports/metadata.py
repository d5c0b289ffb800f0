"""The metadata ports: one repository per kind of row, and the unit of work over them
(the repositories of users, keys, sessions and members are in ``accounts.py``).

The SQL adapters live in ``adapters/sql/`` and ``adapters/unit_of_work.py``; the
in-memory fakes in ``tests/fakes/metadata*.py``. Both are held to one contract by
``tests/integration/metadata_contract/``. Database failures surface as
``BackendUnavailable``.
"""

from __future__ import annotations

import abc
from datetime import datetime

from domain.model import (
    Artifact,
    Distribution,
    Package,
    Project,
    Tag,
    TagChange,
    Upload,
    Version,
)
from domain.ports.accounts import (
    ApiKeyRepository,
    LoginFailureRepository,
    MembershipRepository,
    SessionRepository,
    UserRepository,
)


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
    def list_page(
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
    def list_page(
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
    def list_page(self, package_id: int, *, limit: int, offset: int) -> tuple[list[Upload], int]:
        """Uploads of the package, newest first, and the total."""

    @abc.abstractmethod
    def held_artifacts(
        self, package_id: int, *, limit: int, offset: int
    ) -> tuple[list[tuple[Artifact, int]], int]:
        """One page of the artifacts the package holds, by id, each with the number of
        the package's uploads holding it; and how many it holds in all. One query."""

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
    def list_page(
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
    def list_page(
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
    login_failures: LoginFailureRepository

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
