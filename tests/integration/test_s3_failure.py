"""S3 failing under a live Orchard: a clean 503, nothing recorded, and recovery.

The test runs its own moto server and its own Orchard (PostgreSQL + S3), so taking S3
down does not disturb the session's shared servers.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.harness.live_server import LiveServer, s3_env, server_env
from tests.harness.postgres import fresh_database
from tests.harness.s3 import start_moto

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_backed(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[LiveServer]:
    moto = start_moto()
    data_dir = tmp_path_factory.mktemp("s3-failure")
    extra = {
        **s3_env(moto, moto.make_bucket()),
        "ORCHARD_S3_TIMEOUT": "2",
        "ORCHARD_S3_READ_TIMEOUT": "3",
    }
    database_url = fresh_database(request.getfixturevalue("postgres_server_url"))
    env = server_env(
        data_dir,
        database_url=database_url,
        blob_store="s3",
        workers=2,
        max_upload_size=256 * MIB,
        extra=extra,
    )
    server = LiveServer(
        "postgres-s3-failure", env, data_dir, 2, 256 * MIB, database_url, None, s3=moto
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        moto.close()


@pytest.fixture(scope="module")
def client(s3_backed: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=s3_backed.url, timeout=120) as http:
        login = http.post(
            "/api/v1/auth/login",
            json={"username": s3_backed.admin_user, "password": s3_backed.admin_password},
        )
        assert login.status_code == 200
        http.post("/api/v1/projects", json={"name": "s3fail"})
        http.post("/api/v1/project/s3fail/packages", json={"name": "pkg"})
        yield http


def upload(http: httpx.Client, content, *, tag: str, name: str = "f.bin"):
    return http.post(
        "/api/v1/project/s3fail/pkg/upload", files={"file": (name, content)}, data={"tag": tag}
    )


def assert_nothing_recorded(http: httpx.Client, sha256: str, tag: str) -> None:
    assert http.get(f"/api/v1/artifact/{sha256}").status_code == 404
    names = [t["name"] for t in http.get("/api/v1/project/s3fail/pkg/tags").json()["items"]]
    assert tag not in names


@pytest.mark.s3
@pytest.mark.parametrize("outage", ["stopped", "hung"])
def test_a_small_upload_while_s3_is_down_is_a_clean_503(s3_backed, client, outage):
    content = os.urandom(64 * 1024)
    sha = hashlib.sha256(content).hexdigest()
    moto = s3_backed.s3
    moto.stop() if outage == "stopped" else moto.pause()
    try:
        response = upload(client, content, tag=f"down-{outage}")
        health = client.get("/health").json()
    finally:
        moto.start() if outage == "stopped" else moto.resume()
    assert response.status_code == 503
    assert "unavailable" in response.json()["detail"].lower()
    assert health["checks"]["blob_store"] == "unavailable"
    assert_nothing_recorded(client, sha, f"down-{outage}")
    retry = upload(client, content, tag=f"down-{outage}")
    assert retry.status_code == 200, retry.text
    assert client.get(f"/api/v1/project/s3fail/pkg/+/tag:down-{outage}").content == content


def _slow_body(content: bytes, halfway: threading.Event, resume: threading.Event):
    """Send half, signal, wait until S3 is down, then send the rest."""
    half = len(content) // 2
    for start in range(0, half, MIB):
        yield content[start : min(start + MIB, half)]
    halfway.set()
    resume.wait(30)
    for start in range(half, len(content), MIB):
        yield content[start : start + MIB]


@pytest.mark.s3
def test_s3_stopping_mid_upload_records_nothing_and_the_retry_succeeds(s3_backed, client):
    content = os.urandom(40 * MIB)  # several multipart parts
    sha = hashlib.sha256(content).hexdigest()
    halfway, resume = threading.Event(), threading.Event()
    outcome: dict = {}

    def send() -> None:
        boundary = "orchard-s3-failure"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="tag"\r\n\r\nmid\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.bin"\r\n\r\n'
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()

        def body():
            yield head
            yield from _slow_body(content, halfway, resume)
            yield tail

        try:
            outcome["response"] = client.post(
                "/api/v1/project/s3fail/pkg/upload",
                content=body(),
                headers={
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Content-Length": str(len(head) + len(content) + len(tail)),
                },
            )
        except httpx.HTTPError as error:  # the server may close the socket mid-body
            outcome["error"] = error

    sender = threading.Thread(target=send)
    sender.start()
    assert halfway.wait(60)
    time.sleep(0.5)  # let the first parts reach S3
    s3_backed.s3.stop()
    resume.set()
    sender.join(120)
    s3_backed.s3.start()
    if "response" in outcome:
        assert outcome["response"].status_code == 503, outcome["response"].text
    assert_nothing_recorded(client, sha, "mid")
    retry = upload(client, content, tag="mid", name="big.bin")
    assert retry.status_code == 200, retry.text
    downloaded = client.get("/api/v1/project/s3fail/pkg/+/tag:mid")
    assert hashlib.sha256(downloaded.content).hexdigest() == sha
