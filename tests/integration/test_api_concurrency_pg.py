"""Races between gunicorn workers on PostgreSQL (SPEC §1 ref_count, §5 Concurrent).

Parallel uploads of the same bytes must store one blob and count every reference;
parallel uploads of different bytes as one version must let exactly one content win.
Each thread has its own client and connection, and a barrier releases them together so
the requests really overlap across the server's workers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.factories import (
    assert_error,
    compute_sha256,
    create_api_key,
    create_package,
    create_project,
    delete_project_quietly,
    generate_content,
    login,
    ref_count,
    unique_content,
    unique_name,
)

pytestmark = [pytest.mark.integration, pytest.mark.concurrent]


@pytest.fixture(scope="module")
def pg_server(live_server):
    if not live_server.config_name.startswith("postgres"):
        pytest.skip(
            f"config {live_server.config_name!r} is not PostgreSQL: "
            "multi-worker races are tested on postgres-* configurations"
        )
    assert live_server.workers >= 4, "the race needs several gunicorn workers"
    return live_server


@pytest.fixture(scope="module")
def admin(pg_server) -> Iterator[httpx.Client]:
    with login(pg_server.url, pg_server.admin_user, pg_server.admin_password) as client:
        yield client


@pytest.fixture
def target(admin) -> Iterator[tuple[str, str]]:
    project, package = unique_name("race"), unique_name("pkg")
    create_project(admin, project)
    create_package(admin, project, package)
    yield project, package
    delete_project_quietly(admin, project)


def run_together(count: int, work: Callable[[int, httpx.Client], httpx.Response], base_url):
    """Run ``work(i, client)`` in ``count`` threads released at once; the responses."""
    barrier = threading.Barrier(count)

    def worker(index: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=120) as client:
            barrier.wait(timeout=60)
            return work(index, client)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def test_20_parallel_uploads_of_the_same_bytes_store_one_blob_and_20_refs(pg_server, admin, target):
    project, package = target
    content = generate_content(256 * 1024) + unique_content("same bytes")
    sha256 = compute_sha256(content)
    bearer = {"Authorization": f"Bearer {create_api_key(admin)['key']}"}
    assert admin.get(f"/api/v1/artifact/{sha256}").status_code == 404
    blobs_before = pg_server.blob_count()

    def upload(index: int, client: httpx.Client) -> httpx.Response:
        return client.post(
            f"/api/v1/project/{project}/{package}/upload",
            files={"file": (f"same-{index}.bin", content, "application/octet-stream")},
            data={"tag": f"same-{index}"},
            headers=bearer,
        )

    responses = run_together(20, upload, pg_server.url)

    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
    assert {r.json()["artifact_id"] for r in responses} == {sha256}
    assert ref_count(admin, sha256) == 20
    assert pg_server.blob_count() == blobs_before + 1


def test_10_parallel_uploads_of_different_bytes_as_one_version_let_one_win(
    pg_server, admin, target
):
    project, package = target
    version = "1.0.0"
    contents = [unique_content(f"contender {i}") * 1000 for i in range(10)]
    bearer = {"Authorization": f"Bearer {create_api_key(admin)['key']}"}

    def upload(index: int, client: httpx.Client) -> httpx.Response:
        return client.post(
            f"/api/v1/project/{project}/{package}/upload",
            files={"file": (f"app-{index}.bin", contents[index], "application/octet-stream")},
            data={"version": version},
            headers=bearer,
        )

    responses = run_together(10, upload, pg_server.url)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 9, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409)
    winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
    assert responses[winner].json()["artifact_id"] == compute_sha256(contents[winner])
    served = admin.get(
        f"/api/v1/project/{project}/{package}/+/version:{version}", params={"mode": "proxy"}
    )
    assert served.status_code == 200
    assert served.content == contents[winner]
