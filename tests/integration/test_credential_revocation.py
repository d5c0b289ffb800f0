"""A credential counts only while the database says it is valid, on every worker of
every instance: two Orchard instances (separate gunicorn processes, two workers each)
share one database, on SQLite and on PostgreSQL. Each credential is used many times,
on fresh connections and concurrently, through both instances (enough to reach every
worker) before it is revoked and after.

Failed logins are throttled with counts shared by all of those workers.

The servers trust 127.0.0.1 as a proxy, so each request names its client address in
``X-Forwarded-For``: the revocation checks give every request its own address (their
many failures must not be throttled), the throttling checks pick theirs.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.factories import create_project, create_user, login, set_member
from tests.harness.live_server import LiveServer, server_env
from tests.integration.pypi import clients
from tests.integration.pypi.distributions import write_wheel

pytestmark = [pytest.mark.concurrent]
WORKERS = 2
ROUNDS, CONCURRENT = 2, 12  # per instance: 24 requests on fresh connections, 12 at once
_serial = itertools.count(1)  # next() on a count is atomic: the threads share it


def _address() -> str:
    n = next(_serial)
    return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def pair(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[list[LiveServer]]:
    shared = tmp_path_factory.mktemp(f"shared-{request.param}")
    if request.param == "sqlite":
        database_url = f"sqlite:///{shared / 'orchard.db'}"
    else:
        from tests.harness.postgres import fresh_database

        database_url = fresh_database(request.getfixturevalue("postgres_server_url"))
    extra = {
        "ORCHARD_SECRET_KEY": "shared-secret",
        "ORCHARD_BLOB_DIR": str(shared / "blobs"),
        "ORCHARD_TRUSTED_PROXIES": "127.0.0.1",
    }
    servers = []
    for name in ("instance-a", "instance-b"):
        data_dir = tmp_path_factory.mktemp(f"{request.param}-{name}")
        env = server_env(
            data_dir,
            database_url=database_url,
            blob_store="filesystem",
            workers=WORKERS,
            max_upload_size=1024 * 1024,
            extra=extra,
        )
        servers.append(LiveServer(name, env, data_dir, WORKERS, 1024 * 1024, database_url, None))
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(LiveServer.start, servers))
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
def admin(pair: list[LiveServer]) -> Iterator[httpx.Client]:
    with login(pair[0].url, pair[0].admin_user, pair[0].admin_password) as client:
        yield client


def statuses(pair: list[LiveServer], method: str, path: str, **kw) -> set[int]:
    """The statuses of the request sent many times through both instances, each on a
    new connection from its own client address (unless ``headers`` names one)."""
    fixed = kw.pop("headers", {})

    def send(url: str) -> int:
        headers = {"X-Forwarded-For": _address(), **fixed}
        return httpx.request(method, url + path, headers=headers, timeout=60, **kw).status_code

    urls = [server.url for server in pair for _ in range(ROUNDS * CONCURRENT)]
    with ThreadPoolExecutor(CONCURRENT) as pool:
        return set(pool.map(send, urls))


def new_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_a_deleted_admins_password_stops_everywhere_and_never_names_the_next_user(pair, admin):
    name, password = new_name("gone"), "gone-password-1"
    create_user(admin, name, password, is_admin=True)
    assert statuses(pair, "GET", "/api/v1/auth/me", auth=(name, password)) == {200}
    assert admin.delete(f"/api/v1/users/{name}").status_code == 204
    assert statuses(pair, "GET", "/api/v1/auth/me", auth=(name, password)) == {401}
    # The next user created (SQLite used to give it the deleted user's id) is not
    # reachable with the deleted user's password, and the deleted admin creates nothing.
    create_user(admin, new_name("next"), "next-password-1")
    assert statuses(pair, "GET", "/api/v1/auth/me", auth=(name, password)) == {401}
    body = {"username": new_name("made"), "password": "made-password-1", "is_admin": True}
    assert statuses(pair, "POST", "/api/v1/users", json=body, auth=(name, password)) == {401}


def test_a_changed_password_and_a_revoked_admin_flag_count_at_once(pair, admin):
    name, old, new = new_name("changed"), "old-password-1", "new-password-1"
    create_user(admin, name, old, is_admin=True)
    assert statuses(pair, "GET", "/api/v1/users", auth=(name, old)) == {200}
    done = pair[1].cli("admin", "users", "set-password", name, "--password", new)
    assert done.returncode == 0, done.stderr
    assert statuses(pair, "GET", "/api/v1/users", auth=(name, old)) == {401}
    assert statuses(pair, "GET", "/api/v1/users", auth=(name, new)) == {200}
    done = pair[1].cli("admin", "users", "set-admin", name, "--revoke")
    assert done.returncode == 0, done.stderr
    assert statuses(pair, "GET", "/api/v1/users", auth=(name, new)) == {403}


def test_keys_sessions_and_roles_are_read_fresh_everywhere(pair, admin):
    name, password = new_name("member"), "member-password-1"
    create_user(admin, name, password)
    project = new_name("private")
    create_project(admin, project, is_public=False)
    assert set_member(admin, project, name, "read").status_code == 200
    with login(pair[0].url, name, password) as member:
        key = member.post("/api/v1/auth/keys", json={"name": "k"}).json()
        cookies = dict(member.cookies)
    bearer = {"headers": {"Authorization": f"Bearer {key['key']}"}}
    assert statuses(pair, "GET", f"/api/v1/projects/{project}", **bearer) == {200}
    assert statuses(pair, "GET", f"/api/v1/projects/{project}", cookies=cookies) == {200}
    assert admin.delete(f"/api/v1/projects/{project}/members/{name}").status_code in (200, 204)
    assert statuses(pair, "GET", f"/api/v1/projects/{project}", **bearer) == {404}
    with login(pair[0].url, name, password) as member:
        assert member.delete(f"/api/v1/auth/keys/{key['id']}").status_code == 204
    assert statuses(pair, "GET", "/api/v1/auth/me", **bearer) == {401}
    assert admin.delete(f"/api/v1/users/{name}").status_code == 204
    assert statuses(pair, "GET", "/api/v1/auth/me", cookies=cookies) == {401}


def test_failed_logins_are_counted_by_every_worker_of_every_instance_together(pair, admin):
    name, password = new_name("guessed"), "guessed-password-1"
    create_user(admin, name, password)
    attacker = {"X-Forwarded-For": "192.0.2.66"}
    for server in pair * 2 + pair[:1]:  # five failures, through both instances
        with httpx.Client(base_url=server.url, headers=attacker, timeout=60) as fresh:
            response = fresh.get("/api/v1/auth/me", auth=(name, "wrong-guess"))
            assert response.status_code == 401
    refusals = statuses(pair, "GET", "/api/v1/auth/me", auth=(name, password), headers=attacker)
    assert refusals == {429}
    refused = httpx.post(
        f"{pair[1].url}/api/v1/auth/login",
        json={"username": name, "password": password},
        headers=attacker,
    )
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    assert "Too many failed logins" in refused.json()["detail"]
    # The real user, from anywhere else, is not locked out.
    assert statuses(pair, "GET", "/api/v1/auth/me", auth=(name, password)) == {200}
    assert any("throttled a login" in server.log_text() for server in pair)


def test_twine_prints_why_its_upload_is_throttled(pair, admin, tmp_path):
    name, password = new_name("twiner"), "twiner-password-1"
    create_user(admin, name, password)
    for _ in range(5):  # from 127.0.0.1 itself: no X-Forwarded-For
        assert httpx.post(f"{pair[0].url}/", auth=(name, "wrong-guess")).status_code == 401
    wheel = write_wheel(tmp_path, "orchard-throttled", "1.0.0")
    env = clients.client_env(tmp_path / "home")
    done = clients.twine_upload(env, f"{pair[1].url}/", [wheel], name, password)
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0
    assert "429" in output and "Too many failed logins" in output, output
