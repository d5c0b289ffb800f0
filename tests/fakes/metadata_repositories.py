"""Projects, packages, artifacts and uploads of ``FakeUnitOfWork``: dict work on the unit
of work's private state (tags, versions, files and accounts: ``metadata_references``).

They store and hand out copies, as a database would: changing a returned object changes
nothing until it is passed to ``update``.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from domain import ports
from domain.errors import AlreadyExists, Conflict
from domain.model import Artifact, Package, Project, Upload

if TYPE_CHECKING:
    from tests.fakes.metadata import FakeState, FakeUnitOfWork


def utc_copy(item: Any) -> Any:
    """A copy, as a database row would be, with every datetime in UTC (as SQL gives back)."""
    if item is None:
        return None
    changes = {
        f.name: getattr(item, f.name).astimezone(UTC)
        for f in fields(item)
        if isinstance(getattr(item, f.name), datetime)
    }
    return replace(item, **changes)


def page(items: list, limit: int, offset: int) -> tuple[list, int]:
    return items[offset : offset + limit], len(items)


def matches(name: str, search: str | None) -> bool:
    return not search or search.lower() in name.lower()


class FakeRepository:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _db(self) -> FakeState:
        return self._uow.state


class FakeProjectRepository(FakeRepository, ports.ProjectRepository):
    def get(self, name: str) -> Project | None:
        found = [p for p in self._db.projects.values() if p.name == name]
        return utc_copy(found[0]) if found else None

    def add(self, project: Project) -> Project:
        if self.get(project.name) is not None:
            raise AlreadyExists(f"Project '{project.name}' already exists.")
        project.id = self._db.next_id()
        self._db.projects[project.id] = utc_copy(project)
        return project

    def update(self, project: Project) -> None:
        stored = self._db.projects.get(project.id)
        if stored is not None:
            stored.description, stored.is_public = project.description, project.is_public
            stored.allow_overwrite, stored.updated_at = project.allow_overwrite, project.updated_at

    def delete(self, project_id: int) -> None:
        self._db.delete_project(project_id)

    def list_page(
        self, *, visible_to_user_id: int | None, include_all: bool, search: str | None,
        limit: int, offset: int,
    ) -> tuple[list[Project], int]:  # fmt: skip
        member_of = {k[0] for k in self._db.members if k[1] == visible_to_user_id}
        found = [
            utc_copy(p)
            for p in sorted(self._db.projects.values(), key=lambda p: p.name)
            if (include_all or p.is_public or p.id in member_of) and matches(p.name, search)
        ]
        return page(found, limit, offset)


class FakePackageRepository(FakeRepository, ports.PackageRepository):
    def get(self, project_id: int, name: str) -> Package | None:
        found = [
            p for p in self._db.packages.values() if p.project_id == project_id and p.name == name
        ]
        return self._out(found[0]) if found else None

    def find(self, project_name: str, name: str) -> tuple[Project, Package | None] | None:
        project = FakeProjectRepository(self._uow).get(project_name)
        return None if project is None else (project, self.get(project.id, name))

    def _out(self, package: Package) -> Package:
        return replace(
            package,
            project_name=self._db.projects[package.project_id].name,
            serial=self._db.serials.get(package.id, 0),
        )

    def add(self, package: Package) -> Package:
        if self.get(package.project_id, package.name) is not None:
            raise AlreadyExists(f"Package '{package.name}' already exists in this project.")
        package.id = self._db.next_id()
        self._db.packages[package.id] = utc_copy(package)
        self._db.serials[package.id] = 0
        self._db.projects[package.project_id].index_serial += 1
        return package

    def delete(self, package_id: int) -> None:
        package = self._db.packages.get(package_id)
        if package is None:
            return
        self._db.delete_package(package_id)
        self._db.projects[package.project_id].index_serial += 1

    def list_page(
        self, project_id: int, *, search: str | None, format: str | None, limit: int,
        offset: int,
    ) -> tuple[list[Package], int]:  # fmt: skip
        found = [
            self._out(p)
            for p in sorted(self._db.packages.values(), key=lambda p: p.name)
            if p.project_id == project_id
            and matches(p.name, search)
            and (not format or p.format.value == format)
        ]
        return page(found, limit, offset)

    def names(self, project_id: int, *, format: str | None) -> list[str]:
        found, _ = self.list_page(project_id, search=None, format=format, limit=10**9, offset=0)
        return [p.name for p in found]

    def touch(self, package_id: int, at: datetime) -> int:
        if package_id not in self._db.serials:
            return 0
        self._db.serials[package_id] += 1
        return self._db.serials[package_id]


class FakeArtifactRepository(FakeRepository, ports.ArtifactRepository):
    def get(self, artifact_id: str) -> Artifact | None:
        return utc_copy(self._db.artifacts.get(artifact_id))

    def add_reference(self, artifact: Artifact) -> tuple[int, bool]:
        stored = self._db.artifacts.get(artifact.id)
        existed = stored is not None
        if stored is None:
            stored = replace(artifact, ref_count=0, released_at=None)
            self._db.artifacts[artifact.id] = stored
        stored.ref_count += 1
        stored.released_at = None
        return stored.ref_count, existed

    def release(self, artifact_id: str, count: int, at: datetime) -> int:
        stored = self._db.artifacts.get(artifact_id)
        if stored is None:
            return 0
        if stored.ref_count - count < 0:
            raise Conflict("The change conflicts with stored data.")  # the CHECK constraint
        stored.ref_count -= count
        if stored.ref_count == 0:
            stored.released_at = at
        return stored.ref_count

    def list_garbage(self, released_before: datetime, limit: int) -> list[Artifact]:
        found = [a for a in self._db.artifacts.values() if _is_garbage(a, released_before)]
        return [utc_copy(a) for a in sorted(found, key=lambda a: a.released_at)][:limit]

    def claim_orphan(self, artifact_id: str, at: datetime) -> bool:
        if artifact_id in self._db.artifacts:
            return False
        placeholder = Artifact(artifact_id, 0, "", "", "", "", at, ref_count=0, released_at=at)
        self._db.artifacts[artifact_id] = placeholder
        return True

    def lock_garbage(self, artifact_id: str, released_before: datetime) -> Artifact | None:
        stored = self._db.artifacts.get(artifact_id)
        return utc_copy(stored) if stored and _is_garbage(stored, released_before) else None

    def delete(self, artifact_id: str) -> None:
        self._db.artifacts.pop(artifact_id, None)

    def all_ids(self) -> set[str]:
        return set(self._db.artifacts)

    def set_ref_count(self, artifact_id: str, ref_count: int, at: datetime) -> None:
        stored = self._db.artifacts.get(artifact_id)
        if stored is not None:
            stored.ref_count = ref_count
            stored.released_at = (stored.released_at or at) if ref_count == 0 else None


def _is_garbage(artifact: Artifact, released_before: datetime) -> bool:
    released = artifact.released_at
    return artifact.ref_count == 0 and released is not None and released < released_before


class FakeUploadRepository(FakeRepository, ports.UploadRepository):
    def add(self, upload: Upload) -> Upload:
        upload.id = self._db.next_id()
        self._db.uploads[upload.id] = utc_copy(upload)
        return upload

    def _of(self, package_id: int, artifact_id: str | None = None) -> list[Upload]:
        found = [
            u
            for u in self._db.uploads.values()
            if u.package_id == package_id and artifact_id in (None, u.artifact_id)
        ]
        return sorted(found, key=lambda u: (u.created_at, u.id), reverse=True)

    def list_page(self, package_id: int, *, limit: int, offset: int) -> tuple[list[Upload], int]:
        return page([utc_copy(u) for u in self._of(package_id)], limit, offset)

    def held_artifacts(
        self, package_id: int, *, limit: int, offset: int
    ) -> tuple[list[tuple[Artifact, int]], int]:
        held = self.references_by_artifact(package_id=package_id)
        rows = [(utc_copy(self._db.artifacts[sha]), held[sha]) for sha in sorted(held)]
        return page(rows, limit, offset)

    def package_holds(self, package_id: int, artifact_id: str) -> bool:
        return bool(self._of(package_id, artifact_id))

    def latest_for_artifact(self, package_id: int, artifact_id: str) -> Upload | None:
        found = self._of(package_id, artifact_id)
        return utc_copy(found[0]) if found else None

    def delete_for_artifact(self, package_id: int, artifact_id: str) -> int:
        found = self._of(package_id, artifact_id)
        for upload in found:
            self.delete(upload.id)
        return len(found)

    def delete(self, upload_id: int) -> Upload | None:
        for distribution in self._db.distributions.values():
            if distribution.upload_id == upload_id:
                distribution.upload_id = None  # ON DELETE SET NULL
        return self._db.uploads.pop(upload_id, None)

    def references_by_artifact(
        self, *, project_id: int | None = None, package_id: int | None = None
    ) -> dict[str, int]:
        counts: dict[str, int] = {}
        for upload in self._db.uploads.values():
            package = self._db.packages[upload.package_id]
            if package_id not in (None, upload.package_id):
                continue
            if project_id not in (None, package.project_id):
                continue
            counts[upload.artifact_id] = counts.get(upload.artifact_id, 0) + 1
        return counts

    def readable_packages_holding(self, artifact_id: str) -> list[tuple[Project, Package]]:
        ids = {u.package_id for u in self._db.uploads.values() if u.artifact_id == artifact_id}
        pairs = []
        for package in (self._db.packages[i] for i in ids):
            project = self._db.projects[package.project_id]
            pairs.append((utc_copy(project), replace(package, project_name=project.name)))
        return sorted(pairs, key=lambda pair: (pair[0].name, pair[1].name))
