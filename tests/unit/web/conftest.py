"""The whole Flask app over in-memory fakes (the real archive reader, so wheels carry
their METADATA), a browser-like client that signs in through the form, and shortcuts
that publish wheels and generic files the way clients do."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapters.package_metadata import ArchiveMetadataReader
from domain.services import projects, users
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app
from tests.fakes.upstream import FakeUpstreamClient
from tests.integration.pypi.distributions import core_metadata, write_wheel
from tests.unit.conftest import World

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def csrf_of(page: str) -> str:
    found = TOKEN.search(page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Site:
    """The app, the world behind it, and the steps tests start from."""

    def __init__(self, world: World, tmp_path: Path, **overrides: object) -> None:
        self.world, self.tmp = world, tmp_path
        self.upstream = FakeUpstreamClient()  # no test here reaches a real upstream
        settings = Settings(data_dir=str(tmp_path), secret_key="test-secret", **overrides)  # type: ignore[arg-type]
        services = bootstrap(
            settings,
            uow=lambda read_only=False, snapshot=False: world.uow(),
            blobs=world.blobs,
            clock=world.clock,
            reader=ArchiveMetadataReader(),
            hasher=world.hasher,
            upstream_client=self.upstream,
        )
        self.app: Flask = create_app(settings, services)
        self.admin = basic("root", "password-root")

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def signed_in(self, username: str, password: str | None = None) -> FlaskClient:
        client = self.client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login",
            data={"username": username, "password": password or f"password-{username}",
                  "csrf_token": token},
        )  # fmt: skip
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    def user(self, name: str) -> None:
        self.world.add_user(name)

    def member(self, project: str, name: str, role: str) -> None:
        projects.set_member(
            self.world.uow(), self.world.clock, actor=self.world.admin, project=project,
            username=name, role=role,
        )  # fmt: skip

    def project(self, name: str, *, public: bool = True) -> str:
        return self.world.project(name, public=public)

    def wheel(
        self, project: str, name: str, version: str, *, metadata: bytes | None = None,
        requires_python: str | None = None,
    ) -> str:  # fmt: skip
        path = write_wheel(
            self.tmp / "dist", name, version, metadata=metadata, requires_python=requires_python
        )
        response = self.client().post(
            f"/pypi/{project}/",
            headers=self.admin,
            data={":action": "file_upload", "name": name, "version": version,
                  "content": (io.BytesIO(path.read_bytes()), path.name)},
        )  # fmt: skip
        assert response.status_code == 200, response.get_data(as_text=True)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    def generic(self, project: str, package: str, content: bytes, **fields: str) -> None:
        if package not in [p.name for p in self._packages(project)]:
            self.world.package(project, package)
        response = self.client().post(
            f"/api/v1/project/{project}/{package}/upload",
            headers=self.admin,
            data={"file": (io.BytesIO(content), "build.tar"), **fields},
        )
        assert response.status_code == 200, response.get_data(as_text=True)

    def _packages(self, project: str) -> list:
        return projects.list_packages(
            self.world.uow(), actor=self.world.admin, project=project, limit=1000
        ).items

    def key_names(self, username: str) -> list[str]:
        user = users.principal_of(self.world.uow().users.get(username))
        return [k.name for k in users.list_api_keys(self.world.uow(), actor=user)]


@pytest.fixture
def site(world: World, tmp_path: Path) -> Site:
    return Site(world, tmp_path)


def metadata_with_description(name: str, version: str, description: str, kind: str) -> bytes:
    head = core_metadata(name, version).decode().rstrip("\n")
    return f"{head}\nDescription-Content-Type: {kind}\n\n{description}".encode()
