"""The httpx upstream client against a real (fake) upstream server."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from adapters.upstream.client import HttpUpstreamClient
from domain.errors import NotFound, UpstreamTimeout, UpstreamUnavailable
from domain.upstream import PageFetch, UpstreamPage, UpstreamSettings
from tests.harness.fake_upstream import FakeFile

WHEEL = FakeFile(
    "demo-1.0-py3-none-any.whl",
    b"wheel bytes",
    upload_time=datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC),
    requires_python=">=3.9",
    yanked="old",
    metadata=b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
)


@pytest.fixture
def client():
    made = HttpUpstreamClient(connect_timeout=1, read_timeout=1)
    yield made
    made.close()


def _settings(upstream, **extra) -> UpstreamSettings:
    return UpstreamSettings(url=upstream.url, **extra)


@pytest.mark.parametrize("offer_json", [True, False])
def test_a_page_keeps_every_field_in_json_and_html(client, upstream, offer_json):
    upstream.json = offer_json
    upstream.add("demo", WHEEL)
    page = client.fetch_page(_settings(upstream), "demo")
    assert isinstance(page, UpstreamPage)
    (found,) = page.files
    assert found.sha256 == WHEEL.sha256
    assert found.url == f"http://127.0.0.1:{upstream.port}/files/{WHEEL.filename}"
    assert found.requires_python == ">=3.9"
    assert (found.yanked, found.yanked_reason) == (True, "old")
    assert found.metadata_sha256 is not None
    if offer_json:  # only PEP 691/700 carry these
        assert found.size == len(WHEEL.content)
        assert found.upload_time == WHEEL.upload_time


def test_conditional_get_and_missing_projects(client, upstream):
    upstream.add("demo", WHEEL)
    page = client.fetch_page(_settings(upstream), "demo")
    again = client.fetch_page(_settings(upstream), "demo", etag=page.etag)
    assert again is PageFetch.NOT_MODIFIED
    upstream.changed()
    assert isinstance(client.fetch_page(_settings(upstream), "demo", etag=page.etag), UpstreamPage)
    assert client.fetch_page(_settings(upstream), "nothing") is PageFetch.MISSING


@pytest.mark.parametrize(
    ("mode", "error"),
    [("503", UpstreamUnavailable), ("refuse", UpstreamUnavailable), ("hang", UpstreamTimeout),
     ("drip", UpstreamTimeout)],
)  # fmt: skip
def test_failures_become_upstream_errors_within_the_timeouts(client, upstream, mode, error):
    upstream.add("demo", WHEEL)
    upstream.set_mode(mode)
    with pytest.raises(error):
        client.fetch_page(_settings(upstream), "demo")


def test_files_stream_and_a_short_body_is_an_error(client, upstream):
    upstream.add("demo", WHEEL)
    url = f"http://127.0.0.1:{upstream.port}/files/{WHEEL.filename}"
    stream = client.open_file(_settings(upstream), url)
    assert (b"".join(stream), stream.size) == (WHEEL.content, len(WHEEL.content))
    stream.close()
    upstream.set_mode("truncated")
    stream = client.open_file(_settings(upstream), url)
    with pytest.raises(UpstreamUnavailable):
        b"".join(stream)
    stream.close()
    upstream.set_mode("ok")
    with pytest.raises(NotFound):
        client.open_file(_settings(upstream), url + "x")
    assert client.fetch_bytes(_settings(upstream), url + ".metadata", 1000) == WHEEL.metadata


def test_credentials_are_sent_but_never_logged(client, upstream, caplog):
    upstream.add("demo", WHEEL)
    with_userinfo = upstream.url.replace("http://", "http://bot:s3cret-pw@")
    caplog.set_level(logging.INFO, logger="orchard.upstream")
    client.fetch_page(UpstreamSettings(url=with_userinfo), "demo")
    client.fetch_page(_settings(upstream, username="bot", password="other-pw"), "demo")
    assert "demo" in caplog.text
    assert "s3cret-pw" not in caplog.text and "other-pw" not in caplog.text
    assert len(caplog.records) == 2  # one line per upstream call
