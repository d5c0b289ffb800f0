"""Every page: its status, what it shows, and that it pages through long lists."""

from __future__ import annotations

import hashlib

from tests.unit.web.conftest import HTML, Site, metadata_with_description


def test_a_browser_gets_the_home_page_at_the_root(site: Site) -> None:
    site.project("apples")
    page = site.client().get("/", headers=HTML)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "Accept" in page.vary
    text = page.get_data(as_text=True)
    assert "apples" in text
    assert "http://localhost/simple/" in text  # the index URL for pip and uv
    assert 'href="/api/v1/openapi.json"' in text and 'href="/health"' in text


def test_json_clients_and_curl_keep_the_json_answer_at_the_root(site: Site) -> None:
    for accept in ("application/json", "*/*", None):
        headers = {"Accept": accept} if accept else {}
        response = site.client().get("/", headers=headers)
        assert response.status_code == 405
        assert response.get_json() == {"detail": "Method not allowed."}


def test_the_home_page_searches_and_pages_through_projects(site: Site) -> None:
    for number in range(30):
        site.project(f"proj-{number:02d}")
    client = site.client()
    first = client.get("/", headers=HTML).get_data(as_text=True)
    assert "proj-00" in first and "proj-29" not in first
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/?page=2", headers=HTML).get_data(as_text=True)
    assert "proj-29" in second and "proj-00" not in second
    found = client.get("/?search=proj-1", headers=HTML).get_data(as_text=True)
    assert "proj-15" in found and "proj-25" not in found


def test_a_bad_page_number_is_a_400_page(site: Site) -> None:
    response = site.client().get("/?page=0", headers=HTML)
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_the_project_page_lists_searches_and_pages_packages(site: Site) -> None:
    site.project("tools")
    for number in range(27):
        site.world.package("tools", f"pkg-{number:02d}")
    client = site.client()
    page = client.get("/projects/tools")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "pkg-00" in text and "pkg-26" not in text and "Page 1 of 2" in text
    assert "pkg-26" in client.get("/projects/tools?page=2").get_data(as_text=True)
    assert "pkg-26" in client.get("/projects/tools?search=26").get_data(as_text=True)
    assert "public" in text


def test_members_are_shown_to_the_projects_admins_only(site: Site) -> None:
    site.project("team", public=False)
    for name, role in (("ann", "admin"), ("bob", "read")):
        site.user(name)
        site.member("team", name, role)
    admin_view = site.signed_in("ann").get("/projects/team").get_data(as_text=True)
    assert "Members" in admin_view and "bob" in admin_view
    reader_view = site.signed_in("bob").get("/projects/team").get_data(as_text=True)
    assert "Members" not in reader_view


def test_the_python_package_page_shows_releases_files_and_install_lines(site: Site) -> None:
    site.project("py")
    sha_old = site.wheel("py", "demo", "1.0", requires_python=">=3.8")
    sha_new = site.wheel("py", "demo", "1.1", requires_python=">=3.10")
    page = site.client().get("/projects/py/demo")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "demo-1.0-py3-none-any.whl" in text and "demo-1.1-py3-none-any.whl" in text
    assert sha_old in text and sha_new in text
    assert text.index(">1.1") < text.index(">1.0")  # newest release first
    assert "&gt;=3.10" in text  # Requires-Python
    assert "pip install --index-url http://localhost/pypi/py/simple/ demo" in text
    assert "uv pip install --index-url http://localhost/pypi/py/simple/ demo" in text
    assert "poetry source add --priority=primary orchard http://localhost/pypi/py/simple/" in text
    assert "extra-index-url" not in text
    assert "UTC" in text  # upload times
    assert "bytes" in text or "KiB" in text  # sizes
    assert f'href="/pypi/py/files/{sha_new}/demo-1.1-py3-none-any.whl"' in text


def test_the_description_is_rendered_from_the_wheels_metadata(site: Site) -> None:
    site.project("py")
    readme = "# Demo\n\nSome **bold** words and `code`.\n"
    metadata = metadata_with_description("demo", "1.0", readme, "text/markdown")
    site.wheel("py", "demo", "1.0", metadata=metadata)
    text = site.client().get("/projects/py/demo").get_data(as_text=True)
    assert "<strong>bold</strong>" in text
    assert "<code>code</code>" in text


def test_publish_lines_are_for_writers_only(site: Site) -> None:
    site.project("py")
    site.wheel("py", "demo", "1.0")
    site.user("wendy")
    site.member("py", "wendy", "write")
    site.user("rita")
    site.member("py", "rita", "read")
    writer = site.signed_in("wendy").get("/projects/py/demo").get_data(as_text=True)
    assert "twine upload --repository-url http://localhost/pypi/py/ -u __token__ dist/*" in writer
    assert "uv publish --publish-url http://localhost/pypi/py/" in writer
    assert "Yank" in writer
    reader = site.signed_in("rita").get("/projects/py/demo").get_data(as_text=True)
    assert "twine upload" not in reader and "Yank" not in reader
    assert "twine upload" not in site.client().get("/projects/py/demo").get_data(as_text=True)


def test_python_releases_are_paged(site: Site) -> None:
    site.project("py")
    for minor in range(12):
        site.wheel("py", "demo", f"1.{minor}")
    client = site.client()
    first = client.get("/projects/py/demo").get_data(as_text=True)
    assert "demo-1.11-py3-none-any.whl" in first and "demo-1.0-py3-none-any.whl" not in first
    second = client.get("/projects/py/demo?page=2").get_data(as_text=True)
    assert "demo-1.0-py3-none-any.whl" in second


def test_the_generic_package_page_shows_tags_versions_artifacts_and_commands(
    site: Site,
) -> None:
    site.project("gen")
    site.generic("gen", "build", b"first build", tag="latest", version="1.0")
    site.generic("gen", "build", b"second build", tag="latest", version="1.1")
    page = site.client().get("/projects/gen/build")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    second = hashlib.sha256(b"second build").hexdigest()
    assert "latest" in text and "1.0" in text and "1.1" in text
    assert second in text and "build.tar" in text and "12 bytes" in text
    assert "/api/v1/project/gen/build/+/tag:latest" in text
    assert "curl -fOJ http://localhost/api/v1/project/gen/build/+/tag:latest" in text
    assert "-F file=@FILE" in text
    assert 'enctype="multipart/form-data"' not in text  # the upload form is for writers


def test_the_tag_page_shows_its_history(site: Site) -> None:
    site.project("gen")
    site.generic("gen", "build", b"one", tag="latest")
    site.generic("gen", "build", b"two", tag="latest")
    page = site.client().get("/projects/gen/build/tags/latest")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.count("<tr>") == 3  # the header and two moves
    assert "created" in text
    assert site.client().get("/projects/gen/build/tags/nope").status_code == 404


def test_the_pages_need_no_inline_script_and_send_the_policy(site: Site) -> None:
    site.project("py")
    site.wheel("py", "demo", "1.0")
    client = site.signed_in("root")
    for path in ("/", "/projects/py", "/projects/py/demo", "/account/keys", "/login"):
        response = client.get(path, headers=HTML)
        assert response.status_code == 200, path
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        text = response.get_data(as_text=True)
        assert text.count("<script") == text.count('<script src="/-/static/orchard.js"'), path


def test_the_stylesheet_and_script_are_served(site: Site) -> None:
    client = site.client()
    assert client.get("/-/static/orchard.css").status_code == 200
    assert client.get("/-/static/orchard.js").status_code == 200


def test_members_are_paged_apart_from_packages(site: Site) -> None:
    site.project("crowd")
    for number in range(27):
        site.user(f"user-{number:02d}")
        site.member("crowd", f"user-{number:02d}", "read")
    client = site.signed_in("root")
    first = client.get("/projects/crowd").get_data(as_text=True)
    assert "user-00" in first and "user-26" not in first and "Pages of members" in first
    second = client.get("/projects/crowd?members_page=2").get_data(as_text=True)
    assert "user-26" in second and "user-00" not in second
    assert client.get("/projects/crowd?members_page=x").status_code == 400


def test_an_unknown_address_is_a_page_for_browsers_and_json_for_the_rest(site: Site) -> None:
    client = site.client()
    page = client.get("/no/such/page", headers=HTML)
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "There is no page at this address." in page.get_data(as_text=True)
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    for path, headers in (("/no/such/page", {}), ("/api/v1/nothing", HTML),
                          ("/pypi/x/nothing", HTML)):  # fmt: skip
        response = client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.get_json() == {"detail": "Not found."}, path
