"""Projects and packages: add, list, find, serials, cascading deletes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import AlreadyExists
from domain.model import (
    Distribution,
    Membership,
    Package,
    PackageFormat,
    Project,
    Role,
    User,
    Version,
    VersionSource,
)
from domain.ports import UnitOfWork
from tests.integration.metadata_contract.support import (
    T0,
    artifact,
    seed,
    upload,
)


def test_projects_are_added_updated_and_deleted(uow: UnitOfWork) -> None:
    with uow:
        project = uow.projects.add(Project("p", "first", created_at=T0, created_by="alice"))
        with pytest.raises(AlreadyExists):
            uow.projects.add(Project("p"))
        project.description, project.is_public, project.allow_overwrite = "second", False, True
        project.created_by, project.updated_at = None, T0 + timedelta(1)
        uow.projects.update(project)
        uow.commit()
    with uow:
        stored = uow.projects.get("p")
        assert (stored.id, stored.description, stored.is_public) == (project.id, "second", False)
        assert stored.allow_overwrite and stored.created_by == "alice"
        assert stored.updated_at == T0 + timedelta(1)
        uow.projects.delete(stored.id)
        uow.commit()
    with uow:
        assert uow.projects.get("p") is None


def test_project_listing_shows_public_projects_and_the_members_own(uow: UnitOfWork) -> None:
    with uow:
        for name, public in (("a-public", True), ("b-private", False), ("c-private", False)):
            uow.projects.add(Project(name, is_public=public, created_at=T0))
        bob = uow.users.add(User("bob", "hash"))
        uow.members.set(Membership(uow.projects.get("c-private").id, bob.id, Role.READ))
        uow.commit()

        def names(user_id: int | None, include_all: bool = False) -> list[str]:
            found, _ = uow.projects.list_page(
                visible_to_user_id=user_id, include_all=include_all, search=None, limit=10, offset=0
            )
            return [p.name for p in found]

        assert names(None) == ["a-public"]
        assert names(bob.id) == ["a-public", "c-private"]
        assert names(None, include_all=True) == ["a-public", "b-private", "c-private"]


def test_project_listing_pages_and_searches(uow: UnitOfWork) -> None:
    with uow:
        for name in ("alpha", "beta", "gamma", "delta", "alp_x"):
            uow.projects.add(Project(name, created_at=T0))
        uow.commit()
        page, total = uow.projects.list_page(
            visible_to_user_id=None, include_all=False, search=None, limit=2, offset=2
        )
        assert ([p.name for p in page], total) == (["beta", "delta"], 5)
        found, total = uow.projects.list_page(
            visible_to_user_id=None, include_all=False, search="ALP", limit=10, offset=0
        )
        assert ([p.name for p in found], total) == (["alp_x", "alpha"], 2)
        literal, _ = uow.projects.list_page(
            visible_to_user_id=None, include_all=False, search="p_", limit=10, offset=0
        )
        assert [p.name for p in literal] == ["alp_x"]


def test_packages_are_added_listed_and_serialised(uow: UnitOfWork) -> None:
    package = seed(uow)
    with uow:
        with pytest.raises(AlreadyExists):
            uow.packages.add(Package(package.project_id, "pkg"))
        uow.packages.add(Package(package.project_id, "other", PackageFormat.GENERIC))
        stored = uow.packages.get(package.project_id, "pkg")
        assert (stored.id, stored.project_name, stored.format) == (package.id, "proj", "pypi")
        assert stored.serial == 0
        assert [uow.packages.touch(package.id, T0) for _ in range(2)] == [1, 2]
        uow.commit()
    with uow:
        assert uow.packages.get(package.project_id, "pkg").serial == 2
        assert uow.packages.find("proj", "pkg")[1].serial == 2
        listed, total = uow.packages.list_page(
            package.project_id, search=None, format="generic", limit=10, offset=0
        )
        assert ([p.name for p in listed], total) == (["other"], 1)
        found, _ = uow.packages.list_page(
            package.project_id, search="PK", format=None, limit=10, offset=0
        )
        assert [p.name for p in found] == ["pkg"]
        assert uow.packages.names(package.project_id, format=None) == ["other", "pkg"]
        assert uow.packages.names(package.project_id, format="pypi") == ["pkg"]


def test_a_project_and_its_package_are_found_in_one_read(uow: UnitOfWork) -> None:
    package = seed(uow, is_public=False)
    with uow:
        uow.packages.touch(package.id, T0)
        project, found = uow.packages.find("proj", "pkg")
        assert (project.id, project.name, project.is_public) == (package.project_id, "proj", False)
        assert found == uow.packages.get(package.project_id, "pkg")
        assert (found.serial, found.project_name, found.format) == (1, "proj", PackageFormat.PYPI)
        assert uow.packages.find("proj", "missing") == (project, None)
        assert uow.packages.find("missing", "pkg") is None


def test_adding_or_deleting_a_package_bumps_its_project_index_serial(uow: UnitOfWork) -> None:
    package = seed(uow)  # adds one package
    seed(uow, project="elsewhere")
    with uow:
        assert uow.projects.get("proj").index_serial == 1
        other = uow.packages.add(Package(package.project_id, "other", created_at=T0))
        assert uow.projects.get("proj").index_serial == 2
        uow.packages.delete(other.id)
        uow.packages.delete(other.id)  # already gone: nothing changes
        uow.commit()
    with uow:
        assert uow.projects.get("proj").index_serial == 3
        assert uow.projects.get("elsewhere").index_serial == 1
        project = uow.projects.get("proj")
        project.description, project.index_serial = "edited", 99
        uow.projects.update(project)  # the serial is the store's to keep, not the caller's
        uow.commit()
    with uow:
        assert uow.projects.get("proj").index_serial == 3


def _fill(uow: UnitOfWork, package: Package) -> None:
    up = upload(uow, package, 1)
    uow.tags.set(package.id, "latest", up.artifact_id, T0, "alice")
    uow.versions.add_if_absent(
        Version(package.id, "1.0", up.artifact_id, VersionSource.EXPLICIT, T0)
    )
    uow.distributions.add(
        Distribution(package.id, "pkg-1.0.tar.gz", "1.0", up.artifact_id, up.id, T0)
    )


@pytest.mark.parametrize("delete", ["project", "package"])
def test_deleting_removes_everything_below_but_not_artifacts(uow: UnitOfWork, delete: str) -> None:
    package = seed(uow)
    with uow:
        _fill(uow, package)
        user = uow.users.add(User("bob", "hash"))
        uow.members.set(Membership(package.project_id, user.id, Role.WRITE))
        uow.commit()
    with uow:
        if delete == "project":
            uow.projects.delete(package.project_id)
        else:
            uow.packages.delete(package.id)
        uow.commit()
    with uow:
        assert uow.packages.get(package.project_id, "pkg") is None
        assert uow.tags.get(package.id, "latest") is None
        assert uow.tags.history(package.id, "latest") == []
        assert uow.versions.get(package.id, "1.0") is None
        assert uow.distributions.get(package.id, "pkg-1.0.tar.gz") is None
        assert uow.uploads.references_by_artifact() == {}
        assert (uow.members.get(package.project_id, user.id) is None) == (delete == "project")
        assert uow.artifacts.get(artifact(1).id).ref_count == 1  # the caller releases
