"""pip and uv install through Orchard from a (fake) upstream, whatever the upstream does."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from tests.integration.pypi import clients
from tests.integration.pypi.distributions import write_wheel
from tests.integration.upstream.conftest import TTL
from tests.integration.upstream.support import module_name, unique, wheel_file

FAULTS = ("refuse", "503", "hang", "drip", "truncated", "404", "wrong")  # "wrong" revalidates


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


def test_after_a_restart_the_cache_installs_whatever_the_upstream_does(
    mirror, shared_upstream, env, tmp_path
):
    app, _ = _publish_pair(shared_upstream, tmp_path)
    warm = clients.pip_install(
        env, clients.new_venv(tmp_path / "warm"), f"{mirror.url}/simple/", app
    )
    assert warm.returncode == 0, warm.stderr
    mirror.restart()  # the cache lives in the database and the blob store
    time.sleep(TTL)  # the pages are now due for revalidation: every request asks upstream
    for mode in FAULTS:
        shared_upstream.set_mode(mode)
        python = clients.new_venv(tmp_path / f"venv-{mode}")
        done = clients.uv_pip_install(env, python, f"{mirror.url}/simple/", "--no-cache", app)
        assert done.returncode == 0, f"{mode}: {done.stderr}"
        assert clients.imported_version(python, module_name(app)) == "1.0"
        page = httpx.get(f"{mirror.url}/simple/{app}/", timeout=30)
        assert page.status_code == 200
        if mode != "wrong":  # "wrong" spoils files only: pages revalidate (304)
            assert "X-Orchard-Upstream-Stale" in page.headers, mode  # marked stale
    wheel = f"/files/{module_name(app)}-1.0-py3-none-any.whl"
    assert shared_upstream.requests.count(wheel) == 1  # every later install: from the store


@pytest.mark.parametrize(("mode", "status"), [("refuse", 502), ("503", 502), ("hang", 504)])
def test_a_cold_miss_while_the_upstream_is_down_is_a_clear_error(
    mirror, shared_upstream, env, tmp_path, mode, status
):
    name = unique("cold")
    shared_upstream.add(name, wheel_file(tmp_path, name, "1.0"))
    shared_upstream.set_mode(mode)
    # the client's own timeout bounds the wait: Orchard must answer well before it
    response = httpx.get(f"{mirror.url}/simple/{name}/", timeout=15)
    assert response.status_code == status
    assert "upstream" in response.json()["detail"].lower()
    python = clients.new_venv(tmp_path / "venv")
    done = clients.pip_install(env, python, f"{mirror.url}/simple/", "--retries", "0", name)
    assert done.returncode != 0


@pytest.mark.parametrize("mode", ["wrong", "truncated"])
def test_wrong_or_short_bytes_are_never_served_whole_nor_stored(
    mirror, shared_upstream, tmp_path, mode
):
    name = unique("bad")
    good = wheel_file(tmp_path, name, "1.0")
    shared_upstream.add(name, good)
    page = httpx.get(f"{mirror.url}/simple/{name}/", headers=_JSON, timeout=15).json()
    url = httpx.URL(f"{mirror.url}/simple/{name}/").join(page["files"][0]["url"])
    shared_upstream.set_mode(mode)
    with pytest.raises(httpx.HTTPError):  # the body never completes
        httpx.get(url, timeout=15).raise_for_status()
    assert not mirror.blob_exists(good.sha256)
    shared_upstream.set_mode("ok")
    fetched = httpx.get(url, timeout=15)
    assert fetched.status_code == 200
    assert hashlib.sha256(fetched.content).hexdigest() == good.sha256
    assert mirror.blob_exists(good.sha256)


_JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


def test_a_local_name_hides_the_upstream_one_which_is_never_asked(
    mirror, shared_upstream, env, tmp_path
):
    name = unique("private")
    shared_upstream.add(name, wheel_file(tmp_path, name, "99.0"))  # a confusion attack
    local = write_wheel(tmp_path / "local", name, "1.0")
    uploaded = clients.twine_upload(
        env, f"{mirror.url}/", [local], mirror.admin_user, mirror.admin_password
    )
    assert uploaded.returncode == 0, uploaded.stderr
    python = clients.new_venv(tmp_path / "venv")
    done = clients.pip_install(env, python, f"{mirror.url}/simple/", name)
    assert done.returncode == 0, done.stderr
    assert clients.imported_version(python, module_name(name)) == "1.0"
    assert shared_upstream.requested(name) == []


def test_the_first_local_upload_hides_cached_upstream_files_at_once(
    mirror, shared_upstream, env, tmp_path
):
    name = unique("taken")
    upstream_file = wheel_file(tmp_path, name, "2.0")
    shared_upstream.add(name, upstream_file)
    page = httpx.get(f"{mirror.url}/simple/{name}/", headers=_JSON, timeout=15).json()
    cached_url = httpx.URL(f"{mirror.url}/simple/{name}/").join(page["files"][0]["url"])
    assert httpx.get(cached_url, timeout=15).status_code == 200  # cached now
    local = write_wheel(tmp_path / "local", name, "1.0")
    uploaded = clients.twine_upload(
        env, f"{mirror.url}/", [local], mirror.admin_user, mirror.admin_password
    )
    assert uploaded.returncode == 0, uploaded.stderr
    page = httpx.get(f"{mirror.url}/simple/{name}/", headers=_JSON, timeout=15).json()
    assert [f["filename"] for f in page["files"]] == [local.name]
    assert httpx.get(cached_url, timeout=15).status_code == 404


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_an_upstream_that_speaks_only_pep_503_html_works_too(
    mirror, shared_upstream, env, tmp_path, installer
):
    shared_upstream.json = False
    try:
        app, lib = _publish_pair(shared_upstream, tmp_path)
        python = clients.new_venv(tmp_path / "venv")
        install = clients.pip_install if installer == "pip" else clients.uv_pip_install
        done = install(env, python, f"{mirror.url}/simple/", app)
    finally:
        shared_upstream.json = True
    assert done.returncode == 0, done.stderr
    assert clients.imported_version(python, module_name(lib)) == "1.0"
