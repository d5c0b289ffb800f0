"""Fixtures of the PyPI scenarios: client environment, built distributions (cached for the
session), credentials and helpers bound to the live server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import login
from tests.integration.pypi import clients
from tests.integration.pypi.distributions import build_project


@pytest.fixture(scope="session")
def client_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pypi-clients")


@pytest.fixture(scope="session")
def client_env(client_home: Path) -> dict[str, str]:
    return clients.client_env(client_home)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], list[Path]]:
    """``built(name, version)``: sdist + wheel from ``python -m build``, built once."""
    root = tmp_path_factory.mktemp("built")
    cache: dict[tuple[str, str], list[Path]] = {}

    def build(name: str, version: str) -> list[Path]:
        if (name, version) not in cache:
            cache[name, version] = build_project(root, name, version)
        return cache[name, version]

    return build


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A fresh virtualenv's python for one test."""
    return clients.new_venv(tmp_path / "venv")


@pytest.fixture(scope="session")
def admin_http(live_server) -> Iterator[httpx.Client]:
    client = login(live_server.url, live_server.admin_user, live_server.admin_password)
    with client:
        yield client


@pytest.fixture(scope="session")
def admin_token(admin_http: httpx.Client) -> str:
    response = admin_http.post("/api/v1/auth/keys", json={"name": "pypi-tests"})
    assert response.status_code == 200, response.text
    return response.json()["key"]


@pytest.fixture
def make_project(admin_http: httpx.Client) -> Callable[..., str]:
    """``make_project(is_public=True, allow_overwrite=False)``: a fresh project's name."""

    def make(is_public: bool = True, allow_overwrite: bool = False) -> str:
        name = f"idx-{uuid.uuid4().hex[:10]}"
        response = admin_http.post(
            "/api/v1/projects",
            json={"name": name, "is_public": is_public, "allow_overwrite": allow_overwrite},
        )
        assert response.status_code == 200, response.text
        return name

    return make


@pytest.fixture
def index(live_server, make_project) -> Callable[..., tuple[str, str, str]]:
    """``index(...)``: (project, upload URL, simple URL) of a fresh project's index."""

    def make(**options: bool) -> tuple[str, str, str]:
        project = make_project(**options)
        base = f"{live_server.url}/pypi/{project}"
        return project, f"{base}/legacy/", f"{base}/simple/"

    return make
