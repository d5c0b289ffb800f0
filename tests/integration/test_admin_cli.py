"""The operator's commands, run as the real ``orchard`` executable with a live server's
environment: admin users/keys/projects/members, fsck (and --repair), gc's grace period,
and export from one Orchard then import into a fresh one."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import (
    artifact_status,
    create_package,
    download_digest,
    ref_count,
    unique_content,
    unique_name,
    upload_test_file,
)
from tests.harness.live_server import build_server

pytestmark = pytest.mark.integration


def run(server, *args: str, status: int | None = 0) -> str:
    """Run ``orchard``; ``status=None`` accepts any exit status (fsck over a shared store)."""
    result = server.cli(*args)
    assert status is None or result.returncode == status, (
        f"orchard {args}: {result.stdout}\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr
    return result.stdout


def run_json(server, *args: str, status: int | None = 0) -> dict:
    return json.loads(run(server, *args, "--json", status=status))


@pytest.fixture
def project(live_server, admin_client):
    name = unique_name("ops")
    run(live_server, "admin", "projects", "create", name, "--description", "ops tests")
    create_package(admin_client, name, "pkg")
    yield name
    admin_client.delete(f"/api/v1/projects/{name}")


# ------------------------------------------------------------------ admin


def rows(table: str) -> list[list[str]]:
    """The first two columns of each line of a printed table (widths vary with content)."""
    return [line.split()[:2] for line in table.splitlines()]


def me(server, secret: str) -> int:
    headers = {"Authorization": f"Bearer {secret}"}
    return httpx.get(f"{server.url}/api/v1/auth/me", headers=headers, timeout=30).status_code


def test_users_and_their_keys_are_managed_from_the_console(live_server):
    user = unique_name("op")
    run(live_server, "admin", "users", "create", user, "--password", "first-password")
    assert user in run(live_server, "admin", "users", "list")
    run(live_server, "admin", "users", "set-admin", user)
    assert [user, "yes"] in rows(run(live_server, "admin", "users", "list"))
    run(live_server, "admin", "users", "set-password", user, "--password", "second-password")

    secret = run(live_server, "admin", "keys", "create", user, "--name", "ci").strip()
    assert me(live_server, secret) == 200
    listing = run(live_server, "admin", "keys", "list", user)
    key_id = next(line.split()[0] for line in listing.splitlines() if " ci " in line)
    run(live_server, "admin", "keys", "revoke", user, key_id, "--yes")
    assert me(live_server, secret) == 401

    run(live_server, "admin", "users", "delete", user, "--yes")
    assert user not in run(live_server, "admin", "users", "list")


def test_the_original_create_user_and_create_key_still_work(live_server):
    user = unique_name("legacy")
    run(live_server, "admin", "create-user", user, "--password", "a-long-password")
    assert me(live_server, run(live_server, "admin", "create-key", user).strip()) == 200


def test_projects_and_members_are_managed_from_the_console(live_server, admin_client):
    name, user = unique_name("ops"), unique_name("member")
    run(live_server, "admin", "projects", "create", name, "--private")
    assert httpx.get(f"{live_server.url}/api/v1/projects/{name}").status_code == 404
    run(live_server, "admin", "projects", "set-public", name)
    assert httpx.get(f"{live_server.url}/api/v1/projects/{name}").status_code == 200
    run(live_server, "admin", "projects", "set-private", name)
    assert [name, "private"] in rows(run(live_server, "admin", "projects", "list"))

    run(live_server, "admin", "users", "create", user, "--password", "member-password")
    run(live_server, "admin", "members", "set", name, user, "write")
    assert [user, "write"] in rows(run(live_server, "admin", "members", "list", name))
    run(live_server, "admin", "members", "remove", name, user)
    assert user not in run(live_server, "admin", "members", "list", name)

    run(live_server, "admin", "projects", "delete", name, "--yes")
    assert admin_client.get(f"/api/v1/projects/{name}").status_code == 404


@pytest.mark.parametrize(
    "args",
    [
        ("admin", "users", "delete", "nobody-at-all", "--yes"),
        ("admin", "keys", "revoke", "nobody-at-all", "1", "--yes"),
        ("admin", "members", "set", "no-such-project", "admin", "read"),
        ("admin", "users", "create", "bad name!", "--password", "a-long-password"),
        ("export", "no-such-project", "--output", "/tmp/never-written.tar"),
    ],
)
def test_errors_are_one_sentence_and_a_non_zero_exit(live_server, args):
    result = live_server.cli(*args)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    assert not Path("/tmp/never-written.tar").exists()


# ------------------------------------------------------------------ fsck


def set_ref_count_in_database(server, sha256: str, count: int) -> None:
    """Alter the count behind Orchard's back, as a bug or a hand-edit would."""
    if server.database_path is not None:
        with sqlite3.connect(server.database_path) as connection:
            connection.execute("UPDATE artifacts SET ref_count = ? WHERE id = ?", (count, sha256))
        return
    import psycopg

    url = server.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("UPDATE artifacts SET ref_count = %s WHERE id = %s", (count, sha256))


def blob_path(server, sha256: str) -> Path:
    if server.env["ORCHARD_BLOB_STORE"] != "filesystem":
        pytest.skip("corrupts blobs on disk: filesystem blob store only")
    return Path(server.blob_store().local_path(sha256))


def test_fsck_finds_each_problem_and_repair_fixes_what_it_can(live_server, admin_client, project):
    contents = {label: unique_content(label) for label in ("corrupt", "missing", "drifted")}
    corrupt, missing, drifted = (
        upload_test_file(admin_client, project, "pkg", content, f"{label}.bin")["artifact_id"]
        for label, content in contents.items()
    )
    rotten = blob_path(live_server, corrupt)
    rotten.write_bytes(b"X" + contents["corrupt"][1:])
    os.unlink(blob_path(live_server, missing))
    set_ref_count_in_database(live_server, drifted, 5)

    found = run_json(live_server, "fsck", status=1)
    assert corrupt in found["corrupt"] and missing in found["missing"]
    assert {"artifact_id": drifted, "recorded": 5, "actual": 1} in found["drift"]

    repaired = run_json(live_server, "fsck", "--repair", status=1)  # missing bytes stay lost
    assert corrupt in repaired["quarantined"] and drifted in repaired["recounted"]
    assert ref_count(admin_client, drifted) == 1
    assert not live_server.blob_exists(corrupt)
    quarantined = live_server.data_dir / "blobs" / ".quarantine" / corrupt
    assert quarantined.read_bytes() == b"X" + contents["corrupt"][1:]

    for label in ("corrupt", "missing"):  # uploading the lost bytes again heals the store
        upload_test_file(admin_client, project, "pkg", contents[label], f"{label}-again.bin")
    after = run_json(live_server, "fsck", status=None)
    assert not {corrupt, missing} & set(after["missing"] + after["corrupt"])
    assert drifted not in [d["artifact_id"] for d in after["drift"]]


def test_fsck_text_output_names_the_problems(live_server, admin_client, project):
    sha = upload_test_file(admin_client, project, "pkg", unique_content())["artifact_id"]
    set_ref_count_in_database(live_server, sha, 9)
    found = live_server.cli("fsck")
    assert found.returncode == 1
    assert f"reference count drift: {sha} records 9, uploads hold 1" in found.stdout
    assert f"recounted: {sha}" in run(live_server, "fsck", "--repair", status=None)
    assert ref_count(admin_client, sha) == 1


# ------------------------------------------------------------------ gc


def test_gc_frees_an_unreferenced_blob_only_after_the_grace_period(
    live_server, admin_client, project
):
    content = unique_content("garbage")
    sha = upload_test_file(admin_client, project, "pkg", content)["artifact_id"]
    response = admin_client.delete(f"/api/v1/project/{project}/pkg/artifacts/{sha}")
    assert response.status_code in (200, 204), response.text

    dry = run_json(live_server, "gc", "--grace", "0")
    assert dry["dry_run"] and sha in dry["artifact_ids"] and live_server.blob_exists(sha)
    kept = run_json(live_server, "gc", "--apply", "--grace", "3600")
    assert sha not in kept["artifact_ids"] and live_server.blob_exists(sha)

    time.sleep(1.5)
    freed = run_json(live_server, "gc", "--apply", "--grace", "1")
    assert sha in freed["artifact_ids"] and freed["bytes"] >= len(content)
    assert not live_server.blob_exists(sha)
    assert artifact_status(admin_client, sha) == 404
    assert "Freed" in run(live_server, "gc", "--apply", "--grace", "1")


# ------------------------------------------------------------------ export / import


def package_state(client: httpx.Client, project: str, package: str) -> dict:
    base = f"/api/v1/project/{project}/{package}"
    tags = client.get(f"{base}/tags").json()["items"]
    versions = client.get(f"{base}/versions").json()["items"]
    history = {
        t["name"]: [
            (c.get("old_artifact_id"), c.get("new_artifact_id"))
            for c in _items(client.get(f"{base}/tags/{t['name']}/history").json())
        ]
        for t in tags
    }
    downloads = {
        ref: download_digest(client, f"{base}/+/{ref}")
        for ref in [f"tag:{t['name']}" for t in tags]
        + [f"version:{v['version']}" for v in versions]
    }
    return {
        "tags": {t["name"]: t["artifact_id"] for t in tags},
        "versions": {v["version"]: (v["artifact_id"], v["version_source"]) for v in versions},
        "history": history,
        "downloads": downloads,
    }


def _items(body):
    return body["items"] if isinstance(body, dict) else body


@pytest.fixture
def fresh_server(live_server, tmp_path_factory, request):
    """A second, empty Orchard of the same configuration."""
    server = build_server(live_server.config_name, tmp_path_factory.mktemp("fresh"), request)
    if server.s3 is not None:
        server.env["ORCHARD_S3_BUCKET"] = server.s3.make_bucket()
    server.start()
    yield server
    server.stop()


def test_an_export_imports_into_a_fresh_orchard_serving_the_same_bytes_tags_and_versions(
    live_server, admin_client, project, fresh_server, tmp_path
):
    first = unique_content("v1")
    upload_test_file(admin_client, project, "pkg", first, "app-1.0.bin", tag="latest")
    upload_test_file(
        admin_client,
        project,
        "pkg",
        unique_content("v2"),
        "app-2.0.0.tar.gz",
        tag="latest",
        version="2.0.0",
    )
    upload_test_file(admin_client, project, "pkg", first, "copy.bin", tag="stable")
    archive = tmp_path / "backup.tar"

    exported = run_json(live_server, "export", project, "--output", str(archive))
    assert exported["packages"] == 1 and exported["uploads"] == 3 and exported["artifacts"] == 2
    imported = run_json(fresh_server, "import", str(archive))
    assert imported["packages"] == ["pkg"] and imported["uploads"] == 3

    with httpx.Client(base_url=fresh_server.url, timeout=60) as fresh:
        login = {"username": fresh_server.admin_user, "password": fresh_server.admin_password}
        assert fresh.post("/api/v1/auth/login", json=login).status_code == 200
        assert package_state(fresh, project, "pkg") == package_state(admin_client, project, "pkg")
        assert ref_count(fresh, exported_sha(admin_client, project)) == 2

    again = fresh_server.cli("import", str(archive))
    assert again.returncode == 1 and "already exists" in again.stderr


def exported_sha(client, project: str) -> str:
    return client.get(f"/api/v1/project/{project}/pkg/tags/stable").json()["artifact_id"]
