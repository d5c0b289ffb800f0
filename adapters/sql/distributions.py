"""Files of Python releases; a deleted one stays as a tombstone holding its filename."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from packaging.version import InvalidVersion
from packaging.version import Version as ParsedVersion
from sqlalchemy import ColumnElement, Select, bindparam, select, update

from adapters.sql import rows
from adapters.sql.base import SqlRepository
from adapters.tables import artifacts, distributions, packages, projects
from domain.errors import FileExists
from domain.model import Artifact, Distribution, Project
from domain.ports import DistributionRepository


class SqlDistributionRepository(SqlRepository, DistributionRepository):
    def get(self, package_id: int, filename: str) -> Distribution | None:
        query = select(distributions).where(
            distributions.c.package_id == package_id, distributions.c.filename == filename
        )
        row = self._execute(query).first()
        return rows.distribution(row) if row else None

    def add(self, distribution: Distribution) -> Distribution:
        values = _values(distribution) | {
            "package_id": distribution.package_id,
            "filename": distribution.filename,
            "created_at": distribution.created_at,
        }
        statement = (
            self._insert(distributions)
            .values(values)
            .on_conflict_do_nothing(
                index_elements=[distributions.c.package_id, distributions.c.filename]
            )
        )
        new_id = self._execute(statement.returning(distributions.c.id)).scalar()
        if new_id is None:
            raise FileExists(f"File already exists: {distribution.filename}")
        distribution.id = new_id
        return distribution

    def update(self, distribution: Distribution) -> None:
        statement = update(distributions).where(distributions.c.id == distribution.id)
        self._execute(statement.values(_values(distribution)))

    def list_live(self, package_id: int, *, with_metadata: bool = True) -> list[Distribution]:
        query = _LIVE_FILES if with_metadata else _LIVE_FILES_WITHOUT_METADATA
        found = [rows.distribution(row) for row in self._execute(query, {"package_id": package_id})]
        return sorted(found, key=release_order)

    def list_tombstones(self, package_id: int) -> list[Distribution]:
        query = (
            select(distributions)
            .where(
                distributions.c.package_id == package_id, distributions.c.deleted_at.is_not(None)
            )
            .order_by(distributions.c.id)
        )
        return [rows.distribution(row) for row in self._execute(query)]

    def find_in_project(
        self, project_name: str, artifact_id: str, filename: str, *, with_metadata: bool = True
    ) -> tuple[Project, Distribution | None, Artifact | None] | None:
        query = _FILE_IN_PROJECT if with_metadata else _FILE_IN_PROJECT_WITHOUT_METADATA
        params = {"project": project_name, "artifact_id": artifact_id, "filename": filename}
        row = self._execute(query, params).first()
        if row is None:
            return None
        if row.file_id is None:
            return rows.project(row), None, None
        file, content = rows.Prefixed(row, "file_"), rows.Prefixed(row, "artifact_")
        return rows.project(row), rows.distribution(file), rows.artifact(content)


_LIVE = (
    distributions.c.package_id == bindparam("package_id"),
    distributions.c.deleted_at.is_(None),
)
_LIVE_FILES = select(distributions).where(*_LIVE)
# An index page prints each file's metadata digest, never the metadata: leave it unread.
_LIVE_FILES_WITHOUT_METADATA = select(
    *(column for column in distributions.c if column.name != "core_metadata")
).where(*_LIVE)


# Every /files/ request looks its file up: one statement, built once, with bound
# parameters. The project comes back even without the file (401/404 depend on it).
def _file_in_project(file_columns: Sequence[ColumnElement[Any]]) -> Select[Any]:
    found = packages.join(
        distributions,
        (distributions.c.package_id == packages.c.id)
        & (distributions.c.artifact_id == bindparam("artifact_id"))
        & (distributions.c.filename == bindparam("filename"))
        & distributions.c.deleted_at.is_(None),
    ).join(artifacts, artifacts.c.id == distributions.c.artifact_id)
    content = [column.label(f"artifact_{column.name}") for column in artifacts.c]
    return (
        select(projects, *file_columns, *content)
        .select_from(projects.outerjoin(found, packages.c.project_id == projects.c.id))
        .where(projects.c.name == bindparam("project"))
        .order_by(distributions.c.id)
        .limit(1)
    )


_FILE_COLUMNS = [column.label(f"file_{column.name}") for column in distributions.c]
_FILE_IN_PROJECT = _file_in_project(_FILE_COLUMNS)
# A download sends the blob, never the metadata: leave it unread.
_FILE_IN_PROJECT_WITHOUT_METADATA = _file_in_project(
    [column for column in _FILE_COLUMNS if column.name != "file_core_metadata"]
)


def release_order(distribution: Distribution) -> tuple[Any, ...]:
    """Sort key: PEP 440 order of the version (unparsable ones first, as text), then
    filename. SQL would order ``1.10`` before ``1.9``."""
    try:
        return (1, ParsedVersion(distribution.version), "", distribution.filename)
    except InvalidVersion:
        return (0, ParsedVersion("0"), distribution.version, distribution.filename)


def _values(distribution: Distribution) -> dict[str, Any]:
    return {
        "version": distribution.version,
        "artifact_id": distribution.artifact_id,
        "upload_id": distribution.upload_id,
        "packagetype": distribution.packagetype,
        "requires_python": distribution.requires_python,
        "core_metadata": distribution.core_metadata,
        "metadata_sha256": distribution.metadata_sha256,
        "yanked": distribution.yanked,
        "yanked_reason": distribution.yanked_reason,
        "deleted_at": distribution.deleted_at,
        "size": distribution.size,
    }
