"""The real Flask application over in-memory fakes of every port, for view tests.

``FakeWeb`` builds the app exactly as gunicorn does (``create_app``), with a shared fake
database, a clock the test moves and the cheap password hasher, and offers the few
steps these tests start with.
"""

from __future__ import annotations

import base64
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from domain.services import users
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app
from tests.fakes.blobs import FakeBlobStore
from tests.fakes.clock import FakeClock
from tests.fakes.credentials import FakePasswordHasher
from tests.fakes.metadata import FakeDatabase, FakeUnitOfWork
from tests.fakes.package_metadata import FakeMetadataReader


class FakeWeb:
    def __init__(self, data_dir: Path, **settings: object) -> None:
        self.db = FakeDatabase()
        self.clock = FakeClock()
        self.hasher = FakePasswordHasher()
        self.settings = Settings(data_dir=str(data_dir), **settings)  # type: ignore[arg-type]
        self.services = bootstrap(
            self.settings,
            uow=lambda read_only=False, snapshot=False: FakeUnitOfWork(self.db),
            blobs=FakeBlobStore(self.clock),
            clock=self.clock,
            reader=FakeMetadataReader(),
            hasher=self.hasher,
            pepper=b"test-pepper",
        )
        self.app: Flask = create_app(self.settings, self.services)

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def add_user(self, name: str, password: str, *, admin: bool = False) -> None:
        users.add_user(
            self.uow(), self.hasher, self.clock, username=name, password=password, is_admin=admin
        )

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.db)


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
