"""Escaping, CSRF, cookies and access rules of the pages: a private project is the same
404 here as in the API, and every change needs the session's form token."""

from __future__ import annotations

import hashlib

import pytest

from tests.unit.web.conftest import HTML, Site, basic, csrf_of, metadata_with_description

SCRIPT = '<script>alert("x")</script>'


def test_a_description_with_a_script_renders_inert(site: Site) -> None:
    site.project("py")
    for kind in ("text/markdown", "text/x-rst", "text/plain"):
        version = {"text/markdown": "1.0", "text/x-rst": "2.0", "text/plain": "3.0"}[kind]
        readme = f"Hello\n\n{SCRIPT}\n\n<img src=x onerror=alert(1)>\n\n[a](javascript:alert(1))\n"
        site.wheel("py", "demo", version, metadata=metadata_with_description(
            "demo", version, readme, kind))  # fmt: skip
        text = site.client().get("/projects/py/demo").get_data(as_text=True)
        assert SCRIPT not in text, kind
        assert "onerror" not in text.replace("onerror=alert(1)&gt;", ""), kind
        assert 'href="javascript:' not in text, kind


def test_names_and_yank_reasons_from_clients_are_escaped(site: Site) -> None:
    site.project("py")
    site.wheel("py", "demo", "1.0")
    response = site.client().post(
        "/api/v1/project/py/demo/files/demo-1.0-py3-none-any.whl/yank",
        json={"reason": SCRIPT}, headers=site.admin,
    )  # fmt: skip
    assert response.status_code == 200
    text = site.client().get("/projects/py/demo").get_data(as_text=True)
    assert SCRIPT not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    assert "yanked" in text


def test_a_search_term_is_escaped(site: Site) -> None:
    text = site.client().get(f"/?search={SCRIPT}", headers=HTML).get_data(as_text=True)
    assert SCRIPT not in text


@pytest.mark.parametrize(
    ("page", "api"),
    [
        ("/projects/secret", "/api/v1/projects/secret"),
        ("/projects/secret/demo", "/api/v1/project/secret/packages/demo"),
        ("/projects/secret/build", "/api/v1/project/secret/packages/build"),
        ("/projects/secret/build/tags/latest", "/api/v1/project/secret/build/tags/latest"),
    ],
)
def test_a_private_project_is_404_to_outsiders_exactly_as_in_the_api(
    site: Site, page: str, api: str
) -> None:
    site.project("secret", public=False)
    site.wheel("secret", "demo", "1.0")
    site.generic("secret", "build", b"bytes", tag="latest")
    site.user("eve")
    site.user("mia")
    site.member("secret", "mia", "read")
    for who in (site.client(), site.signed_in("eve")):
        assert who.get(page).status_code == 404
        assert who.get(api).status_code == 404
        assert "demo" not in who.get("/", headers=HTML).get_data(as_text=True)
    member = site.signed_in("mia")
    assert member.get(page).status_code == 200
    assert member.get(api).status_code == 200


def test_a_missing_project_and_a_hidden_one_look_the_same(site: Site) -> None:
    site.project("secret", public=False)
    hidden = site.client().get("/projects/secret")
    missing = site.client().get("/projects/nothing")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data(as_text=True).replace("secret", "X") == missing.get_data(
        as_text=True
    ).replace("nothing", "X")


def test_signing_in_sets_an_httponly_samesite_cookie(site: Site) -> None:
    client = site.client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": "root", "password": "password-root", "csrf_token": token}
    )
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Sign out root" in client.get("/", headers=HTML).get_data(as_text=True)


def test_the_cookie_is_secure_behind_tls(site: Site) -> None:
    client = site.app.test_client()
    page = client.get("/login", base_url="https://orchard.example")
    assert "Secure" in page.headers["Set-Cookie"]
    response = client.post(
        "/login", base_url="https://orchard.example",
        data={"username": "root", "password": "password-root",
              "csrf_token": csrf_of(page.get_data(as_text=True))},
    )  # fmt: skip
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_wrong_password_shows_the_form_again(site: Site) -> None:
    client = site.client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": "root", "password": "wrong-password", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_sign_in_refuses_a_form_without_the_token(site: Site) -> None:
    client = site.client()
    client.get("/login")
    response = client.post("/login", data={"username": "root", "password": "password-root"})
    assert response.status_code == 403
    assert "security token" in response.get_data(as_text=True)


def test_next_never_leaves_the_server(site: Site) -> None:
    client = site.client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"username": "root", "password": "password-root", "csrf_token": token,
              "next": "//evil.example/x"},
    )  # fmt: skip
    assert response.headers["Location"] == "/"


def test_an_anonymous_visitor_is_sent_to_sign_in_for_the_keys_page(site: Site) -> None:
    response = site.client().get("/account/keys")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account/keys"


def test_a_key_is_created_shown_once_listed_and_revoked_after_confirming(site: Site) -> None:
    site.user("kim")
    client = site.signed_in("kim")
    token = csrf_of(client.get("/account/keys").get_data(as_text=True))
    created = client.post("/account/keys", data={"name": "ci", "csrf_token": token})
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    text = created.get_data(as_text=True)
    secret = text.split('id="new-key"')[1].split(">", 1)[1].split("<", 1)[0]
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"}).json[
            "username"
        ]
        == "kim"
    )
    listing = client.get("/account/keys").get_data(as_text=True)
    assert "ci" in listing and secret not in listing
    key_id = listing.split("/account/keys/")[1].split("/revoke")[0]
    confirm = client.get(f"/account/keys/{key_id}/revoke")
    assert confirm.status_code == 200 and "Revoke" in confirm.get_data(as_text=True)
    assert site.key_names("kim") == ["ci"]  # the confirmation page changes nothing
    revoked = client.post(f"/account/keys/{key_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert site.key_names("kim") == []


def test_every_change_refuses_a_form_without_the_sessions_token(site: Site) -> None:
    site.project("py")
    site.wheel("py", "demo", "1.0")
    client = site.signed_in("root")
    file = "/projects/py/demo/files/demo-1.0-py3-none-any.whl"
    for path, data in (
        ("/account/keys", {"name": "ci"}),
        (f"{file}/yank", {"reason": "broken"}),
        (f"{file}/delete", {}),
        ("/projects/py/demo/releases/1.0/delete", {}),
        ("/logout", {}),
    ):
        for token in (None, "forged-token"):
            form = {**data, **({"csrf_token": token} if token else {})}
            assert client.post(path, data=form).status_code == 403, (path, token)
    assert site.key_names("root") == []
    index = site.client().get(
        "/pypi/py/simple/demo/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    assert index.json["files"][0]["yanked"] is False


def test_a_writer_yanks_with_a_reason_after_confirming_and_pip_sees_it(site: Site) -> None:
    site.project("py")
    site.wheel("py", "demo", "1.0")
    client = site.signed_in("root")
    assert "Unyank" not in client.get("/projects/py/demo").get_data(as_text=True)  # kept
    file = "/projects/py/demo/files/demo-1.0-py3-none-any.whl"
    confirm = client.get(f"{file}/yank")
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert 'name="reason"' in text
    response = client.post(
        f"{file}/yank", data={"reason": "broken build", "csrf_token": csrf_of(text)}
    )
    assert response.status_code == 303
    index = site.client().get(
        "/pypi/py/simple/demo/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    assert index.json["files"][0]["yanked"] == "broken build"
    page = client.get("/projects/py/demo").get_data(as_text=True)
    assert "broken build" in page and "Unyank" in page
    unyank = client.get(f"{file}/unyank").get_data(as_text=True)
    assert client.post(f"{file}/unyank", data={"csrf_token": csrf_of(unyank)}).status_code == 303
    index = site.client().get(
        "/pypi/py/simple/demo/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    assert index.json["files"][0]["yanked"] is False


def test_a_writer_deletes_a_release_after_confirming(site: Site) -> None:
    site.project("py")
    site.wheel("py", "demo", "1.0")
    site.wheel("py", "demo", "2.0")
    client = site.signed_in("root")
    confirm = client.get("/projects/py/demo/releases/2.0/delete").get_data(as_text=True)
    response = client.post(
        "/projects/py/demo/releases/2.0/delete", data={"csrf_token": csrf_of(confirm)}
    )
    assert response.status_code == 303
    page = client.get("/projects/py/demo").get_data(as_text=True)
    assert "Delete: demo-2.0-py3-none-any.whl." in page  # the notice
    assert ">demo-2.0-py3-none-any.whl</a>" not in page
    assert ">demo-1.0-py3-none-any.whl</a>" in page


def test_readers_cannot_reach_the_confirmation_or_the_change(site: Site) -> None:
    site.project("py")
    site.wheel("py", "demo", "1.0")
    site.user("rita")
    site.member("py", "rita", "read")
    client = site.signed_in("rita")
    file = "/projects/py/demo/files/demo-1.0-py3-none-any.whl"
    assert client.get(f"{file}/yank").status_code == 403
    token = csrf_of(client.get("/account/keys").get_data(as_text=True))
    assert client.post(f"{file}/yank", data={"csrf_token": token}).status_code == 403
    assert site.client().get(f"{file}/yank").status_code == 302  # anonymous: sign in first
    assert client.get(f"{file}/explode").status_code == 404


def test_a_writer_uploads_a_generic_file_with_the_form(site: Site) -> None:
    site.project("gen")
    site.world.package("gen", "build")
    client = site.signed_in("root")
    page = client.get("/projects/gen/build").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    import io

    response = client.post(
        "/projects/gen/build/upload",
        data={"file": (io.BytesIO(b"payload"), "out.bin"), "tag": "latest",
              "csrf_token": csrf_of(page)},
    )  # fmt: skip
    assert response.status_code == 303, response.get_data(as_text=True)
    text = client.get("/projects/gen/build").get_data(as_text=True)
    assert hashlib.sha256(b"payload").hexdigest() in text and "out.bin" in text
    forged = client.post(
        "/projects/gen/build/upload", data={"file": (io.BytesIO(b"other"), "x.bin")}
    )
    assert forged.status_code == 403
    assert hashlib.sha256(b"other").hexdigest() not in client.get("/projects/gen/build").get_data(
        as_text=True
    )


def test_a_cross_origin_form_post_is_refused_even_with_the_token(site: Site) -> None:
    site.user("kim")
    client = site.signed_in("kim")
    token = csrf_of(client.get("/account/keys").get_data(as_text=True))
    response = client.post(
        "/account/keys", data={"name": "ci", "csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )  # fmt: skip
    assert response.status_code == 403
    assert site.key_names("kim") == []


def test_basic_credentials_work_on_pages_too(site: Site) -> None:
    site.project("secret", public=False)
    assert site.client().get("/projects/secret", headers=site.admin).status_code == 200
    assert site.client().get("/projects/secret", headers=basic("root", "nope")).status_code == 401


def test_an_admin_adds_changes_and_removes_members_from_the_page(site: Site) -> None:
    site.project("team", public=False)
    site.user("ann")
    site.member("team", "ann", "admin")
    site.user("bob")
    client = site.signed_in("ann")
    page = client.get("/projects/team").get_data(as_text=True)
    token = csrf_of(page)
    added = client.post("/projects/team/members", data={"username": "bob", "role": "write",
                                                        "csrf_token": token})  # fmt: skip
    assert added.status_code == 303
    bob = site.signed_in("bob")
    assert bob.get("/projects/team").status_code == 200
    assert bob.get("/projects/team/members/ann/remove").status_code == 403  # not an admin
    confirm = client.get("/projects/team/members/bob/remove")
    assert confirm.status_code == 200
    assert bob.get("/projects/team").status_code == 200  # confirming changes nothing
    removed = client.post("/projects/team/members/bob/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert bob.get("/projects/team").status_code == 404
    wrong = client.post("/projects/team/members", data={"username": "bob", "role": "owner",
                                                        "csrf_token": token})  # fmt: skip
    assert wrong.status_code == 400 and "Unknown role" in wrong.get_data(as_text=True)


def test_a_writer_removes_a_generic_artifact_after_confirming(site: Site) -> None:
    site.project("gen")
    site.generic("gen", "build", b"doomed", tag="latest")
    sha = hashlib.sha256(b"doomed").hexdigest()
    client = site.signed_in("root")
    confirm = client.get(f"/projects/gen/build/artifacts/{sha}/delete")
    assert confirm.status_code == 200
    assert sha in client.get("/projects/gen/build").get_data(as_text=True)
    response = client.post(
        f"/projects/gen/build/artifacts/{sha}/delete",
        data={"csrf_token": csrf_of(confirm.get_data(as_text=True))},
    )
    assert response.status_code == 303
    assert f">{sha}</code>" not in client.get("/projects/gen/build").get_data(as_text=True)
    assert site.client().get("/projects/gen/build/artifacts/x/delete").status_code == 302


def test_next_with_a_tab_or_backslash_never_leaves_the_server(site: Site) -> None:
    for target in ("/\t/evil.example", "/\\evil.example", "https://evil.example/"):
        client = site.client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login",
            data={"username": "root", "password": "password-root", "csrf_token": token,
                  "next": target},
        )  # fmt: skip
        assert response.headers["Location"] == "/", target


def test_a_throttled_sign_in_says_when_to_come_back(world, tmp_path) -> None:
    site = Site(world, tmp_path, login_failures_per_user=2)
    client = site.client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    for _ in range(2):
        wrong = {"username": "root", "password": "wrong-password", "csrf_token": token}
        assert client.post("/login", data=wrong).status_code == 401
    refused = client.post("/login", data=wrong)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert 'role="alert"' in refused.get_data(as_text=True)


def test_the_cookie_is_secure_behind_a_trusted_tls_proxy_only(world, tmp_path) -> None:
    site = Site(world, tmp_path, trusted_proxies="10.0.0.0/8")
    forwarded = {"X-Forwarded-Proto": "https"}
    proxy, stranger = {"REMOTE_ADDR": "10.1.2.3"}, {"REMOTE_ADDR": "192.0.2.7"}
    through_proxy = site.client().get("/login", headers=forwarded, environ_base=proxy)
    assert "Secure" in through_proxy.headers["Set-Cookie"]
    direct = site.client().get("/login", headers=forwarded, environ_base=stranger)
    assert "Secure" not in direct.headers["Set-Cookie"]
    home = site.client().get("/", headers={**HTML, **forwarded}, environ_base=proxy)
    assert "https://localhost/simple/" in home.get_data(as_text=True)  # the index URL too
