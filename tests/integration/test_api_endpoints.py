"""The rest of the generic REST API (SPEC §2) that the upstream suite does not cover.

Projects (CRUD, PATCH, deletion releasing references), package listing (pagination,
search), tags (move, delete, history), versions, package artifacts, the artifact
document, every download header (Range, ETag/If-None-Match, HEAD, RFC 5987 filenames,
redirect mode), /health and the OpenAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

import httpx
import pytest

from tests.factories import (
    assert_error,
    compute_blake2b_256,
    compute_md5,
    compute_sha1,
    compute_sha256,
    create_package,
    create_project,
    delete_project_quietly,
    generate_content,
    items_of,
    login,
    post_file,
    ref_count,
    tag_names,
    unique_content,
    unique_name,
    upload_test_file,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def admin(live_server) -> Iterator[httpx.Client]:
    with login(live_server.url, live_server.admin_user, live_server.admin_password) as client:
        yield client


@pytest.fixture
def anonymous(live_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


@pytest.fixture
def new_project(admin) -> Iterator[Callable[..., str]]:
    """Factory: create a project (public unless told), deleted after the test."""
    names = []

    def make(is_public: bool = True, description: str = "") -> str:
        names.append(unique_name("ep"))
        create_project(admin, names[-1], is_public=is_public, description=description)
        return names[-1]

    yield make
    for name in names:
        delete_project_quietly(admin, name)


@pytest.fixture
def target(admin, new_project) -> tuple[str, str]:
    """A public project with one generic package: ``(project, package)``."""
    project, package = new_project(), unique_name("pkg")
    create_package(admin, project, package)
    return project, package


def package_url(target: tuple[str, str], rest: str = "") -> str:
    project, package = target
    return f"/api/v1/project/{project}/{package}{rest}"


# --- projects ---------------------------------------------------------------------------


def test_create_project_answers_the_project(admin):
    name = unique_name("ep")
    try:
        body = create_project(admin, name, is_public=False, description="made by a test")
    finally:
        delete_project_quietly(admin, name)

    assert body["name"] == name
    assert body["description"] == "made by a test"
    assert body["is_public"] is False


def test_get_and_list_projects(admin, new_project):
    name = new_project(description="listed")

    got = admin.get(f"/api/v1/projects/{name}")
    listing = admin.get("/api/v1/projects")

    assert got.status_code == 200, got.text
    assert (got.json()["name"], got.json()["description"]) == (name, "listed")
    assert listing.status_code == 200, listing.text
    assert name in [project["name"] for project in items_of(listing.json())]


def test_create_existing_project_is_409(admin, new_project):
    name = new_project()

    response = admin.post(
        "/api/v1/projects", json={"name": name, "description": "", "is_public": True}
    )

    assert_error(response, 409)


def test_missing_project_is_404(admin):
    assert_error(admin.get(f"/api/v1/projects/{unique_name('missing')}"), 404)


def test_patch_project_changes_description_and_visibility(admin, anonymous, new_project):
    name = new_project(description="before")

    response = admin.patch(
        f"/api/v1/projects/{name}", json={"description": "after", "is_public": False}
    )

    assert response.status_code == 200, response.text
    got = admin.get(f"/api/v1/projects/{name}").json()
    assert (got["description"], got["is_public"]) == ("after", False)
    assert_error(anonymous.get(f"/api/v1/projects/{name}"), 404)


def upload_to_two_packages(admin, new_project) -> tuple[tuple[str, str], tuple[str, str], str]:
    """The same new content uploaded into two projects; returns both targets and its id."""
    content = unique_content("shared")
    targets = []
    for _ in range(2):
        project, package = new_project(), unique_name("pkg")
        create_package(admin, project, package)
        upload_test_file(admin, project, package, content, tag="shared")
        targets.append((project, package))
    sha256 = compute_sha256(content)
    assert ref_count(admin, sha256) == 2
    return targets[0], targets[1], sha256


def test_delete_project_releases_its_references(admin, new_project):
    kept, deleted, sha256 = upload_to_two_packages(admin, new_project)

    response = admin.delete(f"/api/v1/projects/{deleted[0]}")

    assert response.status_code in (200, 204), response.text
    assert_error(admin.get(f"/api/v1/projects/{deleted[0]}"), 404)
    assert ref_count(admin, sha256) == 1
    assert admin.get(package_url(kept, "/+/shared"), params={"mode": "proxy"}).status_code == 200


def test_delete_package_releases_its_references(admin, new_project):
    _, deleted, sha256 = upload_to_two_packages(admin, new_project)

    response = admin.delete(f"/api/v1/project/{deleted[0]}/packages/{deleted[1]}")

    assert response.status_code in (200, 204), response.text
    assert_error(admin.get(f"/api/v1/project/{deleted[0]}/packages/{deleted[1]}"), 404)
    assert ref_count(admin, sha256) == 1


# --- packages ---------------------------------------------------------------------------


def test_get_package_answers_its_fields(admin, target):
    project, package = target

    response = admin.get(f"/api/v1/project/{project}/packages/{package}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["format"]) == (package, "generic")
    assert "description" in body


@pytest.fixture
def five_packages(admin, new_project) -> tuple[str, str, list[str]]:
    """A project with five packages named ``<prefix>-N`` and one unrelated package."""
    project, prefix = new_project(), unique_name("srch")
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in [*names, unique_name("other")]:
        create_package(admin, project, name)
    return project, prefix, names


def test_package_list_is_paginated(admin, five_packages):
    project, prefix, names = five_packages
    url = f"/api/v1/project/{project}/packages"

    pages = [admin.get(url, params={"search": prefix, "limit": 2, "page": n}) for n in (1, 2, 3)]

    assert [p.status_code for p in pages] == [200, 200, 200], [p.text for p in pages]
    page_names = [[pkg["name"] for pkg in items_of(p.json())] for p in pages]
    assert [len(names_on_page) for names_on_page in page_names] == [2, 2, 1]
    assert sorted(name for page in page_names for name in page) == sorted(names)
    assert pages[0].json()["pagination"]["total"] == 5


def test_package_list_search_filters_by_name(admin, five_packages):
    project, prefix, names = five_packages

    response = admin.get(f"/api/v1/project/{project}/packages", params={"search": prefix})

    assert response.status_code == 200, response.text
    assert sorted(pkg["name"] for pkg in items_of(response.json())) == sorted(names)


# --- tags -------------------------------------------------------------------------------


def test_tags_list_shape(admin, target):
    result = upload_test_file(admin, *target, unique_content(), tag="stable")

    response = admin.get(package_url(target, "/tags"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["pagination"], dict)
    [tag] = body["items"]
    assert {"name", "artifact_id", "created_at", "updated_at"} <= set(tag)
    assert (tag["name"], tag["artifact_id"]) == ("stable", result["artifact_id"])


def upload_two(admin, target) -> tuple[bytes, str, bytes, str]:
    """Content A tagged ``stable`` and content B untagged, in the same package."""
    first, second = unique_content("first"), unique_content("second")
    upload_test_file(admin, *target, first, tag="stable")
    upload_test_file(admin, *target, second)
    return first, compute_sha256(first), second, compute_sha256(second)


def test_put_tag_moves_it_to_another_artifact_of_the_package(admin, target):
    _, _, second, second_id = upload_two(admin, target)

    response = admin.put(package_url(target, "/tags/stable"), json={"artifact_id": second_id})

    assert response.status_code in (200, 201), response.text
    download = admin.get(package_url(target, "/+/tag:stable"), params={"mode": "proxy"})
    assert download.content == second
    tags = {
        t["name"]: t["artifact_id"]
        for t in items_of(admin.get(package_url(target, "/tags")).json())
    }
    assert tags["stable"] == second_id


def test_put_tag_to_an_artifact_outside_the_package_is_refused(admin, target, new_project):
    first, _, _, _ = upload_two(admin, target)
    elsewhere = (new_project(), unique_name("pkg"))
    create_package(admin, *elsewhere)
    foreign_id = upload_test_file(admin, *elsewhere, unique_content("foreign"))["artifact_id"]

    response = admin.put(package_url(target, "/tags/stable"), json={"artifact_id": foreign_id})

    assert_error(response, 400, 404, 422)
    download = admin.get(package_url(target, "/+/tag:stable"), params={"mode": "proxy"})
    assert download.content == first


def test_delete_tag_removes_only_the_tag(admin, target):
    first, first_id, _, _ = upload_two(admin, target)

    response = admin.delete(package_url(target, "/tags/stable"))

    assert response.status_code in (200, 204), response.text
    assert "stable" not in tag_names(admin, *target)
    assert_error(admin.get(package_url(target, "/+/tag:stable")), 404)
    by_id = admin.get(package_url(target, f"/+/artifact:{first_id}"), params={"mode": "proxy"})
    assert by_id.content == first


def test_delete_missing_tag_is_404(admin, target):
    assert_error(admin.delete(package_url(target, "/tags/never-made")), 404)


def test_tag_history_shows_the_move_from_old_to_new(admin, target):
    _, first_id, _, second_id = upload_two(admin, target)
    admin.put(package_url(target, "/tags/stable"), json={"artifact_id": second_id})

    response = admin.get(package_url(target, "/tags/stable/history"))

    assert response.status_code == 200, response.text
    moves = [
        (h.get("old_artifact_id"), h.get("new_artifact_id")) for h in items_of(response.json())
    ]
    assert (first_id, second_id) in moves, moves


# --- versions ---------------------------------------------------------------------------


def test_versions_list_shape(admin, target):
    result = upload_test_file(admin, *target, unique_content(), version="1.2.3")

    response = admin.get(package_url(target, "/versions"))

    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    assert {"version", "artifact_id", "version_source", "created_at"} <= set(item)
    assert (item["version"], item["artifact_id"]) == ("1.2.3", result["artifact_id"])
    assert item["version_source"] == "explicit"
    assert item["created_at"]


def test_same_bytes_as_the_same_version_again_is_200(admin, target):
    content = unique_content("same version")
    first = upload_test_file(admin, *target, content, version="2.0.0")

    again = post_file(admin, *target, content, filename="again.bin", version="2.0.0")

    assert again.status_code == 200, again.text
    assert again.json()["artifact_id"] == first["artifact_id"]
    assert again.json()["version"] == "2.0.0"


def test_other_bytes_as_an_existing_version_is_409_and_changes_nothing(admin, target):
    original = unique_content("original")
    upload_test_file(admin, *target, original, version="3.0.0")
    intruder = unique_content("intruder")

    response = post_file(admin, *target, intruder, version="3.0.0")

    assert_error(response, 409)
    served = admin.get(package_url(target, "/+/version:3.0.0"), params={"mode": "proxy"})
    assert served.content == original
    assert admin.get(f"/api/v1/artifact/{compute_sha256(intruder)}").status_code == 404


# --- artifacts --------------------------------------------------------------------------


def test_artifact_document_shape_and_checksums(admin, target):
    content = unique_content("checksums")
    upload_test_file(admin, *target, content, filename="notes.txt")

    response = admin.get(f"/api/v1/artifact/{compute_sha256(content)}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert {"id", "size", "content_type", "ref_count", "checksums", "created_at"} <= set(body)
    assert (body["id"], body["size"], body["ref_count"]) == (
        compute_sha256(content),
        len(content),
        1,
    )
    assert body["checksums"] == {
        "sha256": compute_sha256(content),
        "md5": compute_md5(content),
        "sha1": compute_sha1(content),
        "blake2b_256": compute_blake2b_256(content),
    }
    assert body["content_type"]
    assert body["created_at"]


def test_package_artifacts_lists_what_it_holds(admin, target):
    content = unique_content("held")
    upload_test_file(admin, *target, content)

    response = admin.get(package_url(target, "/artifacts"))

    assert response.status_code == 200, response.text
    held = [item.get("artifact_id", item.get("id")) for item in items_of(response.json())]
    assert compute_sha256(content) in held


def test_delete_package_artifact_releases_its_references(admin, new_project):
    kept, removed, sha256 = upload_to_two_packages(admin, new_project)

    response = admin.delete(package_url(removed, f"/artifacts/{sha256}"))

    assert response.status_code in (200, 204), response.text
    assert ref_count(admin, sha256) == 1
    listing = admin.get(package_url(removed, "/artifacts"))
    held = [item.get("artifact_id", item.get("id")) for item in items_of(listing.json())]
    assert sha256 not in held
    assert_error(admin.get(package_url(removed, "/+/tag:shared")), 404)
    assert admin.get(package_url(kept, "/+/shared"), params={"mode": "proxy"}).status_code == 200


# --- download headers -------------------------------------------------------------------


@pytest.fixture
def published(admin, target) -> tuple[str, bytes]:
    """1000+ bytes tagged ``dl`` in ``target``: ``(download url, content)``."""
    content = generate_content(1000) + unique_content("download")
    upload_test_file(admin, *target, content, filename="data.bin", tag="dl")
    return package_url(target, "/+/dl"), content


def test_download_headers_describe_the_artifact(admin, published):
    url, content = published
    sha256 = compute_sha256(content)

    response = admin.get(url, params={"mode": "proxy"})

    assert response.status_code == 200
    assert response.content == content
    headers = response.headers
    assert headers["etag"] == f'"{sha256}"'
    assert headers["x-checksum-sha256"] == sha256
    assert headers["x-artifact-id"] == sha256
    assert headers["accept-ranges"] == "bytes"
    assert int(headers["content-length"]) == len(content)
    assert parsedate_to_datetime(headers["last-modified"]) is not None
    assert 'filename="data.bin"' in headers["content-disposition"]


def test_non_ascii_filename_uses_rfc5987_content_disposition(admin, target):
    name = "résumé 文件.txt"
    upload_test_file(admin, *target, unique_content("unicode"), filename=name, tag="uni")

    response = admin.get(package_url(target, "/+/uni"), params={"mode": "proxy"})

    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.isascii(), disposition
    assert disposition.startswith("attachment")
    encoded = re.search(r"filename\*=UTF-8''([^;\s]+)", disposition, re.IGNORECASE)
    assert encoded, disposition
    assert unquote(encoded.group(1)) == name


def test_range_request_is_206_with_the_slice(admin, published):
    url, content = published

    response = admin.get(url, params={"mode": "proxy"}, headers={"Range": "bytes=10-19"})

    assert response.status_code == 206, response.text
    assert response.content == content[10:20]
    assert response.headers["content-range"] == f"bytes 10-19/{len(content)}"


def test_suffix_range_is_206_with_the_tail(admin, published):
    url, content = published

    response = admin.get(url, params={"mode": "proxy"}, headers={"Range": "bytes=-5"})

    assert response.status_code == 206
    assert response.content == content[-5:]


def test_unsatisfiable_range_is_416(admin, published):
    url, content = published
    beyond = len(content) + 10

    response = admin.get(
        url, params={"mode": "proxy"}, headers={"Range": f"bytes={beyond}-{beyond + 10}"}
    )

    assert response.status_code == 416
    assert content not in response.content


def test_if_none_match_with_the_etag_is_304(admin, published):
    url, content = published

    response = admin.get(
        url, params={"mode": "proxy"}, headers={"If-None-Match": f'"{compute_sha256(content)}"'}
    )

    assert response.status_code == 304
    assert response.content == b""


def test_if_none_match_with_another_etag_is_200(admin, published):
    url, content = published

    response = admin.get(
        url, params={"mode": "proxy"}, headers={"If-None-Match": '"' + "0" * 64 + '"'}
    )

    assert response.status_code == 200
    assert response.content == content


def test_head_has_the_headers_and_no_body(admin, published):
    url, content = published

    response = admin.head(url, params={"mode": "proxy"})

    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) == len(content)
    assert response.headers["x-checksum-sha256"] == compute_sha256(content)
    assert response.headers["etag"] == f'"{compute_sha256(content)}"'


def test_redirect_mode_streams_or_redirects_to_the_blob(live_server, admin, published):
    """A filesystem store cannot sign URLs, so it streams (200); S3 answers 302."""
    url, content = published

    response = admin.get(url, params={"mode": "redirect"}, follow_redirects=False)

    if live_server.config_name.endswith("-s3"):
        assert response.status_code == 302, response.text
        with httpx.Client(timeout=60) as outside:
            direct = outside.get(response.headers["location"])
        assert direct.content == content
        assert direct.headers["content-disposition"] == 'attachment; filename="data.bin"'
    else:
        assert response.status_code == 200, response.text
        assert response.content == content


# --- service documents ------------------------------------------------------------------


def test_health_is_json(anonymous):
    response = anonymous.get("/health")

    assert response.status_code == 200, response.text
    assert "json" in response.headers["content-type"]
    body = response.json()
    assert isinstance(body, dict)
    assert body


def test_openapi_document_describes_the_upload(anonymous):
    response = anonymous.get("/api/v1/openapi.json")

    assert response.status_code == 200, response.text
    document = response.json()
    assert str(document["openapi"]).startswith("3.")
    uploads = [
        path for path in document["paths"] if "/project/" in path and path.endswith("/upload")
    ]
    assert uploads, sorted(document["paths"])
    assert "post" in document["paths"][uploads[0]]
