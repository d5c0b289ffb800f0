"""Projects and their packages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update

from adapters.sql import rows
from adapters.sql.base import SqlRepository
from adapters.tables import memberships, packages, projects
from domain.errors import AlreadyExists
from domain.model import Package, PackageFormat, Project
from domain.ports import PackageRepository, ProjectRepository

# The hottest lookups (every index page, download and file) are built once with bound
# parameters: building the WHERE expression cost more than running the query.
_PROJECT_BY_NAME = select(projects).where(projects.c.name == bindparam("name"))


class SqlProjectRepository(SqlRepository, ProjectRepository):
    def get(self, name: str) -> Project | None:
        row = self._execute(_PROJECT_BY_NAME, {"name": name}).first()
        return rows.project(row) if row else None

    def add(self, project: Project) -> Project:
        values = _project_values(project) | {"name": project.name}
        statement = self._insert(projects).values(values).on_conflict_do_nothing()
        new_id = self._execute(statement.returning(projects.c.id)).scalar()
        if new_id is None:
            raise AlreadyExists(f"Project '{project.name}' already exists.")
        project.id = new_id
        return project

    def update(self, project: Project) -> None:
        statement = update(projects).where(projects.c.id == project.id)
        self._execute(statement.values({k: _project_values(project)[k] for k in _MUTABLE}))

    def delete(self, project_id: int) -> None:
        self._execute(delete(projects).where(projects.c.id == project_id))

    def list_page(
        self,
        *,
        visible_to_user_id: int | None,
        include_all: bool,
        search: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Project], int]:
        conditions = [] if include_all else [_visible_to(visible_to_user_id)]
        if search:
            conditions.append(projects.c.name.icontains(search, autoescape=True))
        query = select(projects).where(*conditions).order_by(projects.c.name)
        count = select(func.count()).select_from(projects).where(*conditions)
        found, total = self._page(query, count, limit, offset)
        return [rows.project(row) for row in found], total


def _visible_to(user_id: int | None) -> Any:
    if user_id is None:
        return projects.c.is_public.is_(True)
    member_of = select(memberships.c.project_id).where(memberships.c.user_id == user_id)
    return or_(projects.c.is_public.is_(True), projects.c.id.in_(member_of))


_MUTABLE = ("description", "is_public", "allow_overwrite", "updated_at")


def _project_values(project: Project) -> dict[str, Any]:
    return {
        "description": project.description,
        "is_public": project.is_public,
        "allow_overwrite": project.allow_overwrite,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "created_by": project.created_by,
    }


_PACKAGE_COLUMNS = select(packages, projects.c.name.label("project_name")).join(
    projects, projects.c.id == packages.c.project_id
)


_BUMP_INDEX_SERIAL = (
    update(projects)
    .where(projects.c.id == bindparam("project_id"))
    .values(index_serial=projects.c.index_serial + 1)
)

_PROJECT_WITH_PACKAGE = (
    select(projects, *(column.label(f"package_{column.name}") for column in packages.c))
    .select_from(
        projects.outerjoin(
            packages,
            (packages.c.project_id == projects.c.id) & (packages.c.name == bindparam("name")),
        )
    )
    .where(projects.c.name == bindparam("project"))
)

_PACKAGE_BY_NAME = _PACKAGE_COLUMNS.where(
    packages.c.project_id == bindparam("project_id"), packages.c.name == bindparam("name")
)


class SqlPackageRepository(SqlRepository, PackageRepository):
    def get(self, project_id: int, name: str) -> Package | None:
        row = self._execute(_PACKAGE_BY_NAME, {"project_id": project_id, "name": name}).first()
        return rows.package(row) if row else None

    def find(self, project_name: str, name: str) -> tuple[Project, Package | None] | None:
        row = self._execute(_PROJECT_WITH_PACKAGE, {"project": project_name, "name": name}).first()
        if row is None:
            return None
        project = rows.project(row)
        if row.package_id is None:
            return project, None
        package = Package(
            id=row.package_id,
            project_id=project.id,
            name=row.package_name,
            format=PackageFormat(row.package_format),
            description=row.package_description,
            created_at=row.package_created_at,
            project_name=project.name,
            serial=row.package_serial,
        )
        return project, package

    def add(self, package: Package) -> Package:
        values = {
            "project_id": package.project_id,
            "name": package.name,
            "format": package.format.value,
            "description": package.description,
            "created_at": package.created_at,
            "updated_at": package.created_at,
            "serial": 0,
        }
        statement = self._insert(packages).values(values).on_conflict_do_nothing()
        new_id = self._execute(statement.returning(packages.c.id)).scalar()
        if new_id is None:
            raise AlreadyExists(f"Package '{package.name}' already exists in this project.")
        package.id = new_id
        self._execute(_BUMP_INDEX_SERIAL, {"project_id": package.project_id})
        return package

    def delete(self, package_id: int) -> None:
        owner = select(packages.c.project_id).where(packages.c.id == package_id)
        project_id = self._execute(owner).scalar()
        if project_id is None:
            return
        self._execute(delete(packages).where(packages.c.id == package_id))
        self._execute(_BUMP_INDEX_SERIAL, {"project_id": project_id})

    def list_page(
        self,
        project_id: int,
        *,
        search: str | None,
        format: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Package], int]:
        conditions = [packages.c.project_id == project_id]
        if search:
            conditions.append(packages.c.name.icontains(search, autoescape=True))
        if format:
            conditions.append(packages.c.format == format)
        query = _PACKAGE_COLUMNS.where(*conditions).order_by(packages.c.name)
        count = select(func.count()).select_from(packages).where(*conditions)
        found, total = self._page(query, count, limit, offset)
        return [rows.package(row) for row in found], total

    def names(self, project_id: int, *, format: str | None) -> list[str]:
        query = select(packages.c.name).where(packages.c.project_id == project_id)
        if format:
            query = query.where(packages.c.format == format)
        return list(self._execute(query.order_by(packages.c.name)).scalars())

    def touch(self, package_id: int, at: datetime) -> int:
        statement = (
            update(packages)
            .where(packages.c.id == package_id)
            .values(serial=packages.c.serial + 1, updated_at=at)
            .returning(packages.c.serial)
        )
        return self._execute(statement).scalar() or 0
