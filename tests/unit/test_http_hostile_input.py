"""Hostile requests through the whole Flask app (test client) over in-memory fakes:
each is a 4xx with a JSON reason, never a 5xx, and nothing is stored."""

from __future__ import annotations

import base64
import io

import pytest
from flask.testing import FlaskClient

from adapters.package_metadata import ArchiveMetadataReader
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.http.app import create_app
from entrypoints.http.json_body import nesting_depth
from tests.unit.conftest import World


@pytest.fixture
def client(world: World, tmp_path) -> FlaskClient:
    settings = Settings(data_dir=str(tmp_path), secret_key="test-secret")
    services = bootstrap(
        settings,
        uow=lambda read_only=False, snapshot=False: world.uow(),
        blobs=world.blobs,
        clock=world.clock,
        reader=ArchiveMetadataReader(),  # real archives: the PyPI upload's checks
        hasher=world.hasher,
    )
    return create_app(settings, services).test_client()


ADMIN = {"Authorization": "Basic " + base64.b64encode(b"root:password-root").decode()}


def assert_refused(response, status: int, *words: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    detail = response.get_json()["detail"]
    for word in words:
        assert word in detail


def test_json_nested_100000_deep_is_a_400_with_the_reason(client) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/projects", data=body, headers=ADMIN,
                           content_type="application/json")  # fmt: skip
    assert_refused(response, 400, "nested deeper than 32")


@pytest.mark.parametrize("depth", [33, 500])
def test_json_deeper_than_the_limit_but_parseable_is_refused_too(client, depth) -> None:
    body = '{"name": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
    response = client.post("/api/v1/projects", data=body, headers=ADMIN,
                           content_type="application/json")  # fmt: skip
    assert_refused(response, 400, "nested deeper")


def test_json_within_the_limit_is_read_as_before(client) -> None:
    response = client.post("/api/v1/projects", json={"name": "flat"}, headers=ADMIN)
    assert response.status_code == 200, response.get_data(as_text=True)


LISTINGS = [
    "/api/v1/projects",
    "/api/v1/project/proj/packages",
    "/api/v1/project/proj/pkg/tags",
    "/api/v1/project/proj/pkg/versions",
    "/api/v1/project/proj/pkg/artifacts",
]


@pytest.fixture
def stocked_world(world: World) -> World:
    world.project("proj")
    world.package("proj", "pkg")
    world.upload(b"content", tag="latest")
    return world


@pytest.mark.parametrize("path", LISTINGS)
@pytest.mark.parametrize("page", [str(2**64), str(10**30), "1000000001", "0", "-1"])
def test_a_page_out_of_range_is_a_400_that_names_the_parameter(
    client, stocked_world, path, page
) -> None:
    response = client.get(f"{path}?page={page}", headers=ADMIN)
    assert_refused(response, 400, "page")


@pytest.mark.parametrize("path", LISTINGS)
def test_the_last_allowed_page_is_an_empty_page(client, stocked_world, path) -> None:
    response = client.get(f"{path}?page=1000000000&limit=1000", headers=ADMIN)
    assert response.status_code == 200 and response.get_json()["items"] == []


@pytest.mark.parametrize("search", ["%00", "a%00", "%0d%0a", "%1b", "%e2%80%ae"])
@pytest.mark.parametrize("path", LISTINGS[:2])
def test_a_search_with_a_control_character_is_refused(client, stocked_world, path, search):
    response = client.get(f"{path}?search={search}", headers=ADMIN)
    assert_refused(response, 400, "control character")


def test_a_plain_search_still_finds_by_part_of_the_name(client, stocked_world) -> None:
    response = client.get("/api/v1/projects?search=ro", headers=ADMIN)
    assert [p["name"] for p in response.get_json()["items"]] == ["proj"]


def upload(client, content: bytes, filename: str, **fields):
    data = {"file": (io.BytesIO(content), filename), **fields}
    return client.post("/api/v1/project/proj/pkg/upload", data=data, headers=ADMIN)


def test_a_filename_with_a_bidi_override_is_refused_and_nothing_is_stored(
    client, stocked_world
) -> None:
    blobs_before = dict(stocked_world.blobs.blobs)
    response = upload(client, b"MZ evil", "invoice\u202egnp.exe", tag="spoof")
    assert_refused(response, 400, "bidirectional control character U+202E")
    assert stocked_world.blobs.blobs == blobs_before and stocked_world.blobs.staged == {}
    with stocked_world.uow() as uow:
        assert uow.tags.get(uow.packages.find("proj", "pkg")[1].id, "spoof") is None


def test_a_name_stored_before_the_rule_is_still_served_without_its_bidi_control(
    client, stocked_world
) -> None:
    (stored,) = stocked_world.db.state.uploads.values()
    stored.original_name = "invoice\u202egnp.exe"  # as an older Orchard accepted it
    response = client.get("/api/v1/project/proj/pkg/+/latest", headers=ADMIN)
    assert response.status_code == 200 and response.data == b"content"
    assert response.headers["Content-Disposition"] == 'attachment; filename="invoicegnp.exe"'


def test_two_file_parts_are_ambiguous_and_neither_is_stored(client, stocked_world) -> None:
    blobs_before = dict(stocked_world.blobs.blobs)
    data = {"file": [(io.BytesIO(b"first"), "a.bin"), (io.BytesIO(b"second"), "b.bin")]}
    response = client.post("/api/v1/project/proj/pkg/upload", data=data, headers=ADMIN)
    assert_refused(response, 400, "2 'file' parts", "exactly one")
    assert stocked_world.blobs.blobs == blobs_before and stocked_world.blobs.staged == {}


def test_two_content_parts_in_a_pypi_upload_are_refused_too(client, stocked_world) -> None:
    data = {
        ":action": "file_upload", "name": "demo", "version": "1.0",
        "content": [(io.BytesIO(b"one"), "demo-1.0.tar.gz"), (io.BytesIO(b"two"), "demo-1.0.zip")],
    }  # fmt: skip
    response = client.post("/pypi/proj/legacy/", data=data, headers=ADMIN)
    assert response.status_code == 400 and "2 'content' parts" in response.status
    assert stocked_world.blobs.staged == {}
    with stocked_world.uow() as uow:
        assert uow.packages.find("proj", "demo")[1] is None


def matches(etag: str) -> list[str]:
    """If-None-Match values that name ``etag`` (a quoted strong tag) under RFC 9110's weak
    comparison, which If-None-Match uses: all must answer 304."""
    return [etag, f"W/{etag}", f'"other", W/{etag}', f'W/"x",{etag}', "*"]


def test_a_download_is_not_modified_for_a_weak_or_listed_etag(client, stocked_world) -> None:
    path = "/api/v1/project/proj/pkg/+/latest"
    etag = client.get(path, headers=ADMIN).headers["ETag"]
    for value in matches(etag):
        response = client.get(path, headers={**ADMIN, "If-None-Match": value})
        assert response.status_code == 304, value
    other = client.get(path, headers={**ADMIN, "If-None-Match": 'W/"other"'})
    assert other.status_code == 200 and other.data == b"content"


@pytest.mark.parametrize("path", ["/pypi/proj/simple/", "/pypi/proj/simple/demo/"])
def test_an_index_page_is_not_modified_for_a_weak_etag(client, stocked_world, path) -> None:
    stocked_world.package("proj", "demo", fmt="pypi")
    etag = client.get(path).headers["ETag"]
    for value in matches(etag):
        assert client.get(path, headers={"If-None-Match": value}).status_code == 304, value
    assert client.get(path, headers={"If-None-Match": 'W/"stale"'}).status_code == 200


def test_a_pypi_upload_of_a_tar_gz_that_is_not_gzip_tells_twine_why(client, stocked_world):
    data = {
        ":action": "file_upload", "name": "demo", "version": "1.0",
        "content": (io.BytesIO(b"PK\x03\x04 a zip, named .tar.gz"), "demo-1.0.tar.gz"),
    }  # fmt: skip
    response = client.post("/pypi/proj/legacy/", data=data, headers=ADMIN)
    assert response.status_code == 400
    assert "is not gzip-compressed" in response.status  # the reason phrase twine prints
    assert stocked_world.blobs.staged == {}
    with stocked_world.uow() as uow:
        assert uow.packages.find("proj", "demo")[1] is None


def test_a_search_longer_than_200_characters_is_refused(client, stocked_world) -> None:
    assert client.get("/api/v1/projects?search=" + "p" * 200, headers=ADMIN).status_code == 200
    response = client.get("/api/v1/projects?search=" + "p" * 201, headers=ADMIN)
    assert_refused(response, 400, "search")


@pytest.mark.parametrize("key_id", [str(2**63), str(10**30)])
def test_an_api_key_id_beyond_64_bits_is_a_404_not_an_overflow(client, key_id) -> None:
    response = client.delete(f"/api/v1/auth/keys/{key_id}", headers=ADMIN)
    assert_refused(response, 404, "Not found")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "nul", "description": "a\x00b"},
        {"name": "nul\x00"},
        {"name": "nul", "nested": {"k\x00": 1}},
        {"name": "nul", "list": ["ok", "\x00"]},
    ],
)
def test_a_nul_anywhere_in_a_json_body_is_refused(client, world, body) -> None:
    response = client.post("/api/v1/projects", json=body, headers=ADMIN)
    assert_refused(response, 400, "NUL character")
    with world.uow() as uow:
        assert uow.projects.get("nul") is None


@pytest.mark.parametrize("escaped", ["\\ud800", "\\udfff", "a\\udc00b"])
def test_an_unpaired_surrogate_in_a_json_body_is_refused(client, world, escaped) -> None:
    body = '{"name": "sur", "description": "' + escaped + '"}'
    response = client.post("/api/v1/projects", data=body, headers=ADMIN,
                           content_type="application/json")  # fmt: skip
    assert_refused(response, 400, "unpaired surrogate")
    with world.uow() as uow:
        assert uow.projects.get("sur") is None


def test_a_surrogate_encoded_raw_in_the_body_is_refused_too(client, world) -> None:
    # json.loads decodes bytes with 'surrogatepass': ED A0 80 becomes '\ud800'.
    body = b'{"name": "raw", "description": "a\xed\xa0\x80b"}'
    response = client.post("/api/v1/projects", data=body, headers=ADMIN,
                           content_type="application/json")  # fmt: skip
    assert_refused(response, 400, "unpaired surrogate")


def test_a_surrogate_pair_is_a_character_and_is_kept(client) -> None:
    body = '{"name": "pair", "description": "\\ud83c\\udf4e"}'
    response = client.post("/api/v1/projects", data=body, headers=ADMIN,
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 200 and response.get_json()["description"] == "\U0001f34e"


def test_a_nul_in_a_login_is_refused_before_any_lookup(client) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "a\x00", "password": "x"})
    assert_refused(response, 400, "NUL character")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projects/a%00b/members/x",
        "/api/v1/project/proj/pkg/tags/a%00b",
        "/api/v1/project/proj/pkg/+/latest?filename=%00",
        "/pypi/proj/simple/?format=%00",
    ],
)
def test_a_nul_in_a_url_is_refused(client, stocked_world, url) -> None:
    assert_refused(client.get(url, headers=ADMIN), 400, "control character NUL")


@pytest.mark.parametrize(
    ("document", "depth"),
    [(1, 0), ("s", 0), ([], 1), ({}, 1), ([[]], 2), ({"a": [1, {"b": []}]}, 4), ([1, [2, [3]]], 3)],
)
def test_nesting_depth_counts_arrays_and_objects(document, depth) -> None:
    assert nesting_depth(document, stop_after=32) == depth


def test_nesting_depth_stops_past_the_limit() -> None:
    deep: list = []
    for _ in range(1000):
        deep = [deep]
    assert nesting_depth(deep, stop_after=3) == 4
