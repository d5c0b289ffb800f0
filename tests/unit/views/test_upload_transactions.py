"""An upload opens one read-write unit of work: its own. Authentication and the checks
made before the body is read only read; on SQLite every read-write unit of work takes
the writers' lock (flock and BEGIN IMMEDIATE), so each extra one queued behind the others'
uploads (docs/performance.md, "Small files")."""

from __future__ import annotations

import hashlib
import io

import pytest

from tests.unit.views.conftest import Site


def multipart(field: str, filename: str, content: bytes) -> dict:
    return {field: (io.BytesIO(content), filename)}


def test_a_generic_upload_writes_in_one_unit_of_work(site: Site):
    headers = site.bearer()
    site.uows.modes.clear()
    response = site.client.post(
        "/api/v1/project/proj/pkg/upload",
        data=multipart("file", "a.bin", b"four kib or so"),
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    assert site.uows.modes.count("write") == 1
    assert site.uows.modes.count("read") == 2  # the API key, then the pre-check


def test_a_pypi_upload_writes_in_one_unit_of_work(site: Site):
    site.world.project("pypi-proj")
    headers = site.basic("__token__", site.api_key())
    site.uows.modes.clear()
    response = site.client.post(
        "/pypi/pypi-proj/legacy/",
        data={
            ":action": "file_upload",
            "name": "demo",
            "version": "1.0",
            "sha256_digest": hashlib.sha256(b"not really an sdist").hexdigest(),
            **multipart("content", "demo-1.0.tar.gz", b"not really an sdist"),
        },
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert site.uows.modes.count("write") == 1


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"X-Checksum-SHA256": "not-a-digest"}, 400)],
)
def test_a_refused_upload_opens_no_read_write_unit_of_work(site: Site, headers, status):
    auth = {} if status == 401 else site.bearer()
    site.uows.modes.clear()
    response = site.client.post(
        "/api/v1/project/proj/pkg/upload",
        data=multipart("file", "a.bin", b"bytes"),
        headers={**auth, **headers},
    )
    assert response.status_code == status
    assert "write" not in site.uows.modes
    assert site.world.blobs.staged == {}  # the sink never opened, or was aborted
