"""Bad uploads: each refused with a 4xx whose reason twine prints (reason phrase) and uv
reads (problem+json), and nothing stored."""

from __future__ import annotations

import hashlib
import shutil

import httpx
import pytest

from tests.integration.pypi import clients
from tests.integration.pypi.distributions import write_wheel, zip_bomb_wheel


def _post(live_server, url: str, path, *, name: str, version: str, **fields: str):
    with path.open("rb") as content:
        return httpx.post(
            url,
            auth=(live_server.admin_user, live_server.admin_password),
            data={":action": "file_upload", "name": name, "version": version, **fields},
            files={"content": (path.name, content)},
            timeout=60,
        )


def _assert_refused(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.reason_phrase
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"]


def test_twine_prints_why_a_filename_does_not_match_its_metadata(
    live_server, client_env, index, tmp_path
) -> None:
    _project, upload_url, simple_url = index()
    wheel = write_wheel(tmp_path / "w", "orchard-named", "1.0.0")
    renamed = tmp_path / "orchard_other-1.0.0-py3-none-any.whl"
    shutil.copy(wheel, renamed)
    done = clients.twine_upload(
        client_env, upload_url, [renamed], live_server.admin_user, live_server.admin_password
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "does not match the name" in " ".join(output.split())
    assert httpx.get(f"{simple_url}orchard-other/").status_code == 404
    assert httpx.get(f"{simple_url}orchard-named/").status_code == 404


@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("not-a-zip", 400, "not a valid zip"),
        ("zip-bomb", 400, "zip bomb"),
        ("sha256-mismatch", 400, "sha256_digest"),
        ("md5-mismatch", 400, "md5_digest"),
        ("markup-requires-python", 400, "Requires-Python"),
        ("version-mismatch", 400, "does not match the version"),
    ],
)
def test_a_bad_upload_is_refused_and_nothing_is_stored(
    live_server, index, tmp_path, case: str, status: int, words: str
) -> None:
    _project, upload_url, simple_url = index()
    name, fields = "orchard-bad", {}
    path = write_wheel(tmp_path, name, "1.0.0")
    if case == "not-a-zip":
        path.write_bytes(b"this is not a zip archive")
    elif case == "zip-bomb":
        path = zip_bomb_wheel(tmp_path / "bomb", name, "1.0.0")
    elif case == "sha256-mismatch":
        fields["sha256_digest"] = "0" * 64
    elif case == "md5-mismatch":
        fields["md5_digest"] = "0" * 32
    elif case == "markup-requires-python":
        fields["requires_python"] = "<script>alert(1)</script>"
    blobs_before = live_server.blob_count()
    version = "2.0.0" if case == "version-mismatch" else "1.0.0"
    response = _post(live_server, upload_url, path, name=name, version=version, **fields)
    _assert_refused(response, status, words)
    assert httpx.get(f"{simple_url}{name}/").status_code in (404, 200)
    assert path.name not in httpx.get(f"{simple_url}{name}/").text
    assert live_server.blob_count() == blobs_before
    assert not live_server.blob_exists(hashlib.sha256(path.read_bytes()).hexdigest())


def test_an_upload_without_a_content_part_is_refused(live_server, index) -> None:
    _project, upload_url, _ = index()
    response = httpx.post(
        upload_url,
        auth=(live_server.admin_user, live_server.admin_password),
        files={"name": (None, "orchard-empty"), "version": (None, "1.0")},
    )
    _assert_refused(response, 400, "'content'")


def test_legacy_upload_urls_never_redirect(live_server, tmp_path) -> None:
    wheel = write_wheel(tmp_path, "orchard-urls", "1.0.0")
    for path in ("/", "/legacy", "/legacy/"):
        response = _post(
            live_server, f"{live_server.url}{path}", wheel, name="orchard-urls", version="1.0.0"
        )
        assert response.status_code == 200, (path, response.text)
