"""Any spelling of a Python package name that PEP 503 folds to the stored name finds it,
in the REST API and on the command line, not only under ``/simple/``."""

from __future__ import annotations

import pytest

from tests.integration.pypi import clients
from tests.integration.pypi.distributions import write_wheel

pytestmark = pytest.mark.integration

SPELLINGS = ["nc-hello", "nc_hello", "NC.Hello", "Nc-_Hello"]


@pytest.fixture
def nc_hello(live_server, index, client_env, tmp_path) -> str:
    project, upload_url, _ = index()
    wheel = write_wheel(tmp_path, "nc_hello", "0.1.0")
    done = clients.twine_upload(
        client_env, upload_url, [wheel], live_server.admin_user, live_server.admin_password
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return project


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_rest_api_finds_a_python_package_by_any_spelling(admin_http, nc_hello, spelling):
    response = admin_http.get(f"/api/v1/project/{nc_hello}/packages/{spelling}")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "nc-hello"
    release = admin_http.get(f"/api/v1/project/{nc_hello}/{spelling}/versions/0.1.0")
    assert release.status_code == 200, release.text
    assert [f["filename"] for f in release.json()["files"]] == ["nc_hello-0.1.0-py3-none-any.whl"]


def test_the_rest_api_yanks_through_another_spelling(admin_http, nc_hello):
    url = f"/api/v1/project/{nc_hello}/NC_Hello/versions/0.1.0/yank"
    assert admin_http.post(url, json={"reason": "spelling"}).status_code == 200
    page = admin_http.get(f"/pypi/{nc_hello}/simple/nc-hello/")
    assert 'data-yanked="spelling"' in page.text


def test_the_command_line_yanks_and_deletes_through_another_spelling(
    live_server, admin_http, nc_hello
):
    yanked = live_server.cli("pypi", "yank", nc_hello, "nc_hello", "--version", "0.1.0")
    assert yanked.returncode == 0, yanked.stderr
    assert "yanked nc_hello-0.1.0-py3-none-any.whl" in yanked.stdout
    deleted = live_server.cli("pypi", "delete", nc_hello, "NC.Hello", "--version", "0.1.0", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert admin_http.get(f"/api/v1/project/{nc_hello}/nc-hello/versions/0.1.0").status_code == 404
