"""Artifacts (content-addressed blobs' rows, with their reference count) and uploads.

Reference counts change only with single atomic statements, so concurrent uploads of the
same bytes each get counted, whatever the number of worker processes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, func, literal, select, update

from adapters.sql import rows
from adapters.sql.base import SqlRepository
from adapters.tables import (
    UTCDateTime,
    artifacts,
    packages,
    projects,
    uploads,
    upstream_files,
    upstream_pages,
)
from domain.errors import Conflict
from domain.model import Artifact, Package, Project, Upload
from domain.ports import ArtifactRepository, UploadRepository

_ARTIFACT_BY_ID = select(artifacts).where(artifacts.c.id == bindparam("artifact_id"))


class SqlArtifactRepository(SqlRepository, ArtifactRepository):
    def get(self, artifact_id: str) -> Artifact | None:
        row = self._execute(_ARTIFACT_BY_ID, {"artifact_id": artifact_id}).first()
        return rows.artifact(row) if row else None

    def add_reference(self, artifact: Artifact) -> tuple[int, bool]:
        # New bytes (most uploads) take one statement: the row is inserted already
        # counted, and the insert holds its row until the commit. Garbage collection may
        # delete a zero-count row between our INSERT (which then did nothing) and our
        # UPDATE (which then finds no row): insert again and retry.
        for _ in range(3):
            if self._insert_if_absent(artifact, ref_count=1):
                return 1, False
            # The UPDATE takes the row lock and holds it to the end of the transaction.
            count = self._execute(
                update(artifacts)
                .where(artifacts.c.id == artifact.id)
                .values(ref_count=artifacts.c.ref_count + 1, released_at=None)
                .returning(artifacts.c.ref_count)
            ).scalar()
            if count is not None:
                return count, True
        raise Conflict("The artifact was being deleted; retry the upload.")

    def _insert_if_absent(self, artifact: Artifact, ref_count: int = 0) -> bool:
        statement = (
            self._insert(artifacts)
            .values(_artifact_values(artifact, ref_count))
            .on_conflict_do_nothing(index_elements=[artifacts.c.id])
            .returning(artifacts.c.id)
        )
        return self._execute(statement).first() is not None

    def claim_orphan(self, artifact_id: str, at: datetime) -> bool:
        # The unique key is the lock: PostgreSQL makes a concurrent INSERT of the same id
        # wait for this transaction; SQLite writers are serialised by BEGIN IMMEDIATE.
        placeholder = Artifact(artifact_id, 0, "", "", "", "", at, ref_count=0, released_at=at)
        return self._insert_if_absent(placeholder)

    def release(self, artifact_id: str, count: int, at: datetime) -> int:
        after = artifacts.c.ref_count - count
        released = case((after == 0, _utc(at)), else_=artifacts.c.released_at)
        statement = (
            update(artifacts)
            .where(artifacts.c.id == artifact_id)
            .values(ref_count=after, released_at=released)
            .returning(artifacts.c.ref_count)
        )
        return self._execute(statement).scalar() or 0

    def list_garbage(self, released_before: datetime, limit: int) -> list[Artifact]:
        query = _garbage(released_before).order_by(artifacts.c.released_at).limit(limit)
        return [rows.artifact(row) for row in self._execute(query)]

    def lock_garbage(self, artifact_id: str, released_before: datetime) -> Artifact | None:
        query = _garbage(released_before).where(artifacts.c.id == artifact_id)
        row = self._execute(query.with_for_update()).first()
        return rows.artifact(row) if row else None

    def delete(self, artifact_id: str) -> None:
        self._execute(delete(artifacts).where(artifacts.c.id == artifact_id))

    def all_ids(self) -> set[str]:
        return set(self._execute(select(artifacts.c.id)).scalars())

    def set_ref_count(self, artifact_id: str, ref_count: int, at: datetime) -> None:
        # A count already at 0 keeps its release time: repair must not restart the grace.
        released = func.coalesce(artifacts.c.released_at, _utc(at)) if ref_count == 0 else None
        statement = update(artifacts).where(artifacts.c.id == artifact_id)
        self._execute(statement.values(ref_count=ref_count, released_at=released))


def _utc(at: datetime) -> Any:
    # A bare datetime inside CASE/COALESCE would not get the column's UTC conversion.
    return literal(at, UTCDateTime())


def _garbage(released_before: datetime) -> Any:
    return select(artifacts).where(
        artifacts.c.ref_count == 0, artifacts.c.released_at < released_before
    )


def _artifact_values(artifact: Artifact, ref_count: int) -> dict[str, Any]:
    return {
        "id": artifact.id,
        "size": artifact.size,
        "content_type": artifact.content_type,
        "md5": artifact.md5,
        "sha1": artifact.sha1,
        "blake2b_256": artifact.blake2b_256,
        "created_at": artifact.created_at,
        "ref_count": ref_count,
        "released_at": None,
    }


class SqlUploadRepository(SqlRepository, UploadRepository):
    def add(self, upload: Upload) -> Upload:
        values = {
            "package_id": upload.package_id,
            "artifact_id": upload.artifact_id,
            "original_name": upload.original_name,
            "created_at": upload.created_at,
            "uploader": upload.uploader,
            "tag": upload.tag,
            "version": upload.version,
            "version_source": upload.version_source.value if upload.version_source else None,
        }
        statement = self._insert(uploads).values(values).returning(uploads.c.id)
        upload.id = self._execute(statement).scalar_one()
        return upload

    def list_page(self, package_id: int, *, limit: int, offset: int) -> tuple[list[Upload], int]:
        where = uploads.c.package_id == package_id
        query = (
            select(uploads).where(where).order_by(uploads.c.created_at.desc(), uploads.c.id.desc())
        )
        count = select(func.count()).select_from(uploads).where(where)
        found, total = self._page(query, count, limit, offset)
        return [rows.upload(row) for row in found], total

    def held_artifacts(
        self, package_id: int, *, limit: int, offset: int
    ) -> tuple[list[tuple[Artifact, int]], int]:
        holding = func.count(uploads.c.id).label("holding")
        where = uploads.c.package_id == package_id
        query = (
            select(artifacts, holding)
            .join(uploads, uploads.c.artifact_id == artifacts.c.id)
            .where(where)
            .group_by(*artifacts.c)
            .order_by(artifacts.c.id)
        )
        count = select(func.count(func.distinct(uploads.c.artifact_id))).where(where)
        found, total = self._page(query, count, limit, offset)
        return [(rows.artifact(row), row.holding) for row in found], total

    def package_holds(self, package_id: int, artifact_id: str) -> bool:
        query = select(uploads.c.id).where(
            uploads.c.package_id == package_id, uploads.c.artifact_id == artifact_id
        )
        return self._execute(query.limit(1)).first() is not None

    def latest_for_artifact(self, package_id: int, artifact_id: str) -> Upload | None:
        query = (
            select(uploads)
            .where(uploads.c.package_id == package_id, uploads.c.artifact_id == artifact_id)
            .order_by(uploads.c.created_at.desc(), uploads.c.id.desc())
        )
        row = self._execute(query.limit(1)).first()
        return rows.upload(row) if row else None

    def delete_for_artifact(self, package_id: int, artifact_id: str) -> int:
        statement = delete(uploads).where(
            uploads.c.package_id == package_id, uploads.c.artifact_id == artifact_id
        )
        return self._execute(statement).rowcount

    def delete(self, upload_id: int) -> Upload | None:
        statement = delete(uploads).where(uploads.c.id == upload_id).returning(*uploads.c)
        row = self._execute(statement).first()
        return rows.upload(row) if row else None

    def references_by_artifact(
        self, *, project_id: int | None = None, package_id: int | None = None
    ) -> dict[str, int]:
        holding = func.count().label("holding")
        query = select(uploads.c.artifact_id, holding).group_by(uploads.c.artifact_id)
        if package_id is not None:
            query = query.where(uploads.c.package_id == package_id)
        if project_id is not None:
            query = query.join(packages, packages.c.id == uploads.c.package_id).where(
                packages.c.project_id == project_id
            )
        found = {row.artifact_id: row.holding for row in self._execute(query)}
        if package_id is None:  # a project's (or every) upstream cache holds references too
            for row in self._execute(_cached_references(project_id)):
                found[row.artifact_id] = found.get(row.artifact_id, 0) + row.holding
        return found

    def readable_packages_holding(self, artifact_id: str) -> list[tuple[Project, Package]]:
        query = (
            select(packages, projects.c.name.label("project_name"))
            .join(projects, projects.c.id == packages.c.project_id)
            .where(
                packages.c.id.in_(
                    select(uploads.c.package_id).where(uploads.c.artifact_id == artifact_id)
                )
            )
            .order_by(projects.c.name, packages.c.name)
        )
        found = [rows.package(row) for row in self._execute(query)]
        project_ids = {package.project_id for package in found}
        projects_by_id = {
            row.id: rows.project(row)
            for row in self._execute(select(projects).where(projects.c.id.in_(project_ids)))
        }
        return [(projects_by_id[package.project_id], package) for package in found]


def _cached_references(project_id: int | None) -> Any:
    """References held by cached upstream files (one per file whose bytes are stored)."""
    query = (
        select(upstream_files.c.artifact_id, func.count().label("holding"))
        .where(upstream_files.c.artifact_id.is_not(None))
        .group_by(upstream_files.c.artifact_id)
    )
    if project_id is not None:
        query = query.join(upstream_pages, upstream_pages.c.id == upstream_files.c.page_id).where(
            upstream_pages.c.project_id == project_id
        )
    return query
