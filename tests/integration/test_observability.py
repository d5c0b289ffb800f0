"""What an operator sees of a live Orchard: one JSON log line per request, request ids,
and Prometheus metrics summed over every gunicorn worker."""

from __future__ import annotations

import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import (
    create_api_key,
    create_package,
    create_project,
    unique_content,
    unique_name,
    upload_test_file,
)
from tests.integration.pypi.distributions import write_wheel

UPLOAD_ROUTE = "/api/v1/project/<project>/<package>/upload"
DOWNLOAD_ROUTE = "/api/v1/project/<project>/<package>/+/<path:ref>"
LINE_FIELDS = {
    "ts",
    "request_id",
    "user",
    "method",
    "route",
    "status",
    "bytes_in",
    "bytes_out",
    "duration_ms",
}


def log_line(server, request_id: str, timeout: float = 15) -> dict:
    """The access-log line of one request (written as its response closes: wait for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in server.log_text().splitlines():
            if request_id in line and line.startswith("{"):
                return json.loads(line)
        time.sleep(0.1)
    raise AssertionError(f"no access-log line for {request_id}")


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    text = httpx.get(f"{url}/metrics", timeout=30).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def settled(url: str, before: dict, metric: str, labels: dict, expected: float) -> dict:
    """A scrape once ``metric`` grew by ``expected`` (a request is counted when its
    response closes, just after the client has read it)."""
    deadline = time.monotonic() + 15
    while True:
        after = scrape(url)
        grown = value(after, metric, **labels) - value(before, metric, **labels)
        if grown >= expected or time.monotonic() > deadline:
            return after
        time.sleep(0.1)


@pytest.fixture
def package(admin_client) -> tuple[str, str]:
    project, package = unique_name("obs"), unique_name("pkg")
    create_project(admin_client, project)
    create_package(admin_client, project, package)
    return project, package


class TestAccessLog:
    def test_an_upload_logs_who_what_where_and_how_much(self, live_server, admin_client, package):
        project, name = package
        content = unique_content("observed upload") * 100
        request_id = f"upload-{uuid.uuid4().hex}"
        admin_client.headers["X-Request-ID"] = request_id
        try:
            upload_test_file(admin_client, project, name, content, "observed.bin")
        finally:
            del admin_client.headers["X-Request-ID"]
        line = log_line(live_server, request_id)
        assert set(line) == LINE_FIELDS
        assert line["user"] == live_server.admin_user
        assert (line["method"], line["route"], line["status"]) == ("POST", UPLOAD_ROUTE, 200)
        assert line["bytes_in"] > len(content)  # the multipart framing comes on top
        assert line["bytes_out"] > 0
        assert line["duration_ms"] >= 0

    def test_a_failed_login_is_logged_without_its_password(self, live_server):
        password = f"wrong-{uuid.uuid4().hex}"
        request_id = f"login-{uuid.uuid4().hex}"
        response = httpx.post(
            f"{live_server.url}/api/v1/auth/login",
            json={"username": live_server.admin_user, "password": password},
            headers={"X-Request-ID": request_id},
        )
        assert response.status_code == 401
        line = log_line(live_server, request_id)
        assert (line["route"], line["status"], line["user"]) == ("/api/v1/auth/login", 401, None)
        assert password not in live_server.log_text()

    def test_no_secret_reaches_the_log(self, live_server, admin_client, package):
        project, name = package
        key = create_api_key(admin_client)["key"]
        request_id = f"secret-{uuid.uuid4().hex}"
        response = httpx.get(
            f"{live_server.url}/api/v1/project/{project}/{name}/tags",
            headers={"Authorization": f"Bearer {key}", "X-Request-ID": request_id},
        )
        assert response.status_code == 200
        assert log_line(live_server, request_id)["user"] == live_server.admin_user
        log = live_server.log_text()
        cookies = [c for c in admin_client.cookies.values() if len(c) >= 8]
        for secret in (key, live_server.admin_password, *cookies):
            assert secret not in log
        assert "Authorization" not in log and "Bearer" not in log


class TestRequestId:
    def test_a_sane_id_comes_back(self, live_server):
        response = httpx.get(f"{live_server.url}/health", headers={"X-Request-ID": "abc.DEF_1-2"})
        assert response.headers["X-Request-ID"] == "abc.DEF_1-2"

    @pytest.mark.parametrize("sent", ["has space", "x" * 129, "semi;colon", ""])
    def test_an_insane_id_is_replaced(self, live_server, sent):
        response = httpx.get(f"{live_server.url}/health", headers={"X-Request-ID": sent})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])

    def test_every_response_carries_one_even_errors(self, live_server):
        response = httpx.get(f"{live_server.url}/no/such/route")
        assert response.status_code == 404
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


class TestMetrics:
    def test_uploads_and_downloads_are_counted_across_workers(
        self, live_server, admin_client, package
    ):
        project, name = package
        content = unique_content("metered") * 1000
        before = scrape(live_server.url)
        upload_test_file(admin_client, project, name, content, "metered.bin", tag="metered")
        url = f"{live_server.url}/api/v1/project/{project}/{name}/+/tag:metered"

        def fetch(_: int) -> int:  # a new connection each: any worker may answer
            return httpx.get(url, headers={"Connection": "close"}).status_code

        with ThreadPoolExecutor(16) as pool:
            assert set(pool.map(fetch, range(48))) == {200}
        labels = {"route": DOWNLOAD_ROUTE, "method": "GET", "status": "200"}
        after = settled(live_server.url, before, "orchard_http_requests_total", labels, 48)

        def delta(metric: str, **labels: str) -> float:
            return value(after, metric, **labels) - value(before, metric, **labels)

        assert delta("orchard_http_requests_total", **labels) == 48
        assert delta("orchard_download_bytes_total") == 48 * len(content)
        assert delta("orchard_upload_bytes_total") == len(content)
        upload = {"route": UPLOAD_ROUTE, "method": "POST", "status": "200"}
        assert delta("orchard_http_requests_total", **upload) == 1
        durations = {"route": DOWNLOAD_ROUTE, "method": "GET"}
        assert delta("orchard_http_request_duration_seconds_count", **durations) == 48
        pids = {p.name.split("_")[-1] for p in (live_server.data_dir / "prometheus").glob("*.db")}
        assert len(pids) >= 2, "more than one worker process should have counted"

    def test_a_second_upload_of_the_same_bytes_is_a_dedup_hit(
        self, live_server, admin_client, package
    ):
        project, name = package
        content = unique_content("twice")
        before = value(scrape(live_server.url), "orchard_dedup_hits_total")
        upload_test_file(admin_client, project, name, content, "one.bin")
        second = upload_test_file(admin_client, project, name, content, "two.bin")
        assert second["deduplicated"] is True
        after = value(scrape(live_server.url), "orchard_dedup_hits_total")
        assert after - before == 1

    def test_a_pypi_upload_is_counted_too(self, live_server, admin_client, tmp_path):
        project = unique_name("obspypi")
        create_project(admin_client, project)
        wheel = write_wheel(tmp_path, "metered-dist", "1.0.0", payload=b"m" * 5000)
        before = scrape(live_server.url)
        response = admin_client.post(
            f"/pypi/{project}/legacy/",
            data={
                ":action": "file_upload",
                "name": "metered-dist",
                "version": "1.0.0",
                "protocol_version": "1",
            },
            files={"content": (wheel.name, wheel.read_bytes(), "application/octet-stream")},
        )
        assert response.status_code == 200, response.text
        after = scrape(live_server.url)
        grown = value(after, "orchard_upload_bytes_total") - value(
            before, "orchard_upload_bytes_total"
        )
        assert grown == wheel.stat().st_size

    def test_every_metric_is_exposed(self, live_server):
        names = {family.name for family in text_string_to_metric_families(
            httpx.get(f"{live_server.url}/metrics").text
        )}  # fmt: skip
        assert {
            "orchard_http_requests",
            "orchard_http_request_duration_seconds",
            "orchard_upload_bytes",
            "orchard_download_bytes",
            "orchard_dedup_hits",
            "orchard_blob_store_errors",
            "orchard_gc_collected_bytes",
        } <= names
