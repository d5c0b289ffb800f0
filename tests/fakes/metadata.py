"""An in-memory metadata database: ``FakeUnitOfWork`` over a shared ``FakeDatabase``.

Real transaction semantics, cheaply: entering a unit of work (or rolling back) takes a
deep copy of the committed state, the repositories work on that copy, and ``commit()``
publishes it. Several units of work may share one ``FakeDatabase`` to see each other's
committed work; they are not meant to run concurrently (the last commit wins whole).
``tests/integration/metadata_contract/`` runs the same cases on this fake and on
the SQL adapter, so the two cannot drift apart.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field

from domain.errors import BackendUnavailable
from domain.model import (
    ApiKey,
    Artifact,
    Distribution,
    LoginFailures,
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
from domain.ports import UnitOfWork
from tests.fakes.login_failures import FakeLoginFailureRepository
from tests.fakes.metadata_references import (
    FakeApiKeyRepository,
    FakeDistributionRepository,
    FakeMembershipRepository,
    FakeSessionRepository,
    FakeTagRepository,
    FakeUserRepository,
    FakeVersionRepository,
)
from tests.fakes.metadata_repositories import (
    FakeArtifactRepository,
    FakePackageRepository,
    FakeProjectRepository,
    FakeUploadRepository,
)
from tests.fakes.upstream import FakeUpstreamRepository


@dataclass
class FakeState:
    """Every table, as dicts keyed like the SQL unique constraints."""

    projects: dict[int, Project] = field(default_factory=dict)
    packages: dict[int, Package] = field(default_factory=dict)
    serials: dict[int, int] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    uploads: dict[int, Upload] = field(default_factory=dict)
    tags: dict[tuple[int, str], Tag] = field(default_factory=dict)
    tag_history: list[tuple[int, TagChange]] = field(default_factory=list)
    versions: dict[tuple[int, str], Version] = field(default_factory=dict)
    distributions: dict[tuple[int, str], Distribution] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    api_keys: dict[int, ApiKey] = field(default_factory=dict)
    members: dict[tuple[int, int], Membership] = field(default_factory=dict)
    sessions: dict[str, LoginSession] = field(default_factory=dict)
    login_failures: dict[str, LoginFailures] = field(default_factory=dict)
    last_id: int = 0

    def next_id(self) -> int:
        self.last_id += 1
        return self.last_id

    def delete_package(self, package_id: int) -> None:
        """ON DELETE CASCADE from packages."""
        self.packages.pop(package_id, None)
        self.serials.pop(package_id, None)
        self.uploads = {k: u for k, u in self.uploads.items() if u.package_id != package_id}
        for table in (self.tags, self.versions, self.distributions):
            for key in [key for key in table if key[0] == package_id]:
                del table[key]
        self.tag_history = [(p, c) for p, c in self.tag_history if p != package_id]

    def delete_project(self, project_id: int) -> None:
        """ON DELETE CASCADE from projects."""
        for package in [p for p in self.packages.values() if p.project_id == project_id]:
            self.delete_package(package.id)
        self.members = {k: m for k, m in self.members.items() if k[0] != project_id}
        self.projects.pop(project_id, None)

    def delete_user(self, user_id: int) -> None:
        """ON DELETE CASCADE from users."""
        self.api_keys = {k: a for k, a in self.api_keys.items() if a.user_id != user_id}
        self.members = {k: m for k, m in self.members.items() if k[1] != user_id}
        self.sessions = {k: v for k, v in self.sessions.items() if v.user_id != user_id}
        self.users.pop(user_id, None)


class FakeDatabase:
    """The committed state that several ``FakeUnitOfWork`` instances share.

    Set ``available = False`` to make every unit of work raise ``BackendUnavailable``.
    """

    def __init__(self) -> None:
        self.state = FakeState()
        self.commits = 0
        self.available = True
        self.lock = threading.Lock()
        self.upstream = FakeUpstreamRepository()

    def snapshot(self) -> FakeState:
        with self.lock:
            return copy.deepcopy(self.state)

    def publish(self, state: FakeState) -> None:
        with self.lock:
            self.state = copy.deepcopy(state)
            self.commits += 1


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, db: FakeDatabase | None = None) -> None:
        self.db = db if db is not None else FakeDatabase()
        self.committed = False
        self.state = self.db.snapshot()
        self.projects = FakeProjectRepository(self)
        self.packages = FakePackageRepository(self)
        self.artifacts = FakeArtifactRepository(self)
        self.uploads = FakeUploadRepository(self)
        self.tags = FakeTagRepository(self)
        self.versions = FakeVersionRepository(self)
        self.distributions = FakeDistributionRepository(self)
        self.users = FakeUserRepository(self)
        self.api_keys = FakeApiKeyRepository(self)
        self.members = FakeMembershipRepository(self)
        self.sessions = FakeSessionRepository(self)
        self.login_failures = FakeLoginFailureRepository(self)
        self.upstream = self.db.upstream  # not transactional: the cache's rules are tested live

    @property
    def commits(self) -> int:
        """Commits on the shared database, by any unit of work."""
        return self.db.commits

    def __enter__(self) -> FakeUnitOfWork:
        self._ensure_available()
        self.state = self.db.snapshot()
        return self

    def commit(self) -> None:
        self._ensure_available()
        self.db.publish(self.state)
        self.committed = True

    def rollback(self) -> None:
        self.state = self.db.snapshot()

    def check(self) -> None:
        self._ensure_available()

    def _ensure_available(self) -> None:
        if not self.db.available:
            raise BackendUnavailable("The database is unavailable.")


class FakeUnitOfWorkFactory:
    """What ``Services.uow`` is: ``uow(read_only=False, snapshot=False)`` opens one unit
    of work. Each over the same ``FakeDatabase``; the mode of each is remembered, so a
    test can tell how many read-write ones a request opened (on SQLite each of those
    takes the writers' lock)."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.modes: list[str] = []

    def __call__(self, read_only: bool = False, snapshot: bool = False) -> FakeUnitOfWork:
        self.modes.append("snapshot" if snapshot else "read" if read_only else "write")
        return FakeUnitOfWork(self.db)
