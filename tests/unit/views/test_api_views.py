"""The REST API through the Flask test client over fakes: the status of every kind of
failure with its JSON body and headers, the shapes of the answers, download headers."""

from __future__ import annotations

import hashlib
import io

import pytest

from entrypoints.http import schemas
from tests.unit.views.conftest import Site

API = "/api/v1"
UPLOAD = f"{API}/project/proj/pkg/upload"


def upload(site: Site, content: bytes, headers: dict, **form: str):
    data = {"file": (io.BytesIO(content), "a.bin"), **form}
    return site.client.post(UPLOAD, data=data, headers=headers)


@pytest.fixture
def reader(site: Site) -> dict[str, str]:
    """A signed-in user who is no admin and no member of anything."""
    site.world.add_user("reader")
    return site.bearer("reader")


# Each row: how to provoke it, the status, and the headers that must come with it.
def _bad_name(site, admin, _reader):
    return site.client.post(f"{API}/projects", json={"name": "no spaces"}, headers=admin)


def _anonymous_write(site, _admin, _reader):
    return site.client.post(f"{API}/projects", json={"name": "anon"})


def _not_allowed(site, _admin, reader):
    return site.client.delete(f"{API}/users/root", headers=reader)


def _missing(site, admin, _reader):
    return site.client.get(f"{API}/projects/nope", headers=admin)


def _duplicate(site, admin, _reader):
    return site.client.post(f"{API}/projects", json={"name": "proj"}, headers=admin)


def _mismatch(site, admin, _reader):
    return upload(site, b"bytes", admin | {"X-Checksum-SHA256": "0" * 64})


def _database_down(site, admin, _reader):
    site.world.db.available = False
    return site.client.get(f"{API}/projects/proj", headers=admin)


@pytest.mark.parametrize(
    ("provoke", "status", "header"),
    [
        (_bad_name, 400, None),
        (_anonymous_write, 401, ("WWW-Authenticate", 'Basic realm="orchard"')),
        (_not_allowed, 403, None),
        (_missing, 404, None),
        (_duplicate, 409, None),
        (_mismatch, 422, None),
        (_database_down, 503, ("Retry-After", "5")),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_every_failure_is_its_status_with_a_json_sentence(site, reader, provoke, status, header):
    admin = site.bearer()
    response = provoke(site, admin, reader)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == ["detail"] and body["detail"].endswith(".")
    assert "Traceback" not in body["detail"]
    if header is not None:
        assert response.headers[header[0]] == header[1]
    assert ("WWW-Authenticate" in response.headers) == (status == 401)


@pytest.fixture
def small_site(stocked) -> Site:
    return Site(stocked, max_upload_size=64)


def test_an_upload_over_the_limit_is_413_and_stores_nothing(small_site):
    response = upload(small_site, b"y" * 65, small_site.bearer())
    assert response.status_code == 413
    assert list(response.get_json()) == ["detail"]
    assert small_site.world.blobs.blobs == {} and small_site.world.blobs.staged == {}


def test_an_upload_answers_the_upload_schema(site):
    content = b"schema check"
    response = upload(site, content, site.bearer(), tag="latest", version="1.0")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == set(schemas.UploadOut().fields)
    assert body["artifact_id"] == hashlib.sha256(content).hexdigest()
    assert (body["size"], body["tag"], body["version"]) == (len(content), "latest", "1.0")
    assert (body["project"], body["package"], body["deduplicated"]) == ("proj", "pkg", False)


def test_a_listing_is_items_and_pagination(site):
    admin = site.bearer()
    for number in range(3):
        upload(site, f"file {number}".encode(), admin, tag=f"t{number}")
    response = site.client.get(f"{API}/project/proj/pkg/tags?limit=2&page=2", headers=admin)
    assert response.status_code == 200
    body = response.get_json()
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 3, "total_pages": 2}
    assert [tag["name"] for tag in body["items"]] == ["t2"]
    assert set(body["items"][0]) == set(schemas.TagOut().fields)


def test_a_project_answers_the_project_schema(site):
    response = site.client.get(f"{API}/projects/proj", headers=site.bearer())
    assert response.status_code == 200
    assert set(response.get_json()) == set(schemas.ProjectOut().fields)


@pytest.fixture
def stored(site: Site) -> str:
    response = upload(site, b"0123456789", site.bearer(), tag="ten")
    return response.get_json()["artifact_id"]


def test_a_download_names_its_file_and_its_checksum(site, stored):
    response = site.client.get(f"{API}/project/proj/pkg/+/ten")
    assert response.status_code == 200 and response.data == b"0123456789"
    assert response.headers["ETag"] == f'"{stored}"'
    assert response.headers["X-Checksum-SHA256"] == stored
    assert response.headers["Content-Disposition"] == 'attachment; filename="a.bin"'
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Length"] == "10"


def test_a_download_answers_ranges_and_conditions(site, stored):
    url = f"{API}/project/proj/pkg/+/ten"
    ranged = site.client.get(url, headers={"Range": "bytes=2-4"})
    assert (ranged.status_code, ranged.data) == (206, b"234")
    assert ranged.headers["Content-Range"] == "bytes 2-4/10"
    beyond = site.client.get(url, headers={"Range": "bytes=50-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == "bytes */10"
    assert site.client.get(url, headers={"If-None-Match": f'"{stored}"'}).status_code == 304
    head = site.client.head(url)
    assert (head.status_code, head.data, head.headers["Content-Length"]) == (200, b"", "10")


def test_a_private_project_is_not_found_for_a_stranger(site, reader):
    site.world.project("secret", public=False)
    assert site.client.get(f"{API}/projects/secret", headers=reader).status_code == 404
    assert site.client.get(f"{API}/projects/secret").status_code == 404
