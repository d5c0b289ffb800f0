"""The upstream section of the project page: who sees it (exactly whom the REST API
answers), what it shows (never a password), and its forms (CSRF, confirmations, refused
changes that change nothing)."""

from __future__ import annotations

import pytest

from domain.upstream import UpstreamFile, UpstreamPage
from tests.unit.conftest import World
from tests.unit.web.conftest import HTML, Site, basic, csrf_of

ENV_URL = "https://envuser:env-url-secret@upstream.example/simple/"
SECTION = 'id="upstream-heading"'


@pytest.fixture
def site(world: World, tmp_path) -> Site:
    built = Site(world, tmp_path, upstream_url=ENV_URL, upstream_password="env-password-secret")
    built.project("pypi")
    return built


def _cache(site: Site, project: str, name: str, *sizes: int, stored: int = 0) -> None:
    """A page the upstream gave, ``stored`` of its files with their bytes in Orchard."""
    files = tuple(
        UpstreamFile(f"{name}-{i}.tar.gz", f"https://files/{name}-{i}", f"{i:064x}", size)
        for i, size in enumerate(sizes, 1)
    )
    with site.world.uow() as uow:
        project_id = uow.projects.get(project).id
        uow.upstream.save_page(project_id, UpstreamPage(name, files), site.world.clock.now())
        for cached in uow.upstream.page(project_id, name).files[:stored]:
            uow.upstream.attach_artifact(cached.id, "a" * 64)


def _api(site: Site, project: str, **headers: str):
    return site.client().get(f"/api/v1/projects/{project}/upstream", headers=headers)


def test_an_admin_sees_the_settings_and_the_cache_never_a_password(site: Site) -> None:
    _cache(site, "pypi", "requests", 1000, 2048, stored=1)
    page = site.client().get("/projects/pypi", headers={**HTML, **site.admin})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert SECTION in text
    assert "https://upstream.example/simple/" in text  # the URL without its user info
    assert "the environment" in text and "600 s (10 min)" in text
    assert "requests" in text and "fresh" in text and "2 (1)" in text  # files (stored)
    assert "1000 bytes" in text
    for secret in ("env-url-secret", "env-password-secret"):
        assert secret not in text


def test_a_page_past_its_ttl_shows_stale(site: Site) -> None:
    _cache(site, "pypi", "old", 10)
    site.world.clock.advance(seconds=601)
    text = site.client().get("/projects/pypi", headers=site.admin).get_data(as_text=True)
    assert ">stale<" in text


@pytest.mark.parametrize("public", [True, False])
def test_who_sees_the_section_is_who_the_api_answers(site: Site, public: bool) -> None:
    site.project("team", public=public)
    for name, role in (("reader", "read"), ("writer", "write"), ("boss", "admin")):
        site.user(name)
        site.member("team", name, role)
    site.user("outsider")
    callers = {"anonymous": {}, "root": site.admin}
    for name in ("reader", "writer", "boss", "outsider"):
        callers[name] = basic(name, f"password-{name}")
    for caller, headers in callers.items():
        page = site.client().get("/projects/team", headers=headers)
        api = _api(site, "team", **headers)
        if api.status_code == 404:
            assert page.status_code == 404, caller
        else:
            assert page.status_code == 200, caller
            shown = SECTION in page.get_data(as_text=True)
            assert shown == (api.status_code == 200), caller
    assert not public or _api(site, "team").status_code == 401  # anonymous: no admin


def test_upstream_names_are_escaped(site: Site) -> None:
    _cache(site, "pypi", "<script>alert(1)</script>", 5)
    text = site.client().get("/projects/pypi", headers=site.admin).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_the_cache_is_paged(site: Site) -> None:
    for number in range(30):
        _cache(site, "pypi", f"dep-{number:02d}", 1)
    client = site.signed_in("root")
    first = client.get("/projects/pypi").get_data(as_text=True)
    assert "dep-00" in first and "dep-29" not in first
    assert "dep-29" in client.get("/projects/pypi?cache_page=2").get_data(as_text=True)
    assert client.get("/projects/pypi?cache_page=0").status_code == 400


def _form(client, path: str = "/projects/pypi") -> str:
    return csrf_of(client.get(path).get_data(as_text=True))


def _settings(site: Site, project: str = "pypi") -> dict:
    return _api(site, project, **site.admin).get_json()


def test_an_admin_changes_the_settings_and_the_password_stays_write_only(site: Site) -> None:
    site.project("team")
    client = site.signed_in("root")
    done = client.post(
        "/projects/team/-/upstream",
        data={"csrf_token": _form(client), "url": "https://mirror.example/simple/",
              "username": "bot", "password": "typed-secret", "ttl": "60", "cooldown": "3600",
              "stale_max_age": "86400", "negative_ttl": "30"},
    )  # fmt: skip
    assert done.status_code == 303
    stored = _settings(site, "team")
    assert stored["url"] == "https://mirror.example/simple/" and stored["source"] == "project"
    assert stored["ttl"] == 60 and stored["cooldown"] == 3600 and stored["has_password"]
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "typed-secret" not in page and "saved" in page
    # The form sent back as shown (password empty) keeps the password.
    client.post(
        "/projects/team/-/upstream",
        data={"csrf_token": _form(client), "url": "https://mirror.example/simple/",
              "username": "bot", "password": "", "ttl": "120", "cooldown": "3600",
              "stale_max_age": "86400", "negative_ttl": "30"},
    )  # fmt: skip
    stored = _settings(site, "team")
    assert stored["ttl"] == 120 and stored["has_password"] and stored["username"] == "bot"


def test_the_url_sent_back_as_shown_keeps_its_credentials(site: Site) -> None:
    site.project("team")
    admin = site.client()
    admin.put(
        "/api/v1/projects/team/upstream", headers=site.admin,
        json={"url": "https://u:url-secret@mirror.example/simple/"},
    )  # fmt: skip
    client = site.signed_in("root")
    page = client.get("/projects/team").get_data(as_text=True)
    assert "url-secret" not in page and "https://mirror.example/simple/" in page
    client.post(
        "/projects/team/-/upstream",
        data={"csrf_token": _form(client), "url": "https://mirror.example/simple/",
              "username": "u", "ttl": "5", "cooldown": "0", "stale_max_age": "10",
              "negative_ttl": "1"},
    )  # fmt: skip
    assert _settings(site, "team")["has_password"]  # the URL's password is still there


def test_a_bad_url_is_shown_on_the_page_and_nothing_changes(site: Site) -> None:
    client = site.signed_in("root")
    before = _settings(site)
    refused = client.post(
        "/projects/pypi/-/upstream",
        data={"csrf_token": _form(client), "url": "ftp://nowhere/", "ttl": "1",
              "cooldown": "0", "stale_max_age": "1", "negative_ttl": "1"},
    )  # fmt: skip
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "must be an http:// or https:// URL" in text and SECTION in text
    assert _settings(site) == before
    section = client.get("/projects/pypi/-/upstream?cache_page=2")  # its pager's links
    assert section.headers["Location"] == "/projects/pypi?cache_page=2#upstream"
    negative = client.post(
        "/projects/pypi/-/upstream",
        data={"csrf_token": _form(client), "url": "", "ttl": "-1", "cooldown": "0",
              "stale_max_age": "1", "negative_ttl": "1"},
    )  # fmt: skip
    assert negative.status_code == 422 and "ttl" in negative.get_data(as_text=True)
    assert _settings(site) == before


def test_every_upstream_form_refuses_a_missing_csrf_token(site: Site) -> None:
    _cache(site, "pypi", "demo", 1)
    client = site.signed_in("root")
    before = _settings(site)
    for path, data in (
        ("/projects/pypi/-/upstream", {"url": "", "ttl": "1"}),
        ("/projects/pypi/-/upstream/merge", {"name": "demo", "merge": "1"}),
        ("/projects/pypi/-/upstream/pages/demo/refresh", {}),
        ("/projects/pypi/-/upstream/pages/demo/purge", {}),
        ("/projects/pypi/-/upstream/pages/purge", {}),
        ("/projects/pypi/-/upstream/pages/refresh", {}),
    ):
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 403
    assert _settings(site) == before
    assert "demo" in client.get("/projects/pypi").get_data(as_text=True)
    assert site.upstream.asked == []


def test_names_are_opted_in_and_out_of_merging(site: Site) -> None:
    client = site.signed_in("root")
    client.post(
        "/projects/pypi/-/upstream/merge",
        data={"csrf_token": _form(client), "name": "My_Lib", "merge": "1"},
    )
    assert _settings(site)["merge_names"] == ["my-lib"]
    client.post(
        "/projects/pypi/-/upstream/merge",
        data={"csrf_token": _form(client), "name": "my-lib", "merge": "0"},
    )
    assert _settings(site)["merge_names"] == []


def test_refresh_one_page_asks_the_upstream_now(site: Site) -> None:
    _cache(site, "pypi", "demo", 1)
    site.upstream.pages["demo"] = UpstreamPage(
        "demo", (UpstreamFile("demo-2.tar.gz", "https://files/demo-2", "f" * 64, 9),)
    )
    client = site.signed_in("root")
    done = client.post(
        "/projects/pypi/-/upstream/pages/demo/refresh", data={"csrf_token": _form(client)}
    )
    assert done.status_code == 303 and site.upstream.asked == ["demo"]
    assert "Asked the upstream for demo" in client.get("/projects/pypi").get_data(as_text=True)


def test_purge_and_refresh_all_are_confirmed_first(site: Site) -> None:
    _cache(site, "pypi", "alpha", 1)
    _cache(site, "pypi", "beta", 1)
    client = site.signed_in("root")
    for path in ("pages/alpha/purge", "pages/purge", "pages/refresh"):
        confirm = client.get(f"/projects/pypi/-/upstream/{path}")
        assert confirm.status_code == 200, path
        assert f'action="/projects/pypi/-/upstream/{path}"' in confirm.get_data(as_text=True)
    text = client.get("/projects/pypi").get_data(as_text=True)
    assert "alpha" in text and "beta" in text  # the confirmations changed nothing
    token = _form(client)
    client.post("/projects/pypi/-/upstream/pages/refresh", data={"csrf_token": token})
    assert ">expired<" in client.get("/projects/pypi").get_data(as_text=True)
    assert site.upstream.asked == []  # asked at the next request, not now
    client.post("/projects/pypi/-/upstream/pages/alpha/purge", data={"csrf_token": token})
    text = client.get("/projects/pypi").get_data(as_text=True)
    assert "<td>alpha</td>" not in text and "<td>beta</td>" in text
    client.post("/projects/pypi/-/upstream/pages/purge", data={"csrf_token": token})
    assert "Nothing cached yet" in client.get("/projects/pypi").get_data(as_text=True)


def test_only_admins_reach_the_forms_and_confirmations(site: Site) -> None:
    _cache(site, "pypi", "demo", 1)
    site.user("writer")
    site.member("pypi", "writer", "write")
    client = site.signed_in("writer")
    token = _form(client)
    assert client.get("/projects/pypi/-/upstream/pages/purge").status_code == 403
    refused = client.post("/projects/pypi/-/upstream/pages/purge", data={"csrf_token": token})
    assert refused.status_code == 403
    api = site.client().delete(
        "/api/v1/projects/pypi/upstream/pages", headers=basic("writer", "password-writer")
    )
    assert api.status_code == 403
    assert "demo" in site.client().get("/projects/pypi", headers=site.admin).get_data(as_text=True)


def test_the_api_refreshes_every_page_at_once(site: Site) -> None:
    _cache(site, "pypi", "alpha", 1)
    response = site.client().post(
        "/api/v1/projects/pypi/upstream/pages/refresh", headers=site.admin
    )
    assert response.status_code == 200 and response.get_json() == {"expired": 1}
