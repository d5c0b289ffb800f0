"""pip and uv install through Orchard from a (fake) upstream, whatever the upstream does."""

from __future__ import annotations

import pytest

from tests.integration.pypi import clients
from tests.integration.upstream.support import module_name, unique, wheel_file


@pytest.fixture
def env(tmp_path):
    return clients.client_env(tmp_path / "home")


def _publish_pair(upstream, tmp_path):
    """app (needs lib) and lib, on the upstream only."""
    app, lib = unique("app"), unique("lib")
    upstream.add(lib, wheel_file(tmp_path, lib, "1.0"))
    upstream.add(app, wheel_file(tmp_path, app, "1.0", requires=(lib,)))
    return app, lib


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_install_with_dependencies_from_the_upstream(
    mirror, shared_upstream, env, tmp_path, installer
):
    app, lib = _publish_pair(shared_upstream, tmp_path)
    python = clients.new_venv(tmp_path / "venv")
    install = clients.pip_install if installer == "pip" else clients.uv_pip_install
    done = install(env, python, f"{mirror.url}/simple/", app)
    assert done.returncode == 0, done.stderr
    assert clients.imported_version(python, module_name(lib)) == "1.0"
    wheel = f"/files/{module_name(lib)}-1.0-py3-none-any.whl"
    assert shared_upstream.requests.count(wheel) == 1  # fetched once, then from the store
