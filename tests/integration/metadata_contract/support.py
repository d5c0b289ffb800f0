"""Rows and names the metadata contract cases share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from adapters.tables import metadata
from domain.model import Artifact, Package, PackageFormat, Project, Upload
from domain.ports import UnitOfWork

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)
UowFactory = Callable[[], UnitOfWork]


def artifact(n: int, at: datetime = T0) -> Artifact:
    return Artifact(
        f"{n:064x}", n * 10, "application/octet-stream", f"{n:032x}", f"{n:040x}", f"{n:064x}", at
    )


def seed(uow: UnitOfWork, project: str = "proj", package: str = "pkg", **kw) -> Package:
    with uow:
        stored = uow.projects.add(Project(project, created_at=T0, updated_at=T0, **kw))
        result = uow.packages.add(Package(stored.id, package, PackageFormat.PYPI, created_at=T0))
        uow.commit()
    return result


def upload(uow: UnitOfWork, package: Package, n: int, at: datetime = T0) -> Upload:
    uow.artifacts.add_reference(artifact(n))
    return uow.uploads.add(Upload(package.id, artifact(n).id, f"file{n}.bin", at, "alice"))


def empty_database(engine: Engine) -> Engine:
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return engine
