"""View tests: the real Flask app over in-memory fakes of every port, driven by Flask's
test client. No server, no database, no disk: each request takes about a millisecond, so
the status table, the schemas, content negotiation and headers are checked here, and the
live-server tests keep only what needs a real server (gunicorn, sockets, clients)."""

from __future__ import annotations

import base64

import pytest
from flask.testing import FlaskClient

from domain.services import users
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app
from tests.fakes.metadata import FakeUnitOfWorkFactory
from tests.unit.conftest import World

PEPPER = b"view-tests-pepper"


class Site:
    """A ``World`` (fakes and shortcuts) served by the Flask app."""

    def __init__(self, world: World, **settings: object) -> None:
        self.world = world
        self.uows = FakeUnitOfWorkFactory(world.db)
        self.settings = Settings(**settings)
        self.services = bootstrap(
            self.settings,
            uow=self.uows,
            blobs=world.blobs,
            clock=world.clock,
            reader=world.reader,
            hasher=world.hasher,
            pepper=PEPPER,
        )
        self.app = create_app(self.settings, self.services)
        self.client: FlaskClient = self.app.test_client()

    def api_key(self, username: str = "root") -> str:
        with self.world.uow() as uow:
            user = uow.users.get(username)
        assert user is not None
        created = users.create_api_key(
            self.world.uow(),
            self.world.clock,
            actor=users.principal_of(user),
            name="view-tests",
            pepper=PEPPER,
        )
        return created.secret

    def bearer(self, username: str = "root") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key(username)}"}

    @staticmethod
    def basic(username: str, password: str) -> dict[str, str]:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


@pytest.fixture
def site(stocked: World) -> Site:
    """Project 'proj' (public) with generic package 'pkg', served."""
    return Site(stocked)
