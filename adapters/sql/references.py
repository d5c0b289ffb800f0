"""Tags (mutable, with history) and versions (immutable, first writer wins)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from adapters.sql import rows
from adapters.sql.base import SqlRepository
from adapters.tables import tag_history, tags, versions
from domain.model import Tag, TagChange, Version
from domain.ports import TagRepository, VersionRepository


class SqlTagRepository(SqlRepository, TagRepository):
    def get(self, package_id: int, name: str) -> Tag | None:
        row = self._execute(_tag(package_id, name)).first()
        return rows.tag(row) if row else None

    def set(
        self, package_id: int, name: str, artifact_id: str, at: datetime, by: str | None
    ) -> TagChange | None:
        current = self._locked(package_id, name)
        if current is None and self._create(package_id, name, artifact_id, at):
            return self._record(package_id, TagChange(name, None, artifact_id, at, by))
        current = current or self._locked(package_id, name)  # lost a creation race
        if current.artifact_id == artifact_id:
            return None
        self._execute(
            update(tags)
            .where(tags.c.id == current.id)
            .values(artifact_id=artifact_id, updated_at=at)
        )
        return self._record(package_id, TagChange(name, current.artifact_id, artifact_id, at, by))

    def _locked(self, package_id: int, name: str) -> Any:
        return self._execute(_tag(package_id, name).with_for_update()).first()

    def _create(self, package_id: int, name: str, artifact_id: str, at: datetime) -> bool:
        values = {
            "package_id": package_id,
            "name": name,
            "artifact_id": artifact_id,
            "created_at": at,
            "updated_at": at,
        }
        statement = self._insert(tags).values(values).on_conflict_do_nothing()
        return self._execute(statement.returning(tags.c.id)).first() is not None

    def _record(self, package_id: int, change: TagChange) -> TagChange:
        values = {
            "package_id": package_id,
            "tag_name": change.tag_name,
            "old_artifact_id": change.old_artifact_id,
            "new_artifact_id": change.new_artifact_id,
            "changed_at": change.changed_at,
            "changed_by": change.changed_by,
        }
        self._execute(self._insert(tag_history).values(values))
        return change

    def delete(self, package_id: int, name: str) -> bool:
        statement = delete(tags).where(tags.c.package_id == package_id, tags.c.name == name)
        return self._execute(statement).rowcount > 0

    def delete_for_artifact(self, package_id: int, artifact_id: str) -> int:
        statement = delete(tags).where(
            tags.c.package_id == package_id, tags.c.artifact_id == artifact_id
        )
        return self._execute(statement).rowcount

    def list_page(
        self, package_id: int, *, search: str | None, limit: int, offset: int
    ) -> tuple[list[Tag], int]:
        conditions = [tags.c.package_id == package_id]
        if search:
            conditions.append(tags.c.name.icontains(search, autoescape=True))
        query = select(tags).where(*conditions).order_by(tags.c.name)
        count = select(func.count()).select_from(tags).where(*conditions)
        found, total = self._page(query, count, limit, offset)
        return [rows.tag(row) for row in found], total

    def history(self, package_id: int, name: str) -> list[TagChange]:
        query = (
            select(tag_history)
            .where(tag_history.c.package_id == package_id, tag_history.c.tag_name == name)
            .order_by(tag_history.c.changed_at, tag_history.c.id)
        )
        return [rows.tag_change(row) for row in self._execute(query)]


def _tag(package_id: int, name: str) -> Any:
    return select(tags).where(tags.c.package_id == package_id, tags.c.name == name)


class SqlVersionRepository(SqlRepository, VersionRepository):
    def get(self, package_id: int, version: str) -> Version | None:
        row = self._execute(_version(package_id, version)).first()
        return rows.version(row) if row else None

    def add_if_absent(self, version: Version) -> Version:
        values = {
            "package_id": version.package_id,
            "version": version.version,
            "artifact_id": version.artifact_id,
            "version_source": version.version_source.value,
            "created_at": version.created_at,
        }
        statement = (
            self._insert(versions)
            .values(values)
            .on_conflict_do_nothing(index_elements=[versions.c.package_id, versions.c.version])
        )
        self._execute(statement)
        return rows.version(self._execute(_version(version.package_id, version.version)).one())

    def delete(self, package_id: int, version: str) -> bool:
        statement = delete(versions).where(
            versions.c.package_id == package_id, versions.c.version == version
        )
        return self._execute(statement).rowcount > 0

    def delete_for_artifact(self, package_id: int, artifact_id: str) -> int:
        statement = delete(versions).where(
            versions.c.package_id == package_id, versions.c.artifact_id == artifact_id
        )
        return self._execute(statement).rowcount

    def list_page(
        self, package_id: int, *, search: str | None, limit: int, offset: int
    ) -> tuple[list[Version], int]:
        conditions = [versions.c.package_id == package_id]
        if search:
            conditions.append(versions.c.version.icontains(search, autoescape=True))
        query = (
            select(versions)
            .where(*conditions)
            .order_by(versions.c.created_at.desc(), versions.c.id.desc())
        )
        count = select(func.count()).select_from(versions).where(*conditions)
        found, total = self._page(query, count, limit, offset)
        return [rows.version(row) for row in found], total


def _version(package_id: int, version: str) -> Any:
    return select(versions).where(
        versions.c.package_id == package_id, versions.c.version == version
    )
