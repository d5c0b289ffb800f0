"""The simple index (PEP 503/691) through the Flask test client over fakes: content
negotiation, ETags and 304s, the one URL per project, and problem+json errors."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import urljoin

import pytest

from tests.unit.views.conftest import Site

JSON_V1 = "application/vnd.pypi.simple.v1+json"
SDIST = b"not really an sdist, but the index does not care"


def publish(site: Site, headers: dict, name: str = "Demo_Pkg", version: str = "1.0"):
    filename = f"{name.lower().replace('-', '_')}-{version}.tar.gz"
    return site.client.post(
        "/pypi/pypi/legacy/",
        data={
            ":action": "file_upload",
            "name": name,
            "version": version,
            "sha256_digest": hashlib.sha256(SDIST).hexdigest(),
            "content": (io.BytesIO(SDIST), filename),
        },
        headers=headers,
    )


@pytest.fixture
def index(site: Site) -> Site:
    """The default index 'pypi' with one file of 'demo-pkg'."""
    site.world.project("pypi")
    response = publish(site, site.basic("__token__", site.api_key()))
    assert response.status_code == 200, response.get_data(as_text=True)
    return site


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "text/html"),
        ("*/*", "text/html"),
        (JSON_V1, JSON_V1),
        (f"{JSON_V1}, text/html;q=0.1", JSON_V1),
        ("application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.v1+html"),
    ],
)
def test_the_page_comes_in_the_representation_asked_for(index, accept, media):
    headers = {"Accept": accept} if accept else {}
    response = index.client.get("/simple/demo-pkg/", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == media
    assert "Accept" in [value.strip() for value in response.headers["Vary"].split(",")]
    assert response.headers["Cache-Control"] == "max-age=0, must-revalidate"


def test_the_json_page_lists_the_file_with_its_hash(index):
    response = index.client.get("/simple/demo-pkg/", headers={"Accept": JSON_V1})
    body = response.get_json(force=True)
    assert body["name"] == "demo-pkg" and body["versions"] == ["1.0"]
    [file] = body["files"]
    assert file["filename"] == "demo_pkg-1.0.tar.gz"
    assert file["hashes"] == {"sha256": hashlib.sha256(SDIST).hexdigest()}


def test_nothing_acceptable_is_406(index):
    response = index.client.get("/simple/demo-pkg/", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.mimetype == "application/problem+json"


def test_a_known_etag_is_304_per_representation(index):
    html = index.client.get("/simple/demo-pkg/")
    json = index.client.get("/simple/demo-pkg/", headers={"Accept": JSON_V1})
    assert html.headers["ETag"] != json.headers["ETag"]
    again = index.client.get("/simple/demo-pkg/", headers={"If-None-Match": html.headers["ETag"]})
    assert (again.status_code, again.data) == (304, b"")
    assert again.headers["ETag"] == html.headers["ETag"]


def test_a_new_file_changes_the_etag(index):
    before = index.client.get("/simple/demo-pkg/").headers["ETag"]
    assert publish(index, index.basic("__token__", index.api_key()), version="2.0").status_code
    after = index.client.get("/simple/demo-pkg/", headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["ETag"] != before


def test_a_name_that_is_not_normalized_redirects_to_the_one_url(index):
    response = index.client.get("/simple/Demo_Pkg/?format=json")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/simple/demo-pkg/?format=json")


def test_the_file_url_serves_the_bytes_immutably(index):
    body = index.client.get("/simple/demo-pkg/", headers={"Accept": JSON_V1}).get_json(force=True)
    url = body["files"][0]["url"]
    assert url.startswith("../../files/")  # relative: the same page works under any prefix
    response = index.client.get(urljoin("/simple/demo-pkg/", url))
    assert response.status_code == 200 and response.data == SDIST
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_private_index_asks_the_anonymous_to_sign_in(site):
    site.world.project("hidden", public=False)
    response = site.client.get("/pypi/hidden/simple/")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == 'Basic realm="orchard"'
    assert response.get_json(force=True)["status"] == 401


def test_an_unavailable_database_is_503_with_retry_after(index):
    index.world.db.available = False
    response = index.client.get("/simple/demo-pkg/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/problem+json"
