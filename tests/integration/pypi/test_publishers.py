"""poetry, pdm and hatch publish to the legacy upload API as real subprocesses (twine and uv
are in the other modules): with a password, with an API key as ``__token__``, twice with
the same files, and with a wrong password.

Each tool is installed once per session into a virtualenv of its own, from the package
index; an install that fails fails the tests (a client suite that skips silently would
hide breakage), unless ``ORCHARD_TEST_ALLOW_SKIP=1``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.pypi import clients
from tests.integration.pypi.distributions import module_name

# The root index answers the legacy API at three spellings; each tool takes one of them.
ROOT_UPLOAD_PATHS = {"poetry": "/legacy/", "pdm": "/", "hatch": "/legacy"}
LINK = re.compile(r'href="[^"#]*/([^/"#]+)#sha256=([0-9a-f]{64})"')


@dataclass(frozen=True)
class Publisher:
    """One tool, ready to publish a project directory's ``dist/``."""

    tool: str
    executable: Path
    env: dict[str, str]

    def __call__(
        self, project: Path, url: str, username: str, password: str
    ) -> subprocess.CompletedProcess:
        return clients.PUBLISH[self.tool](
            self.executable, self.env, project, url, username, password
        )


@pytest.fixture(scope="session")
def publishers(
    tmp_path_factory: pytest.TempPathFactory, client_env: dict[str, str]
) -> Callable[[str], Path]:
    """``publishers(tool)``: the tool's executable, installed on first use in the session
    (a failed install is remembered: without a network pip takes minutes to give up)."""
    root = tmp_path_factory.mktemp("publishers")
    installed: dict[str, tuple[Path, str | None]] = {}

    def get(tool: str) -> Path:
        if tool not in installed:
            installed[tool] = clients.install_publisher(root, tool, client_env)
        executable, problem = installed[tool]
        if problem is not None:
            reason = f"cannot install {clients.PUBLISHERS[tool]} from the package index: {problem}"
            if os.environ.get("ORCHARD_TEST_ALLOW_SKIP") == "1":
                pytest.skip(reason)
            pytest.fail(reason + " (set ORCHARD_TEST_ALLOW_SKIP=1 to skip instead)", pytrace=False)
        return executable

    return get


@pytest.fixture(params=list(clients.PUBLISHERS))
def publisher(
    request: pytest.FixtureRequest,
    publishers: Callable[[str], Path],
    client_env: dict[str, str],
    tmp_path: Path,
) -> Publisher:
    """Each tool in turn, with a home of its own for this test."""
    executable = publishers(request.param)
    env = clients.publisher_env(client_env, tmp_path / "home", executable)
    return Publisher(request.param, executable, env)


def _project(root: Path, name: str, version: str, files: list[Path]) -> Path:
    """A project directory as a tool sees it after a build: a pyproject naming the
    distribution (poetry uploads only ``dist/`` files of that name and version) and
    ``dist/``."""
    project = root / "project"
    (project / "dist").mkdir(parents=True)
    (project / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "{version}"\n')
    for file in files:
        shutil.copy(file, project / "dist")
    return project


def _digests(files: list[Path]) -> dict[str, str]:
    return {file.name: hashlib.sha256(file.read_bytes()).hexdigest() for file in files}


def _index_digests(simple_url: str, name: str) -> dict[str, str]:
    """Filename → ``#sha256=`` of the package's index page (PEP 503 HTML)."""
    page = httpx.get(f"{simple_url}{name}/", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    return dict(LINK.findall(page.text))


def _output(done: subprocess.CompletedProcess) -> str:
    return f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


def _assert_installs(
    env: dict[str, str], python: Path, simple_url: str, name: str, version: str
) -> None:
    install = clients.pip_install(env, python, simple_url, f"{name}=={version}")
    assert install.returncode == 0, install.stdout + install.stderr
    assert clients.imported_version(python, module_name(name)) == version


def test_publishes_with_a_password_and_again_with_the_same_files(
    publisher: Publisher, live_server, index, built, client_env, tmp_path, venv
) -> None:
    """The admin's username and password on a project's ``/pypi/<p>/legacy/``.

    Publishing the identical files again succeeds and changes nothing, as for twine and
    uv: poetry and pdm (no ``--skip-existing``) post them again and Orchard answers 200 for
    the same bytes; hatch first lists the files already there at devpi's
    ``<repo>+simple/<name>/``, which Orchard answers 404, so it posts them again too."""
    _project_name, upload_url, simple_url = index()
    name = f"orchard-{publisher.tool}"
    files = built(name, "1.0.0")
    project = _project(tmp_path, name, "1.0.0", files)
    for attempt in ("first", "identical again"):
        done = publisher(project, upload_url, live_server.admin_user, live_server.admin_password)
        assert done.returncode == 0, f"{attempt}: {_output(done)}"
        assert _index_digests(simple_url, name) == _digests(files), attempt
    _assert_installs(client_env, venv, simple_url, name, "1.0.0")


def test_publishes_with_an_api_key_to_the_root_index(
    publisher: Publisher, live_server, admin_token, built, client_env, tmp_path, venv
) -> None:
    """``__token__`` and an API key, on the default index's upload URL (``/legacy/``,
    ``/`` or ``/legacy``: one per tool), installed from ``/simple/``."""
    name = f"orchard-{publisher.tool}-key"
    files = built(name, "2.0.0")
    project = _project(tmp_path, name, "2.0.0", files)
    upload_url = live_server.url + ROOT_UPLOAD_PATHS[publisher.tool]
    done = publisher(project, upload_url, "__token__", admin_token)
    assert done.returncode == 0, _output(done)
    simple_url = f"{live_server.url}/simple/"
    assert _index_digests(simple_url, name) == _digests(files)
    _assert_installs(client_env, venv, simple_url, name, "2.0.0")


def test_a_wrong_password_fails_the_tool_and_stores_nothing(
    publisher: Publisher, live_server, index, built, tmp_path
) -> None:
    """The 401 reaches the user as a failure (non-zero exit naming the status), not as a
    prompt or a silent success, and the package does not exist afterwards."""
    _project_name, upload_url, simple_url = index()
    name = f"orchard-{publisher.tool}"
    project = _project(tmp_path, name, "1.0.0", built(name, "1.0.0"))
    # An unknown user: five tools failing as the shared admin from one address would
    # lock the admin out (login throttling) for the tests that follow.
    done = publisher(project, upload_url, f"nobody-{publisher.tool}", "not-the-password")
    assert done.returncode != 0, _output(done)
    assert "401" in done.stdout + done.stderr, _output(done)
    assert httpx.get(f"{simple_url}{name}/").status_code == 404
