"""A digest the client declares before its bytes reaches the blob store's writer, so S3
can write them straight to their final key (``adapters/s3_direct.py``): the generic API's
``X-Checksum-SHA256`` header, PyPI's ``sha256_digest`` field sent before ``content``."""

from __future__ import annotations

import hashlib
import io

from tests.unit.views.conftest import Site

CONTENT = b"declared before the bytes"
SHA = hashlib.sha256(CONTENT).hexdigest()


def test_the_generic_header_is_handed_to_the_writer_lowercased(site: Site):
    site.world.blobs.declared.clear()
    response = site.client.post(
        "/api/v1/project/proj/pkg/upload",
        data={"file": (io.BytesIO(CONTENT), "a.bin")},
        headers={**site.bearer(), "X-Checksum-SHA256": SHA.upper()},
    )
    assert response.status_code == 200, response.get_json()
    assert site.world.blobs.declared == [SHA]


def test_without_a_header_the_writer_gets_no_digest(site: Site):
    site.world.blobs.declared.clear()
    response = site.client.post(
        "/api/v1/project/proj/pkg/upload",
        data={"file": (io.BytesIO(CONTENT), "a.bin")},
        headers=site.bearer(),
    )
    assert response.status_code == 200, response.get_json()
    assert site.world.blobs.declared == [None]


def test_a_wrong_header_stores_nothing(site: Site):
    wrong = hashlib.sha256(b"other").hexdigest()
    response = site.client.post(
        "/api/v1/project/proj/pkg/upload",
        data={"file": (io.BytesIO(CONTENT), "a.bin"), "tag": "wrong"},
        headers={**site.bearer(), "X-Checksum-SHA256": wrong},
    )
    assert 400 <= response.status_code < 500
    assert "checksum" in response.get_json()["detail"].lower()
    assert site.world.blobs.blobs == {} and site.world.blobs.staged == {}


def test_the_pypi_sha256_digest_field_before_the_content_is_handed_to_the_writer(site: Site):
    site.world.project("pypi-proj")
    site.world.blobs.declared.clear()
    body = b"not really an sdist"
    response = site.client.post(
        "/pypi/pypi-proj/legacy/",
        data={
            ":action": "file_upload",
            "name": "demo",
            "version": "1.0",
            "sha256_digest": f"  {hashlib.sha256(body).hexdigest().upper()} ",
            "content": (io.BytesIO(body), "demo-1.0.tar.gz"),
        },
        headers=site.basic("__token__", site.api_key()),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert site.world.blobs.declared == [hashlib.sha256(body).hexdigest()]
