"""The functional test plan of seed 002, scenario by scenario (P0, P1), with the seed's own
commands: ``twine upload --repository-url http://HOST/ dist/*`` and
``pip install --index-url http://HOST/simple/ NAME==V``."""

from __future__ import annotations

import hashlib
import re

import httpx

from tests.integration.pypi import clients
from tests.integration.pypi.distributions import module_name

SEED_NAME = "helm-test-package"


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_p0_the_server_answers_and_the_root_index_lists(live_server) -> None:
    assert httpx.get(f"{live_server.url}/health").status_code == 200
    response = httpx.get(f"{live_server.url}/simple/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<meta name="pypi:repository-version" content="1.1">' in response.text


def test_p0_twine_uploads_to_the_root_and_pip_installs_it(
    live_server, built, client_env, venv
) -> None:
    files = built(SEED_NAME, "1.0.0")  # dist/*: the sdist and the wheel, in one call
    sdist = next(f for f in files if f.name.endswith(".tar.gz"))
    upload = clients.twine_upload(
        client_env, f"{live_server.url}/", files, live_server.admin_user,
        live_server.admin_password,
    )  # fmt: skip
    assert upload.returncode == 0, upload.stdout + upload.stderr

    root = httpx.get(f"{live_server.url}/simple/").text
    assert f'href="{SEED_NAME}/"' in root
    page = httpx.get(f"{live_server.url}/simple/{SEED_NAME}/").text
    for file in files:
        assert f"{file.name}#sha256={_sha256(file)}" in page
    assert sdist.name in page

    install = clients.pip_install(
        client_env, venv, f"{live_server.url}/simple/", f"{SEED_NAME}==1.0.0"
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert clients.imported_version(venv, module_name(SEED_NAME)) == "1.0.0"


def test_p1_three_versions_are_listed_pinned_and_latest_install(
    live_server, built, client_env, index, tmp_path
) -> None:
    _project, upload_url, simple_url = index()
    name = "orchard-multi-version"
    for version in ("1.0.0", "1.0.1", "2.0.0"):
        done = clients.twine_upload(
            client_env, upload_url, built(name, version), live_server.admin_user,
            live_server.admin_password,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    page = httpx.get(f"{simple_url}{name}/").text
    for version in ("1.0.0", "1.0.1", "2.0.0"):
        assert f"{module_name(name)}-{version}-py3-none-any.whl" in page
        assert f"{module_name(name)}-{version}.tar.gz" in page

    pinned = clients.new_venv(tmp_path / "pinned")
    assert clients.pip_install(client_env, pinned, simple_url, f"{name}==1.0.1").returncode == 0
    assert clients.imported_version(pinned, module_name(name)) == "1.0.1"
    latest = clients.new_venv(tmp_path / "latest")
    assert clients.pip_install(client_env, latest, simple_url, name).returncode == 0
    assert clients.imported_version(latest, module_name(name)) == "2.0.0"


def test_p1_packages_survive_a_restart(live_server, built, client_env, index, venv) -> None:
    _project, upload_url, simple_url = index()
    name = "orchard-persistent"
    files = built(name, "1.0.0")
    done = clients.twine_upload(
        client_env, upload_url, files, live_server.admin_user, live_server.admin_password
    )
    assert done.returncode == 0, done.stdout + done.stderr

    live_server.restart()

    page = httpx.get(f"{simple_url}{name}/")
    assert page.status_code == 200
    hrefs = re.findall(r'href="([^"#]+)#sha256=([0-9a-f]{64})"', page.text)
    assert len(hrefs) == 2
    for href, sha256 in hrefs:
        content = httpx.get(httpx.URL(f"{simple_url}{name}/").join(href)).content
        assert hashlib.sha256(content).hexdigest() == sha256
    install = clients.pip_install(client_env, venv, simple_url, f"{name}==1.0.0")
    assert install.returncode == 0, install.stdout + install.stderr
