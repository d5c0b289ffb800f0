"""Authentication and permissions of the REST API (SPEC §2).

Who may read and write what: anonymous readers of public projects, private projects that
do not exist for outsiders (404, so a name or a hash reveals nothing), the read / write /
admin roles, the three ways to authenticate (session cookie, Bearer API key, HTTP Basic
with a password or ``__token__`` and a key), and API key secrets that are shown once and
stored only as a hash.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.factories import (
    assert_error,
    compute_sha256,
    create_api_key,
    create_package,
    create_project,
    create_user,
    delete_project_quietly,
    items_of,
    login,
    post_file,
    set_member,
    unique_content,
    unique_name,
    upload_test_file,
)

pytestmark = pytest.mark.integration


@dataclass
class Published:
    """A project holding one package with one tagged upload."""

    project: str
    package: str
    tag: str
    content: bytes

    @property
    def sha256(self) -> str:
        return compute_sha256(self.content)

    @property
    def download_url(self) -> str:
        return f"/api/v1/project/{self.project}/{self.package}/+/{self.tag}"

    @property
    def upload_url(self) -> str:
        return f"/api/v1/project/{self.project}/{self.package}/upload"


def publish(admin: httpx.Client, is_public: bool) -> Published:
    published = Published(
        unique_name("auth"), unique_name("pkg"), unique_name("t"), unique_content("auth")
    )
    create_project(admin, published.project, is_public=is_public)
    create_package(admin, published.project, published.package)
    upload_test_file(
        admin, published.project, published.package, published.content, tag=published.tag
    )
    return published


@pytest.fixture(scope="module")
def admin(live_server) -> Iterator[httpx.Client]:
    with login(live_server.url, live_server.admin_user, live_server.admin_password) as client:
        yield client


@pytest.fixture
def anonymous(live_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


@pytest.fixture
def public(admin) -> Iterator[Published]:
    published = publish(admin, is_public=True)
    yield published
    delete_project_quietly(admin, published.project)


@pytest.fixture
def private(admin) -> Iterator[Published]:
    published = publish(admin, is_public=False)
    yield published
    delete_project_quietly(admin, published.project)


@pytest.fixture
def new_user(admin) -> Iterator[Callable[[], tuple[str, str]]]:
    """Factory: a new non-admin user, ``(username, password)``; deleted afterwards."""
    created = []

    def make() -> tuple[str, str]:
        username, password = unique_name("user"), f"pw-{uuid.uuid4().hex}"
        create_user(admin, username, password)
        created.append(username)
        return username, password

    yield make
    for username in created:
        admin.delete(f"/api/v1/users/{username}")


@pytest.fixture
def member_of(live_server, admin, new_user) -> Iterator[Callable[[str, str], httpx.Client]]:
    """Factory: a client logged in as a new user holding ``role`` in ``project``."""
    clients = []

    def make(project: str, role: str) -> httpx.Client:
        username, password = new_user()
        response = set_member(admin, project, username, role)
        assert response.status_code in (200, 201, 204), response.text
        clients.append(login(live_server.url, username, password))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def outsider(live_server, new_user) -> Iterator[httpx.Client]:
    """A logged-in user who is a member of nothing."""
    with login(live_server.url, *new_user()) as client:
        yield client


# --- anonymous access -------------------------------------------------------------------


def read_urls(published: Published) -> dict[str, str]:
    return {
        "project": f"/api/v1/projects/{published.project}",
        "packages": f"/api/v1/project/{published.project}/packages",
        "download": published.download_url + "?mode=proxy",
        "artifact": f"/api/v1/artifact/{published.sha256}",
    }


@pytest.mark.parametrize("what", ["project", "packages", "download", "artifact"])
def test_anonymous_can_read_a_public_project(anonymous, public, what):
    response = anonymous.get(read_urls(public)[what])

    assert response.status_code == 200, response.text
    if what == "download":
        assert response.content == public.content


def test_anonymous_can_list_public_tags(anonymous, public):
    response = anonymous.get(f"/api/v1/project/{public.project}/{public.package}/tags")

    assert response.status_code == 200, response.text
    assert public.tag in [tag["name"] for tag in items_of(response.json())]


def test_anonymous_upload_is_401_and_stores_nothing(admin, anonymous, public):
    content = unique_content("anonymous upload")

    response = post_file(anonymous, public.project, public.package, content)

    assert_error(response, 401)
    assert admin.get(f"/api/v1/artifact/{compute_sha256(content)}").status_code == 404


@pytest.mark.parametrize("what", ["create-project", "create-package", "delete-project"])
def test_anonymous_write_is_401(admin, anonymous, public, what):
    if what == "create-project":
        body = {"name": unique_name("anon"), "description": "", "is_public": True}
        response = anonymous.post("/api/v1/projects", json=body)
    elif what == "create-package":
        body = {"name": unique_name("anon"), "description": "", "format": "generic"}
        response = anonymous.post(f"/api/v1/project/{public.project}/packages", json=body)
    else:
        response = anonymous.delete(f"/api/v1/projects/{public.project}")

    assert_error(response, 401)
    assert admin.get(f"/api/v1/projects/{public.project}").status_code == 200


# --- private projects -------------------------------------------------------------------


@pytest.mark.parametrize("caller", ["anonymous", "outsider"])
@pytest.mark.parametrize("what", ["project", "packages", "download", "artifact"])
def test_private_project_is_404_to_non_members(request, private, caller, what):
    client = request.getfixturevalue(caller)

    response = client.get(read_urls(private)[what])

    assert_error(response, 404)
    assert private.content not in response.content


def test_private_project_is_missing_from_an_outsiders_project_list(outsider, private):
    response = outsider.get("/api/v1/projects")

    assert response.status_code == 200, response.text
    assert private.project not in [project["name"] for project in items_of(response.json())]


# --- roles ------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["project", "packages", "download", "artifact"])
def test_read_member_can_read_a_private_project(member_of, private, what):
    reader = member_of(private.project, "read")

    response = reader.get(read_urls(private)[what])

    assert response.status_code == 200, response.text


def test_read_member_upload_is_403_and_stores_nothing(admin, member_of, private):
    reader = member_of(private.project, "read")
    content = unique_content("reader upload")

    response = post_file(reader, private.project, private.package, content)

    assert_error(response, 403)
    assert admin.get(f"/api/v1/artifact/{compute_sha256(content)}").status_code == 404


def test_write_member_can_upload(admin, member_of, private):
    writer = member_of(private.project, "write")
    content = unique_content("writer upload")

    response = post_file(writer, private.project, private.package, content, tag="from-writer")

    assert response.status_code == 200, response.text
    assert response.json()["artifact_id"] == compute_sha256(content)
    download = admin.get(
        f"/api/v1/project/{private.project}/{private.package}/+/tag:from-writer",
        params={"mode": "proxy"},
    )
    assert download.content == content


def test_admin_member_can_manage_members(live_server, member_of, new_user, private):
    project_admin = member_of(private.project, "admin")
    username, password = new_user()

    response = set_member(project_admin, private.project, username, "read")

    assert response.status_code in (200, 201, 204), response.text
    with login(live_server.url, username, password) as newcomer:
        assert newcomer.get(f"/api/v1/projects/{private.project}").status_code == 200


def test_write_member_cannot_manage_members(live_server, member_of, new_user, private):
    writer = member_of(private.project, "write")
    username, password = new_user()

    response = set_member(writer, private.project, username, "read")

    assert_error(response, 403)
    with login(live_server.url, username, password) as newcomer:
        assert newcomer.get(f"/api/v1/projects/{private.project}").status_code == 404


# --- ways to authenticate ----------------------------------------------------------------


def credentials(scheme: str, username: str, password: str, key: str) -> dict:
    """httpx keyword arguments authenticating ``username`` with ``scheme``."""
    if scheme == "bearer":
        return {"headers": {"Authorization": f"Bearer {key}"}}
    if scheme == "basic-token":
        return {"auth": httpx.BasicAuth("__token__", key)}
    return {"auth": httpx.BasicAuth(username, password)}


@pytest.mark.parametrize("scheme", ["bearer", "basic-token", "basic-password"])
def test_each_credential_authenticates(live_server, admin, new_user, private, scheme):
    username, password = new_user()
    assert set_member(admin, private.project, username, "write").status_code in (200, 201, 204)
    with login(live_server.url, username, password) as session:
        key = create_api_key(session)["key"]
    content = unique_content(scheme)

    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        kwargs = credentials(scheme, username, password, key)
        me = client.get("/api/v1/auth/me", **kwargs)
        project = client.get(f"/api/v1/projects/{private.project}", **kwargs)
        upload = client.post(
            private.upload_url,
            files={"file": ("c.bin", content, "application/octet-stream")},
            **kwargs,
        )

    assert me.status_code == 200, me.text
    assert username in me.text
    assert project.status_code == 200, project.text
    assert upload.status_code == 200, upload.text


@pytest.mark.parametrize("scheme", ["bearer", "basic-token", "basic-password"])
def test_invalid_credentials_are_401(live_server, new_user, scheme):
    # A throwaway user: failed logins must not risk locking out the shared admin.
    username, _ = new_user()
    kwargs = credentials(scheme, username, "not-the-password", "not-a-key")
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        response = client.get("/api/v1/auth/me", **kwargs)

    assert_error(response, 401)


def test_login_with_wrong_password_is_401(live_server, new_user):
    username, _ = new_user()
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        response = client.post(
            "/api/v1/auth/login", json={"username": username, "password": "not-the-password"}
        )
        me = client.get("/api/v1/auth/me")

    assert_error(response, 401)
    assert me.status_code == 401


# --- API keys ----------------------------------------------------------------------------


def test_api_key_secret_appears_in_no_later_response(live_server, admin):
    created = create_api_key(admin)
    secret = created["key"]

    listing = admin.get("/api/v1/auth/keys")
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"})

    assert listing.status_code == 200, listing.text
    assert created["name"] in [key["name"] for key in items_of(listing.json())]
    assert secret not in listing.text
    assert me.status_code == 200, me.text
    assert secret not in me.text
    assert secret not in str(me.headers)


def stored_api_key_values(live_server) -> str:
    """Everything the database holds that could contain a key: the SQLite files as text,
    or every column of every ``api_keys`` row in PostgreSQL."""
    if live_server.database_path is not None:
        path = live_server.database_path
        files = [path, *(path.with_name(path.name + s) for s in ("-wal", "-journal", "-shm"))]
        return "".join(f.read_bytes().decode("latin-1") for f in files if f.exists())
    assert live_server.database_url, "the harness exposes neither database_path nor _url"
    import psycopg

    url = re.sub(r"^postgresql\+\w+://", "postgresql://", live_server.database_url)
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT * FROM api_keys").fetchall()
    assert rows, "no api_keys rows: is this the server's database?"
    return "\n".join(repr(value) for row in rows for value in row)


def test_api_key_secret_is_stored_only_as_a_hash(live_server, admin):
    secret = create_api_key(admin)["key"]

    stored = stored_api_key_values(live_server)

    assert secret not in stored, "the API key is stored in clear"
    assert secret[-16:] not in stored, "the secret part of the API key is stored in clear"


def test_deleted_api_key_stops_working(live_server, admin):
    created = create_api_key(admin)
    bearer = {"Authorization": f"Bearer {created['key']}"}
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        before = client.get("/api/v1/auth/me", headers=bearer)
        deleted = admin.delete(f"/api/v1/auth/keys/{created['id']}")
        after = client.get("/api/v1/auth/me", headers=bearer)

    assert before.status_code == 200, before.text
    assert deleted.status_code in (200, 204), deleted.text
    assert_error(after, 401)


# --- sessions ----------------------------------------------------------------------------


def test_logout_ends_the_session(live_server):
    with login(live_server.url, live_server.admin_user, live_server.admin_password) as client:
        before = client.get("/api/v1/auth/me")
        logout = client.post("/api/v1/auth/logout")
        after = client.get("/api/v1/auth/me")

    assert before.status_code == 200, before.text
    assert logout.status_code in (200, 204), logout.text
    assert_error(after, 401)


def test_logout_invalidates_the_session_cookie_server_side(live_server):
    """A copy of the cookie taken before logout (a stolen one) must not work after it."""
    with login(live_server.url, live_server.admin_user, live_server.admin_password) as client:
        stolen = dict(client.cookies)
        assert stolen, "login set no cookie"
        assert client.post("/api/v1/auth/logout").status_code in (200, 204)

    with httpx.Client(base_url=live_server.url, timeout=60, cookies=stolen) as replay:
        response = replay.get("/api/v1/auth/me")

    assert_error(response, 401)
