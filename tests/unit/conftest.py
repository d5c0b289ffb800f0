"""Fixtures for use-case tests: every port is an in-memory fake sharing one state."""

from __future__ import annotations

import io

import pytest

from domain.access import Principal
from domain.ports import BlobStore, StagedBlob
from domain.services import users
from domain.services.projects import create_package, create_project
from domain.services.uploads import UploadRequest, UploadResult, upload_artifact
from tests.fakes.blobs import FakeBlobStore
from tests.fakes.clock import FakeClock
from tests.fakes.credentials import FakePasswordHasher
from tests.fakes.metadata import FakeDatabase, FakeUnitOfWork
from tests.fakes.package_metadata import FakeMetadataReader

AS_ADMIN = object()  # the default actor of World.upload (None means anonymous)


class World:
    """The ports of one test, and shortcuts for the steps most tests start with."""

    def __init__(self) -> None:
        self.db = FakeDatabase()
        self.clock = FakeClock()
        self.blobs = FakeBlobStore(self.clock)
        self.reader = FakeMetadataReader()
        self.hasher = FakePasswordHasher()
        self.admin = self.add_user("root", admin=True)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.db)

    def add_user(self, name: str, admin: bool = False) -> Principal:
        user = users.add_user(
            self.uow(),
            self.hasher,
            self.clock,
            username=name,
            password="password-" + name,
            is_admin=admin,
        )
        return users.principal_of(user)

    def project(self, name: str = "proj", *, public: bool = True, actor=None) -> str:
        create_project(
            self.uow(), self.clock, actor=actor or self.admin, name=name, is_public=public
        )
        return name

    def package(self, project: str = "proj", name: str = "pkg", fmt: str = "generic") -> str:
        create_package(
            self.uow(), self.clock, actor=self.admin, project=project, name=name, format=fmt
        )
        return name

    def stage(self, content: bytes, store: BlobStore | None = None) -> StagedBlob:
        writer = (store or self.blobs).writer()
        writer.write(content)
        return writer.finish()

    def upload(
        self,
        content: bytes,
        *,
        project: str = "proj",
        package: str = "pkg",
        filename: str = "file.bin",
        actor=AS_ADMIN,
        **fields,
    ) -> UploadResult:
        request = UploadRequest(
            project=project,
            package=package,
            filename=filename,
            content_type="application/octet-stream",
            **fields,
        )
        return upload_artifact(
            self.uow(),
            self.blobs,
            self.clock,
            self.reader,
            actor=self.admin if actor is AS_ADMIN else actor,
            request=request,
            staged=self.stage(content),
        )

    def artifact(self, sha256: str):
        with self.uow() as uow:
            return uow.artifacts.get(sha256)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def stocked(world: World) -> World:
    """A world with project 'proj' and generic package 'pkg'."""
    world.project()
    world.package()
    return world


def stream(content: bytes) -> io.BytesIO:
    return io.BytesIO(content)
