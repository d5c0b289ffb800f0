"""A live Orchard on PostgreSQL + S3 with ``ORCHARD_BLOB_CACHE_DIR``: gunicorn's sendfile
serves the copy, a miss and a hit answer alike, the cache's outcomes reach ``/metrics``,
and a deleted artifact is not served from a copy left behind."""

from __future__ import annotations

import hashlib
import os

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import upload_test_file
from tests.harness.live_server import build_server

pytestmark = [pytest.mark.integration, pytest.mark.s3]

CONTENT = os.urandom(300 * 1024 + 7)
# The session cookie is signed again on every answer, with the second it was made in.
VARYING = {"date", "x-request-id", "set-cookie"}


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    server = build_server("postgres-s3", tmp_path_factory.mktemp("cached"), request)
    server.env["ORCHARD_S3_BUCKET"] = server.s3.make_bucket()
    server.env["ORCHARD_BLOB_CACHE_DIR"] = str(server.data_dir / "blob-cache")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        login = {"username": server.admin_user, "password": server.admin_password}
        assert client.post("/api/v1/auth/login", json=login).status_code == 200
        yield client


def cache_outcomes(server) -> dict[str, float]:
    text = httpx.get(f"{server.url}/metrics").text
    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "orchard_blob_cache"
        for sample in family.samples
        if sample.name == "orchard_blob_cache_total"
    }


def answer(client, url: str, headers: dict | None = None):
    response = client.get(url, headers=headers or {})
    kept = {k: v for k, v in response.headers.items() if k.lower() not in VARYING}
    return response.status_code, kept, response.content


def test_a_download_fills_the_cache_then_is_served_from_it_alike(server, client):
    assert client.post("/api/v1/projects", json={"name": "cached"}).status_code in (200, 201)
    package = {"name": "blobs", "format": "generic"}
    assert client.post("/api/v1/project/cached/packages", json=package).status_code in (200, 201)
    upload_test_file(client, "cached", "blobs", CONTENT, "blob-1.0.bin", version="1.0")
    sha256 = hashlib.sha256(CONTENT).hexdigest()
    url = "/api/v1/project/cached/blobs/+/version:1.0"
    copies = list((server.data_dir / "blob-cache").rglob(sha256))
    assert copies == []

    miss = answer(client, url)
    assert miss[0] == 200 and miss[2] == CONTENT
    (copy,) = (server.data_dir / "blob-cache").rglob(sha256)
    assert copy.read_bytes() == CONTENT
    assert answer(client, url) == miss
    ranged = answer(client, url, {"Range": "bytes=1000-2999"})
    assert ranged[0] == 206 and ranged[2] == CONTENT[1000:3000]
    assert answer(client, url, {"Range": "bytes=1000-2999"}) == ranged
    outcomes = cache_outcomes(server)
    assert outcomes.get("fill") == 1 and outcomes.get("hit", 0) >= 3


def test_a_deleted_artifact_is_not_served_from_its_copy(server, client):
    content = os.urandom(4096)
    upload_test_file(client, "cached", "blobs", content, "gone-1.0.bin", version="2.0")
    url = "/api/v1/project/cached/blobs/+/version:2.0"
    assert client.get(url).content == content  # now cached
    assert client.delete("/api/v1/project/cached/blobs/versions/2.0").status_code in (200, 204)
    assert client.get(url).status_code == 404
