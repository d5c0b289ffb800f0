"""Two Orchard instances (separate gunicorn processes, different ports) sharing one
PostgreSQL database and one S3 bucket: the production scale-out shape.

Every upload through either is counted once, no blob is lost or duplicated, both see
the same tags and versions at once, and garbage collection on one while the other
uploads the same bytes deletes nothing that is referenced.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.harness.live_server import LiveServer, s3_env, server_env
from tests.harness.postgres import fresh_database

pytestmark = [pytest.mark.s3, pytest.mark.postgres, pytest.mark.concurrent]
PKG = "/api/v1/project/shared/pkg"


@pytest.fixture(scope="module")
def pair(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[list[LiveServer]]:
    s3 = request.getfixturevalue("s3_server")
    database_url = fresh_database(request.getfixturevalue("postgres_server_url"))
    extra = {**s3_env(s3, s3.make_bucket()), "ORCHARD_SECRET_KEY": "shared-secret"}
    servers = []
    for name in ("instance-a", "instance-b"):
        data_dir = tmp_path_factory.mktemp(name)
        env = server_env(
            data_dir,
            database_url=database_url,
            blob_store="s3",
            workers=2,
            max_upload_size=64 * 1024 * 1024,
            extra=extra,
        )
        servers.append(
            LiveServer(name, env, data_dir, 2, 64 * 1024 * 1024, database_url, None, s3=s3)
        )
    with ThreadPoolExecutor(2) as pool:  # both start (and migrate) at the same time
        list(pool.map(LiveServer.start, servers))
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
def key(pair: list[LiveServer]) -> str:
    with httpx.Client(base_url=pair[0].url) as http:
        http.post(
            "/api/v1/auth/login",
            json={"username": pair[0].admin_user, "password": pair[0].admin_password},
        )
        assert http.post("/api/v1/projects", json={"name": "shared"}).status_code == 200
        assert http.post("/api/v1/project/shared/packages", json={"name": "pkg"}).status_code == 200
        return http.post("/api/v1/auth/keys", json={"name": "pair"}).json()["key"]


def client(server: LiveServer, key: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, timeout=120, headers={"Authorization": f"Bearer {key}"}
    )


def upload(
    server: LiveServer, key: str, content: bytes, declared: str | None = None, **fields: str
) -> httpx.Response:
    """``declared``: an ``X-Checksum-SHA256`` sent before the bytes (S3 then writes them
    straight to the final key)."""
    headers = {"X-Checksum-SHA256": declared} if declared else {}
    with client(server, key) as http:
        return http.post(
            f"{PKG}/upload", files={"file": ("f.bin", content)}, data=fields, headers=headers
        )


def test_declared_identical_bytes_through_both_store_one_blob_and_count_every_upload(pair, key):
    content = os.urandom(9 * 1024 * 1024)  # past one part: a multipart upload to the final key
    sha = hashlib.sha256(content).hexdigest()
    blobs_before = pair[0].blob_count()
    with ThreadPoolExecutor(4) as pool:
        responses = list(
            pool.map(lambda i: upload(pair[i % 2], key, content, sha, tag=f"big-{i}"), range(6))
        )
    assert [r.status_code for r in responses] == [200] * 6
    with client(pair[1], key) as http:
        assert http.get(f"/api/v1/artifact/{sha}").json()["ref_count"] == 6
        assert http.get(f"{PKG}/+/tag:big-0").content == content
    assert pair[0].blob_count() == blobs_before + 1
    assert pair[0].temp_count() == 0


@pytest.mark.parametrize("size", [5_000, 9 * 1024 * 1024])
def test_a_wrong_declared_digest_through_either_instance_stores_nothing(pair, key, size):
    content = os.urandom(size)
    wrong = hashlib.sha256(b"not the content").hexdigest()
    blobs_before = pair[0].blob_count()
    for server in pair:
        answer = upload(server, key, content, wrong, tag="wrong-digest")
        assert answer.status_code in (400, 422), answer.text
        assert "checksum" in answer.json()["detail"].lower()
    with client(pair[0], key) as http:
        assert http.get(f"{PKG}/+/tag:wrong-digest").status_code == 404
    assert pair[0].blob_count() == blobs_before
    assert pair[0].temp_count() == 0


def test_identical_bytes_through_both_instances_count_every_upload(pair, key):
    content = os.urandom(100_000)
    sha = hashlib.sha256(content).hexdigest()
    blobs_before = pair[0].blob_count()
    with ThreadPoolExecutor(10) as pool:
        responses = list(
            pool.map(lambda i: upload(pair[i % 2], key, content, tag=f"same-{i}"), range(20))
        )
    assert [r.status_code for r in responses] == [200] * 20
    assert {r.json()["artifact_id"] for r in responses} == {sha}
    for server in pair:
        with client(server, key) as http:
            assert http.get(f"/api/v1/artifact/{sha}").json()["ref_count"] == 20
    assert pair[1].blob_count() == blobs_before + 1


def test_different_bytes_through_both_are_all_stored_and_visible_from_both(pair, key):
    contents = [os.urandom(50_000 + i) for i in range(12)]
    with ThreadPoolExecutor(6) as pool:
        responses = list(
            pool.map(lambda i: upload(pair[i % 2], key, contents[i], tag=f"diff-{i}"), range(12))
        )
    assert [r.status_code for r in responses] == [200] * 12
    for server in pair:
        with client(server, key) as http:
            for i, content in enumerate(contents):
                assert http.get(f"{PKG}/+/tag:diff-{i}").content == content


def test_a_version_claimed_on_one_instance_is_immutable_on_the_other(pair, key):
    assert upload(pair[0], key, b"first content", version="7.7.7").status_code == 200
    conflict = upload(pair[1], key, b"other content", version="7.7.7")
    assert conflict.status_code == 409
    with client(pair[1], key) as http:
        assert http.get(f"{PKG}/+/version:7.7.7").content == b"first content"


@pytest.mark.parametrize("declare", [False, True], ids=["staged", "declared"])
def test_gc_on_one_instance_never_deletes_what_the_other_is_uploading(pair, key, declare):
    for round_number in range(4):
        content = f"phoenix {declare} round {round_number} ".encode() * 5000
        sha = hashlib.sha256(content).hexdigest()
        assert upload(pair[0], key, content).status_code == 200
        with client(pair[0], key) as http:  # released: garbage from now on
            assert http.delete(f"{PKG}/artifacts/{sha}").status_code == 204
        results: dict = {}
        declared = sha if declare else None
        uploader = threading.Thread(
            target=lambda c=content, r=results, d=declared: r.update(
                up=upload(pair[1], key, c, d, tag="phoenix")
            )
        )
        uploader.start()
        gc = pair[0].cli("gc", "--apply", "--grace", "0")
        uploader.join(120)
        assert gc.returncode == 0, gc.stderr
        assert results["up"].status_code == 200
        with client(pair[0], key) as http:
            assert http.get(f"/api/v1/artifact/{sha}").json()["ref_count"] == 1
            downloaded = http.get(f"{PKG}/+/tag:phoenix")
        assert downloaded.status_code == 200
        assert hashlib.sha256(downloaded.content).hexdigest() == sha


def test_twine_sends_its_digest_first_and_the_wheel_is_served_by_both(pair, key, tmp_path):
    """twine sends ``sha256_digest`` before the ``content`` part: a wheel past one part
    goes straight to its final key, its METADATA read from there before the commit."""
    from tests.integration.pypi.clients import client_env, twine_upload
    from tests.integration.pypi.distributions import write_wheel

    wheel = write_wheel(tmp_path, "direct-wheel", "1.0.0", payload=os.urandom(9 * 1024 * 1024))
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    legacy = f"{pair[0].url}/pypi/shared/legacy/"
    up = twine_upload(client_env(tmp_path / "home"), legacy, [wheel], "__token__", key)
    assert up.returncode == 0, up.stdout + up.stderr
    with client(pair[1], key) as http:
        served = http.get(f"/pypi/shared/files/{sha}/{wheel.name}")
    assert served.status_code == 200 and served.content == wheel.read_bytes()
    assert pair[0].temp_count() == 0


def test_a_wrong_sha256_digest_field_is_refused_and_stores_nothing(pair, key, tmp_path):
    from tests.integration.pypi.distributions import write_wheel

    wheel = write_wheel(tmp_path, "wrong-digest", "1.0.0", payload=os.urandom(9 * 1024 * 1024))
    blobs_before = pair[0].blob_count()
    fields = {
        ":action": "file_upload",
        "name": "wrong-digest",
        "version": "1.0.0",
        "sha256_digest": hashlib.sha256(b"other bytes").hexdigest(),
    }
    with client(pair[1], key) as http:
        answer = http.post(
            "/pypi/shared/legacy/",
            data=fields,
            files={"content": (wheel.name, wheel.read_bytes())},
            auth=("__token__", key),
        )
    assert answer.status_code == 400, answer.text
    assert "sha256_digest" in answer.text
    assert pair[0].blob_count() == blobs_before
    assert pair[0].temp_count() == 0


def test_the_same_wheel_declared_twice_is_stored_once_and_its_bytes_dropped_the_second_time(
    pair, key, tmp_path
):
    from tests.integration.pypi.distributions import write_wheel

    wheel = write_wheel(tmp_path, "twice-wheel", "1.0.0", payload=os.urandom(9 * 1024 * 1024))
    content, blobs_before = wheel.read_bytes(), pair[0].blob_count()
    fields = {
        ":action": "file_upload",
        "name": "twice-wheel",
        "version": "1.0.0",
        "sha256_digest": hashlib.sha256(content).hexdigest(),
    }
    for server in pair:  # the second finds the blob present: hashed, dropped, refreshed
        with client(server, key) as http:
            answer = http.post(
                "/pypi/shared/legacy/",
                data=fields,
                files={"content": (wheel.name, content)},
                auth=("__token__", key),
            )
        assert answer.status_code == 200, answer.text
    assert "identical file already present" in answer.text
    assert pair[0].blob_count() == blobs_before + 1
    assert pair[0].temp_count() == 0
    sha = hashlib.sha256(content).hexdigest()
    with client(pair[0], key) as http:
        assert http.get(f"/pypi/shared/files/{sha}/{wheel.name}").content == content
