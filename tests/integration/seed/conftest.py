"""Fixtures of the upstream suite, bound to the live server of the harness.

Upstream read ``ORCHARD_TEST_URL`` and logged in as admin; here every URL comes from the
``live_server`` fixture (one server per configuration, shared by the session), so each
test creates its own project and package with unique names.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.factories import compute_sha256, generate_content_with_hash, login
from tests.integration.seed.sizes import (
    CHUNK_SIZE,
    MULTIPART_THRESHOLD,
    SIZE_1B,
    SIZE_1GB,
    SIZE_1KB,
    SIZE_1MB,
    SIZE_5MB,
    SIZE_10KB,
    SIZE_10MB,
    SIZE_50MB,
    SIZE_100KB,
    SIZE_100MB,
    SIZE_250MB,
    SIZE_500MB,
)

# Upstream kept the size constants in conftest; they are re-exported from here.
__all__ = [
    "CHUNK_SIZE",
    "MULTIPART_THRESHOLD",
    "SIZE_1B",
    "SIZE_1GB",
    "SIZE_1KB",
    "SIZE_1MB",
    "SIZE_5MB",
    "SIZE_10KB",
    "SIZE_10MB",
    "SIZE_50MB",
    "SIZE_100KB",
    "SIZE_100MB",
    "SIZE_250MB",
    "SIZE_500MB",
]


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """Where the workers of the concurrency tests connect (upstream: ORCHARD_TEST_URL)."""
    return live_server.url


@pytest.fixture(scope="session")
def integration_client(live_server) -> Iterator[httpx.Client]:
    """A client logged in as the admin through the session cookie.

    The upstream tests upload without an Authorization header, so the session cookie is
    what authorises them.
    """
    client = login(live_server.url, live_server.admin_user, live_server.admin_password)
    with client:
        yield client


@pytest.fixture
def unique_test_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def test_project(integration_client, unique_test_id) -> Iterator[str]:
    """A public project for one test, deleted afterwards."""
    name = f"test-project-{unique_test_id}"
    response = integration_client.post(
        "/api/v1/projects",
        json={"name": name, "description": "Test project", "is_public": True},
    )
    assert response.status_code == 200, f"Failed to create project: {response.text}"
    yield name
    integration_client.delete(f"/api/v1/projects/{name}")


@pytest.fixture
def test_package(integration_client, test_project, unique_test_id) -> tuple[str, str]:
    """A generic package in ``test_project``: ``(project, package)``."""
    name = f"test-package-{unique_test_id}"
    response = integration_client.post(
        f"/api/v1/project/{test_project}/packages",
        json={"name": name, "description": "Test package", "format": "generic"},
    )
    assert response.status_code == 200, f"Failed to create package: {response.text}"
    return test_project, name


@pytest.fixture
def test_content() -> tuple[bytes, str]:
    """Content no other test uploads, and its sha256."""
    content = f"test-content-{uuid.uuid4().hex}".encode()
    return content, compute_sha256(content)


@pytest.fixture
def sized_content():
    """Factory fixture: ``sized_content(size, seed=None) -> (content, sha256)``."""

    def _generate(size: int, seed: int | None = None):
        return generate_content_with_hash(size, seed)

    return _generate
