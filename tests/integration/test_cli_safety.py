"""Commands that destroy ask first (or take --yes, and refuse without a terminal), and
nobody, on the console or through the API, removes the last administrator.

A fresh embedded Orchard of its own, so that "the last administrator" is known."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import create_api_key, create_project, create_user, login, unique_name
from tests.harness.live_server import ORCHARD, build_server
from tests.harness.terminal import run_on_terminal

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    server = build_server("sqlite-fs", tmp_path_factory.mktemp("safety"), request)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server):
    with login(server.url, server.admin_user, server.admin_password) as client:
        yield client


def on_a_terminal(server, *args: str, answer: str) -> tuple[int, str]:
    return run_on_terminal([ORCHARD, *args], server.env, prompt=b"[y/N]", answer=answer)


def new_project(admin) -> str:
    name = unique_name("safe")
    create_project(admin, name)
    return name


def project_exists(admin, name: str) -> bool:
    return admin.get(f"/api/v1/projects/{name}").status_code == 200


@pytest.mark.parametrize(
    "command",
    [
        ("admin", "projects", "delete", "{project}"),
        ("admin", "users", "delete", "{user}"),
        ("admin", "keys", "revoke", "{user}", "{key}"),
        ("pypi", "delete", "{project}", "pkg", "--version", "1.0"),
    ],
    ids=lambda c: " ".join(c[:3]),
)
def test_without_a_terminal_a_destructive_command_refuses_without_yes(server, admin, command):
    project, user = new_project(admin), unique_name("keep")
    create_user(admin, user, "a-long-password")
    with login(server.url, user, "a-long-password") as client:
        key = create_api_key(client)
    args = [a.format(project=project, user=user, key=key["id"]) for a in command]
    result = server.cli(*args)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: Not confirmed: standard input is not a terminal, so pass --yes to go ahead."
    )
    assert project_exists(admin, project)
    assert (
        httpx.get(
            f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {key['key']}"}
        ).status_code
        == 200
    )


def test_with_yes_a_project_is_deleted_at_once(server, admin):
    project = new_project(admin)
    result = server.cli("admin", "projects", "delete", project, "--yes")
    assert result.returncode == 0, result.stderr
    assert not project_exists(admin, project)


def test_on_a_terminal_no_keeps_the_project_and_yes_deletes_it(server, admin):
    project = new_project(admin)
    status, output = on_a_terminal(server, "admin", "projects", "delete", project, answer="n")
    assert f"Delete project '{project}' and everything in it? [y/N]" in output
    assert status == 1 and "Aborted" in output
    assert project_exists(admin, project)
    status, output = on_a_terminal(server, "admin", "projects", "delete", project, answer="y")
    assert status == 0, output
    assert f"Deleted project '{project}'." in output
    assert not project_exists(admin, project)


def test_the_console_cannot_demote_or_delete_the_last_administrator(server):
    demoted = server.cli("admin", "users", "set-admin", server.admin_user, "--revoke")
    assert demoted.returncode == 1
    assert demoted.stderr.strip() == (
        f"Error: '{server.admin_user}' is the last administrator: make another user an "
        "administrator first."
    )
    deleted = server.cli("admin", "users", "delete", server.admin_user, "--yes")
    assert deleted.returncode == 1 and "last administrator" in deleted.stderr
    listed = server.cli("admin", "users", "list").stdout
    assert [server.admin_user, "yes"] in [line.split()[:2] for line in listed.splitlines()]


def test_the_api_refuses_to_delete_the_last_administrator_and_allows_one_of_two(server, admin):
    alone = admin.delete(f"/api/v1/users/{server.admin_user}")
    assert alone.status_code == 400
    assert alone.json()["detail"] == "You cannot delete your own account."
    second = unique_name("root")
    create_user(admin, second, "a-long-password", is_admin=True)
    # With two administrators either may be demoted or deleted.
    assert server.cli("admin", "users", "set-admin", second, "--revoke").returncode == 0
    assert server.cli("admin", "users", "set-admin", second).returncode == 0
    assert admin.delete(f"/api/v1/users/{second}").status_code == 204
    refused = server.cli("admin", "users", "delete", server.admin_user, "--yes")
    assert "last administrator" in refused.stderr
