"""Beyond the seed: uv, PEP 691 JSON, PEP 658 metadata, yanks, redirects, file headers,
releases in the REST API and one blob shared by two projects."""

from __future__ import annotations

import hashlib
import re
import zipfile

import httpx

from tests.integration.pypi import clients
from tests.integration.pypi.distributions import module_name, write_wheel

_ROOT_NAME = re.compile(r'<a href="[^"]*">([^<]+)</a>')
PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)
UV_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
JSON_V1 = "application/vnd.pypi.simple.v1+json"


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_uv_publishes_and_installs_and_check_url_skips_identical_files(
    admin_token, client_env, index, built, venv
) -> None:
    _project, upload_url, simple_url = index()
    files = built("orchard-uv", "1.2.0")
    done = clients.uv_publish(client_env, upload_url, files, admin_token)
    assert done.returncode == 0, done.stdout + done.stderr
    again = clients.uv_publish(
        client_env, upload_url, files, admin_token, "--check-url", simple_url
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "skipping" in (again.stdout + again.stderr).lower()
    install = clients.uv_pip_install(client_env, venv, simple_url, "orchard-uv==1.2.0")
    assert install.returncode == 0, install.stdout + install.stderr
    assert clients.imported_version(venv, module_name("orchard-uv")) == "1.2.0"


def test_pip_and_uv_get_json_and_the_page_is_conditional(
    live_server, index, client_env, tmp_path, venv
) -> None:
    _project, upload_url, simple_url = index()
    wheel = write_wheel(tmp_path, "orchard-json", "1.0.0", requires_python=">=3.8")
    up = clients.twine_upload(
        client_env, upload_url, [wheel], live_server.admin_user, live_server.admin_password
    )
    assert up.returncode == 0, up.stdout + up.stderr
    for accept in (PIP_ACCEPT, UV_ACCEPT):
        page = httpx.get(f"{simple_url}orchard-json/", headers={"Accept": accept})
        assert page.headers["content-type"] == JSON_V1 and "Accept" in page.headers["vary"]
        document = page.json()
        assert document["meta"]["api-version"] == "1.1"
        assert document["versions"] == ["1.0.0"]
        (file,) = document["files"]
        assert file["hashes"] == {"sha256": _sha(wheel)} and file["size"] == wheel.stat().st_size
        assert file["requires-python"] == ">=3.8" and file["yanked"] is False
        assert file["upload-time"].endswith("Z") and file["core-metadata"]["sha256"]
        again = httpx.get(
            f"{simple_url}orchard-json/",
            headers={"Accept": accept, "If-None-Match": page.headers["etag"]},
        )
        assert again.status_code == 304
    assert httpx.get(simple_url, headers={"Accept": "application/xml"}).status_code == 406
    assert clients.pip_install(client_env, venv, simple_url, "orchard-json").returncode == 0
    other = clients.new_venv(tmp_path / "uv")
    assert clients.uv_pip_install(client_env, other, simple_url, "orchard-json").returncode == 0


def test_metadata_file_is_the_wheels_and_only_wheels_advertise_one(
    live_server, index, client_env, built
) -> None:
    _project, upload_url, simple_url = index()
    files = built("orchard-meta", "1.0.0")
    clients.twine_upload(
        client_env, upload_url, files, live_server.admin_user, live_server.admin_password
    )
    wheel = next(f for f in files if f.suffix == ".whl")
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        expected = archive.read(name)
    page = httpx.get(f"{simple_url}orchard-meta/").text
    sdist_line = next(line for line in page.splitlines() if ".tar.gz" in line)
    assert "data-core-metadata" not in sdist_line
    digest = hashlib.sha256(expected).hexdigest()
    assert f'data-core-metadata="sha256={digest}"' in page
    url = f"{simple_url}../files/{_sha(wheel)}/{wheel.name}.metadata"
    assert httpx.get(url).content == expected


def test_files_are_immutable_and_served_in_ranges(live_server, index, client_env, tmp_path):
    _project, upload_url, _simple = index()
    wheel = write_wheel(tmp_path, "orchard-range", "1.0.0", payload=b"x" * 5000)
    clients.twine_upload(
        client_env, upload_url, [wheel], live_server.admin_user, live_server.admin_password
    )
    url = f"{upload_url}../files/{_sha(wheel)}/{wheel.name}"
    whole = httpx.get(url)
    assert whole.content == wheel.read_bytes()
    assert "immutable" in whole.headers["cache-control"]
    assert whole.headers["x-checksum-sha256"] == _sha(wheel)
    part = httpx.get(url, headers={"Range": "bytes=-22"})
    assert part.status_code == 206 and part.content == wheel.read_bytes()[-22:]


def test_a_yanked_release_is_skipped_unless_pinned(
    live_server, admin_http, index, client_env, tmp_path
) -> None:
    project, upload_url, simple_url = index()
    old = write_wheel(tmp_path, "orchard-yank", "1.0.0")
    new = write_wheel(tmp_path, "orchard-yank", "2.0.0")
    clients.twine_upload(
        client_env, upload_url, [old, new], live_server.admin_user, live_server.admin_password
    )
    api = f"/api/v1/project/{project}/orchard-yank"
    yanked = admin_http.post(f"{api}/versions/2.0.0/yank", json={"reason": "<script>x</script>"})
    assert yanked.status_code == 200, yanked.text
    page = httpx.get(f"{simple_url}orchard-yank/").text
    assert 'data-yanked="&lt;script&gt;x&lt;/script&gt;"' in page and "<script>" not in page

    latest = clients.new_venv(tmp_path / "latest")
    assert clients.pip_install(client_env, latest, simple_url, "orchard-yank").returncode == 0
    assert clients.imported_version(latest, "orchard_yank") == "1.0.0"
    pinned = clients.new_venv(tmp_path / "pinned")
    assert (
        clients.pip_install(client_env, pinned, simple_url, "orchard-yank==2.0.0").returncode == 0
    )
    assert clients.imported_version(pinned, "orchard_yank") == "2.0.0"

    unyanked = live_server.cli("pypi", "unyank", project, "orchard-yank", "--version", "2.0.0")
    assert unyanked.returncode == 0, unyanked.stderr
    assert "data-yanked" not in httpx.get(f"{simple_url}orchard-yank/").text


def test_names_redirect_to_their_normalized_form(live_server) -> None:
    response = httpx.get(f"{live_server.url}/simple/My_Package.Name/")
    assert response.status_code == 301
    assert response.headers["location"].endswith("/simple/my-package-name/")


def test_a_release_lists_its_files_and_a_deleted_file_keeps_its_name(
    live_server, admin_http, index, client_env, built, tmp_path
) -> None:
    project, upload_url, simple_url = index()
    files = built("orchard-release", "3.0.0")
    clients.twine_upload(
        client_env, upload_url, files, live_server.admin_user, live_server.admin_password
    )
    api = f"/api/v1/project/{project}/orchard-release"
    release = admin_http.get(f"{api}/versions/3.0.0").json()
    assert sorted(f["filename"] for f in release["files"]) == sorted(f.name for f in files)
    assert release["artifact_id"] in {f["artifact_id"] for f in release["files"]}
    wheel = next(f for f in files if f.suffix == ".whl")
    picked = admin_http.get(f"{api}/+/version:3.0.0", params={"filename": wheel.name})
    assert picked.content == wheel.read_bytes()

    assert admin_http.delete(f"{api}/files/{wheel.name}").status_code == 204
    assert wheel.name not in httpx.get(f"{simple_url}orchard-release/").text
    impostor = write_wheel(tmp_path, "orchard-release", "3.0.0", payload=b"other bytes")
    assert impostor.name == wheel.name
    refused = clients.twine_upload(
        client_env, upload_url, [impostor], live_server.admin_user, live_server.admin_password
    )
    assert refused.returncode != 0 and "File already exists" in refused.stdout + refused.stderr
    assert admin_http.delete(f"{api}/versions/3.0.0").status_code == 204
    assert httpx.get(f"{simple_url}orchard-release/").text.count("<a ") == 0


def test_one_wheel_in_two_projects_is_one_blob_with_two_references(
    live_server, admin_http, index, client_env, tmp_path
) -> None:
    wheel = write_wheel(tmp_path, "orchard-shared", "1.0.0", payload=b"shared bytes")
    for _ in range(2):
        _project, upload_url, _ = index()
        done = clients.twine_upload(
            client_env, upload_url, [wheel], live_server.admin_user, live_server.admin_password
        )
        assert done.returncode == 0, done.stdout + done.stderr
    artifact = admin_http.get(f"/api/v1/artifact/{_sha(wheel)}").json()
    assert artifact["ref_count"] == 2
    assert live_server.blob_exists(_sha(wheel))


def test_the_cached_root_changes_at_once_on_every_worker(
    live_server, index, client_env, tmp_path, admin_http
) -> None:
    """Every worker caches the root page by the project's package-list serial: a package
    added or deleted shows on the next request, whichever worker answers it."""
    project, upload_url, simple_url = index()

    def names_seen(times: int = 24) -> list[set[str]]:
        # A new connection each time, so any worker may answer.
        return [set(_ROOT_NAME.findall(httpx.get(simple_url).text)) for _ in range(times)]

    first = write_wheel(tmp_path / "a", "orchard-root-a", "1.0.0")
    up = clients.twine_upload(
        client_env, upload_url, [first], live_server.admin_user, live_server.admin_password
    )
    assert up.returncode == 0, up.stdout + up.stderr
    before = httpx.get(simple_url)
    assert names_seen() == [{"orchard-root-a"}] * 24  # every worker has it cached now

    second = write_wheel(tmp_path / "b", "orchard-root-b", "1.0.0")
    up = clients.twine_upload(
        client_env, upload_url, [second], live_server.admin_user, live_server.admin_password
    )
    assert up.returncode == 0, up.stdout + up.stderr
    assert names_seen() == [{"orchard-root-a", "orchard-root-b"}] * 24
    changed = httpx.get(simple_url, headers={"If-None-Match": before.headers["etag"]})
    assert changed.status_code == 200

    gone = admin_http.delete(f"/api/v1/project/{project}/packages/orchard-root-a")
    assert gone.status_code == 204
    assert names_seen() == [{"orchard-root-b"}] * 24
