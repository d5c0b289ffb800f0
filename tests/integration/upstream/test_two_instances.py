"""Two instances on one PostgreSQL database and one S3 bucket fetch an upstream file once,
however many first requests arrive at both together."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.harness.fake_upstream import FakeUpstream
from tests.harness.live_server import LiveServer, s3_env, server_env
from tests.harness.postgres import fresh_database
from tests.integration.upstream.support import unique, wheel_file

pytestmark = [pytest.mark.s3, pytest.mark.postgres, pytest.mark.concurrent]
JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


@pytest.fixture(scope="module")
def pair_upstream():
    fake = FakeUpstream().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def pair(request, tmp_path_factory, pair_upstream):
    s3 = request.getfixturevalue("s3_server")
    database_url = fresh_database(request.getfixturevalue("postgres_server_url"))
    extra = {
        **s3_env(s3, s3.make_bucket()),
        "ORCHARD_SECRET_KEY": "shared-secret",
        "ORCHARD_UPSTREAM_URL": pair_upstream.url,
    }
    servers = []
    for name in ("upstream-a", "upstream-b"):
        data_dir = tmp_path_factory.mktemp(name)
        env = server_env(data_dir, database_url=database_url, blob_store="s3", workers=2,
                         max_upload_size=1 << 26, extra=extra)  # fmt: skip
        servers.append(LiveServer(name, env, data_dir, 2, 1 << 26, database_url, None, s3=s3))
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(LiveServer.start, servers))
    yield servers
    for server in servers:
        server.stop()


def test_concurrent_first_requests_on_two_instances_fetch_once(pair, pair_upstream, tmp_path):
    name = unique("shared")
    upstream_file = wheel_file(tmp_path, name, "1.0")
    pair_upstream.add(name, upstream_file)
    page = httpx.get(f"{pair[0].url}/simple/{name}/", headers=JSON, timeout=15).json()
    path = httpx.URL(f"{pair[0].url}/simple/{name}/").join(page["files"][0]["url"]).path
    pair_upstream.file_delay = 1.0  # every first request arrives while the fetch is on

    def download(index: int) -> bytes:
        response = httpx.get(f"{pair[index % 2].url}{path}", timeout=30)
        assert response.status_code == 200
        return response.content

    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(download, range(8)))
    assert {hashlib.sha256(body).hexdigest() for body in bodies} == {upstream_file.sha256}
    assert pair_upstream.requests.count(f"/files/{upstream_file.filename}") == 1
    assert pair[1].blob_exists(upstream_file.sha256)
