from __future__ import annotations

import pytest

from tests.harness.fake_upstream import FakeUpstream
from tests.harness.live_server import build_server

TTL = 2  # seconds: short, so a test sees a page expire without sleeping long


@pytest.fixture
def upstream():
    fake = FakeUpstream().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def shared_upstream():
    fake = FakeUpstream().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def mirror(shared_upstream, tmp_path_factory, request):
    """A live Orchard (SQLite, filesystem) whose default project pulls through the fake."""
    server = build_server("sqlite-fs", tmp_path_factory.mktemp("mirror"), request)
    server.env.update(
        ORCHARD_UPSTREAM_URL=shared_upstream.url,
        ORCHARD_UPSTREAM_TTL=str(TTL),
        ORCHARD_UPSTREAM_CONNECT_TIMEOUT="1",
        ORCHARD_UPSTREAM_READ_TIMEOUT="1",
        ORCHARD_LOG_LEVEL="info",
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _upstream_back_to_normal(request):
    yield
    if "shared_upstream" in request.fixturenames:  # session-wide: the next test wants it fine
        shared = request.getfixturevalue("shared_upstream")
        shared.set_mode("ok")
        shared.file_delay = 0.0
