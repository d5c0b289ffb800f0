"""What an upstream-backed index shows: PEP 691 fields kept, .metadata verified, TTL,
cooldown, root listing, access rules, and the per-project settings that drive them."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from tests.factories import create_user, login
from tests.integration.pypi import clients
from tests.integration.upstream.conftest import TTL
from tests.integration.upstream.support import module_name, unique, wheel_file

JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


@pytest.fixture(scope="session")
def admin(mirror):
    with login(mirror.url, mirror.admin_user, mirror.admin_password) as client:
        yield client


def _project(admin, upstream, *, is_public=True, **settings) -> str:
    name = f"up-{uuid.uuid4().hex[:8]}"
    created = admin.post("/api/v1/projects", json={"name": name, "is_public": is_public})
    assert created.status_code == 200, created.text
    stored = admin.put(f"/api/v1/projects/{name}/upstream", json={"url": upstream.url, **settings})
    assert stored.status_code == 200, stored.text
    return name


def _page(base: str, name: str, **kwargs) -> dict:
    response = httpx.get(f"{base}/simple/{name}/", headers=JSON, timeout=15, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def _file_url(base: str, name: str, entry: dict) -> httpx.URL:
    return httpx.URL(f"{base}/simple/{name}/").join(entry["url"])


def test_pep_691_fields_are_kept_and_metadata_matches_its_hash(mirror, shared_upstream, tmp_path):
    name = unique("fields")
    uploaded = datetime(2024, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    upstream_file = wheel_file(
        tmp_path, name, "1.0", requires_python=">=3.8", yanked="broken build", uploaded=uploaded
    )
    shared_upstream.add(name, upstream_file)
    (entry,) = _page(mirror.url, name)["files"]
    assert entry["hashes"] == {"sha256": upstream_file.sha256}
    assert entry["requires-python"] == ">=3.8"
    assert entry["yanked"] == "broken build"
    assert entry["size"] == len(upstream_file.content)
    assert entry["upload-time"] == "2024-03-04T05:06:07.890000Z"
    assert not entry["url"].startswith("http")  # a URL of Orchard's, not the upstream's
    metadata = httpx.get(f"{_file_url(mirror.url, name, entry)}.metadata", timeout=15)
    assert metadata.status_code == 200
    assert entry["core-metadata"] == {"sha256": hashlib.sha256(metadata.content).hexdigest()}
    html = httpx.get(f"{mirror.url}/simple/{name}/", timeout=15).text
    assert f'data-core-metadata="sha256={entry["core-metadata"]["sha256"]}"' in html
    assert 'data-requires-python="&gt;=3.8"' in html and 'data-yanked="broken build"' in html


def test_metadata_that_does_not_match_its_advertised_hash_is_not_served(
    mirror, shared_upstream, tmp_path
):
    name = unique("badmeta")
    upstream_file = wheel_file(tmp_path, name, "1.0")
    shared_upstream.add(name, upstream_file)
    (entry,) = _page(mirror.url, name)["files"]
    upstream_file.metadata += b"Summary: swapped after the page was read\n"
    response = httpx.get(f"{_file_url(mirror.url, name, entry)}.metadata", timeout=15)
    assert response.status_code == 502


def test_new_releases_and_yanks_appear_after_the_ttl_not_before(mirror, shared_upstream, tmp_path):
    name = unique("ttl")
    first = wheel_file(tmp_path, name, "1.0")
    shared_upstream.add(name, first)
    assert _page(mirror.url, name)["versions"] == ["1.0"]
    first.yanked = "security issue"
    shared_upstream.add(name, wheel_file(tmp_path, name, "2.0"))
    before = _page(mirror.url, name)
    assert before["versions"] == ["1.0"] and before["files"][0]["yanked"] is False
    time.sleep(TTL)
    after = _page(mirror.url, name)
    assert after["versions"] == ["1.0", "2.0"]
    assert after["files"][0]["yanked"] == "security issue"


def test_cooldown_hides_young_files_and_files_of_unknown_age(
    mirror, admin, shared_upstream, tmp_path
):
    """pip installs the release old enough, not the young one."""
    project = _project(admin, shared_upstream, cooldown=3600)
    base = f"{mirror.url}/pypi/{project}"
    name = unique("cool")
    old = wheel_file(tmp_path, name, "1.0")
    young = wheel_file(tmp_path, name, "2.0", uploaded=datetime.now(UTC))
    unknown = wheel_file(tmp_path, name, "3.0", uploaded=None)
    shared_upstream.add(name, old, young, unknown)
    assert [f["filename"] for f in _page(base, name)["files"]] == [old.filename]
    refused = httpx.get(f"{base}/files/{young.sha256}/{young.filename}", timeout=15)
    assert refused.status_code == 404
    assert "cooldown" in refused.json()["detail"]
    env = clients.client_env(tmp_path / "home")
    python = clients.new_venv(tmp_path / "venv")
    done = clients.uv_pip_install(env, python, f"{base}/simple/", name)
    assert done.returncode == 0, done.stderr
    assert clients.imported_version(python, module_name(name)) == "1.0"


def test_the_root_lists_local_and_cached_upstream_names_without_asking_the_upstream(
    mirror, shared_upstream, tmp_path
):
    name = unique("listed")
    shared_upstream.add(name, wheel_file(tmp_path, name, "1.0"))
    _page(mirror.url, name)
    root = httpx.get(f"{mirror.url}/simple/", headers=JSON, timeout=15).json()
    assert name in [p["name"] for p in root["projects"]]
    assert "/simple/" not in shared_upstream.requests


def test_a_private_projects_cache_is_as_private_as_the_project(
    mirror, admin, shared_upstream, tmp_path
):
    project = _project(admin, shared_upstream, is_public=False)
    base = f"{mirror.url}/pypi/{project}"
    name = unique("secret")
    upstream_file = wheel_file(tmp_path, name, "1.0")
    shared_upstream.add(name, upstream_file)
    file_path = f"{base}/files/{upstream_file.sha256}/{upstream_file.filename}"
    assert httpx.get(f"{base}/simple/{name}/", timeout=15).status_code == 401
    assert httpx.get(file_path, timeout=15).status_code == 401
    auth = (mirror.admin_user, mirror.admin_password)
    assert _page(base, name, auth=auth)["files"][0]["filename"] == upstream_file.filename
    assert httpx.get(file_path, auth=auth, timeout=15).content == upstream_file.content


def test_settings_are_for_project_admins_and_never_show_the_password(
    mirror, admin, shared_upstream
):
    project = _project(admin, shared_upstream, username="bot", password="s3cret-upstream")
    shown = admin.get(f"/api/v1/projects/{project}/upstream")
    assert shown.status_code == 200
    assert shown.json()["has_password"] is True and shown.json()["source"] == "project"
    assert "s3cret-upstream" not in shown.text
    user = f"reader-{uuid.uuid4().hex[:6]}"
    create_user(admin, user, "reader-password-1")
    member = admin.put(f"/api/v1/projects/{project}/members/{user}", json={"role": "write"})
    assert member.status_code == 200, member.text
    with login(mirror.url, user, "reader-password-1") as reader:
        assert reader.get(f"/api/v1/projects/{project}/upstream").status_code == 403
    bad = admin.put(f"/api/v1/projects/{project}/upstream", json={"url": "file:///etc/passwd"})
    assert bad.status_code == 400
    negative = admin.put(f"/api/v1/projects/{project}/upstream", json={"ttl": -1})
    assert negative.status_code == 422


def test_refresh_and_purge_and_fsck_counts_cached_files(mirror, admin, shared_upstream, tmp_path):
    project = _project(admin, shared_upstream)
    base = f"{mirror.url}/pypi/{project}"
    name = unique("purged")
    upstream_file = wheel_file(tmp_path, name, "1.0")
    shared_upstream.add(name, upstream_file)
    (entry,) = _page(base, name)["files"]
    assert httpx.get(_file_url(base, name, entry), timeout=15).status_code == 200
    checked = mirror.cli("fsck", "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr  # no reference drift
    shared_upstream.add(name, wheel_file(tmp_path, name, "2.0"))
    refreshed = admin.post(f"/api/v1/projects/{project}/upstream/pages/{name}/refresh")
    assert refreshed.json() == {"outcome": "miss"}
    assert _page(base, name)["versions"] == ["1.0", "2.0"]  # at once, TTL or not
    purged = admin.delete(f"/api/v1/projects/{project}/upstream/pages/{name}")
    assert purged.json() == {"purged": True, "files_released": 1}
    assert admin.delete(f"/api/v1/projects/{project}/upstream/pages/{name}").status_code == 404
    assert "cached pages:   0" in mirror.cli("upstream", "show", project).stdout
    _page(base, name)
    everything = mirror.cli("upstream", "purge", project, "--all")
    assert everything.returncode == 0, everything.stderr
    assert "cached pages:   0" in mirror.cli("upstream", "show", project).stdout


def test_an_upstream_not_found_is_remembered_for_the_negative_ttl(
    mirror, admin, shared_upstream, tmp_path
):
    project = _project(admin, shared_upstream, negative_ttl=1)
    base = f"{mirror.url}/pypi/{project}"
    name = unique("later")
    assert httpx.get(f"{base}/simple/{name}/", timeout=15).status_code == 404
    shared_upstream.add(name, wheel_file(tmp_path, name, "1.0"))
    assert httpx.get(f"{base}/simple/{name}/", timeout=15).status_code == 404  # remembered
    assert len(shared_upstream.requested(f"/simple/{name}/")) == 1
    time.sleep(1)
    assert _page(base, name)["versions"] == ["1.0"]


def test_operators_see_metrics_and_one_log_line_per_upstream_call(
    mirror, shared_upstream, tmp_path
):
    name = unique("seen")
    upstream_file = wheel_file(tmp_path, name, "1.0")
    shared_upstream.add(name, upstream_file)
    (entry,) = _page(mirror.url, name)["files"]
    _page(mirror.url, name)  # a hit
    httpx.get(_file_url(mirror.url, name, entry), timeout=15)  # a miss: fetched
    httpx.get(_file_url(mirror.url, name, entry), timeout=15)  # a hit
    scraped = httpx.get(f"{mirror.url}/metrics", timeout=15).text
    for line in (
        'orchard_upstream_cache_total{kind="page",outcome="hit"}',
        'orchard_upstream_cache_total{kind="page",outcome="miss"}',
        'orchard_upstream_cache_total{kind="file",outcome="miss"}',
        'orchard_upstream_cache_total{kind="file",outcome="hit"}',
        'orchard_upstream_calls_total{kind="page",outcome="200"}',
        'orchard_upstream_call_seconds_count{kind="file"}',
    ):
        assert line in scraped, line
    log = mirror.log_text()
    assert log.count(f"upstream page GET {shared_upstream.url}{name}/ -> 200") == 1
    assert log.count(f"/files/{upstream_file.filename} -> 200") == 1


def test_deleting_a_project_releases_its_cached_files(mirror, admin, shared_upstream, tmp_path):
    project = _project(admin, shared_upstream)
    base = f"{mirror.url}/pypi/{project}"
    name = unique("gone")
    shared_upstream.add(name, wheel_file(tmp_path, name, "1.0"))
    (entry,) = _page(base, name)["files"]
    assert httpx.get(_file_url(base, name, entry), timeout=15).status_code == 200
    assert admin.delete(f"/api/v1/projects/{project}").status_code == 204
    checked = mirror.cli("fsck", "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr  # no reference left over


def test_the_cli_sets_a_projects_upstream_without_ever_printing_the_password(
    mirror, admin, shared_upstream
):
    project = _project(admin, shared_upstream)
    done = mirror.cli("upstream", "set", project, "--cooldown", "60", "--username", "bot",
                      "--password-stdin", input="cli-s3cret\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "cooldown:       60 s" in done.stdout and "password:       (set)" in done.stdout
    assert "cli-s3cret" not in done.stdout + done.stderr
    refused = mirror.cli("upstream", "set", project, "--url", "ftp://nope")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "Error: The upstream URL must be an http:// or https:// URL."


def test_an_export_carries_the_cache_and_its_import_serves_it_with_the_upstream_down(
    mirror, admin, shared_upstream, tmp_path
):
    project = _project(admin, shared_upstream)
    name = unique("kept")
    upstream_file = wheel_file(tmp_path, name, "1.0")
    shared_upstream.add(name, upstream_file)
    (entry,) = _page(f"{mirror.url}/pypi/{project}", name)["files"]
    assert httpx.get(_file_url(f"{mirror.url}/pypi/{project}", name, entry), timeout=15).is_success
    archive = tmp_path / "project.tar"
    exported = mirror.cli("export", project, "-o", str(archive))
    assert exported.returncode == 0, exported.stderr
    copy = f"{project}-copy"
    imported = mirror.cli("import", str(archive), "--project", copy)
    assert imported.returncode == 0, imported.stderr
    shared_upstream.set_mode("refuse")
    base = f"{mirror.url}/pypi/{copy}"
    (restored,) = _page(base, name)["files"]
    assert restored["hashes"] == {"sha256": upstream_file.sha256}
    assert httpx.get(_file_url(base, name, restored), timeout=15).content == upstream_file.content
    checked = mirror.cli("fsck", "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_fetched_wheels_metadata_is_kept_for_when_the_upstream_is_down(
    mirror, shared_upstream, tmp_path
):
    name = unique("meta")
    shared_upstream.add(name, wheel_file(tmp_path, name, "1.0"))
    (entry,) = _page(mirror.url, name)["files"]
    assert httpx.get(_file_url(mirror.url, name, entry), timeout=15).status_code == 200
    shared_upstream.set_mode("refuse")
    metadata = httpx.get(f"{_file_url(mirror.url, name, entry)}.metadata", timeout=15)
    assert metadata.status_code == 200
    assert hashlib.sha256(metadata.content).hexdigest() == entry["core-metadata"]["sha256"]
    assert not shared_upstream.requested(f"{entry['filename']}.metadata")  # from the wheel
