"""``orchard selftest`` against a live Orchard: it passes on a working server (every shape),
and each way a server can be broken fails the right check, with one sentence, exit 1 and
no password in sight."""

from __future__ import annotations

import subprocess
import uuid

import httpx
import pytest

from tests.harness.live_server import ORCHARD, selected_configs
from tests.integration.selftest.servers import CorruptingProxy, PodApi

PASSWORD_ENV = "ORCHARD_SELFTEST_PASSWORD"
# A failure is the command's logic, the same on every shape: one shape proves it.
one_shape = pytest.mark.parametrize("live_server", selected_configs()[:1], indirect=True)


def selftest(
    server, *args: str, password: str | None = None, url: str | None = None, user: str = "",
    env: dict[str, str] | None = None,
):  # fmt: skip
    """Run the command as an operator would: the password in the environment only."""
    env = {
        **server.env, **(env or {}),
        PASSWORD_ENV: server.admin_password if password is None else password,
    }  # fmt: skip
    argv = [
        ORCHARD,
        "selftest",
        "--url",
        url or server.url,
        "--username",
        user or server.admin_user,
    ]
    return subprocess.run(
        [*argv, *args], env=env, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def assert_failed_once(done: subprocess.CompletedProcess, check: str, *words: str) -> str:
    """Exit 1, exactly one line on stderr naming the check, no traceback."""
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"FAIL {check}: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    return lines[0]


def package_name() -> str:
    return f"selftest-{uuid.uuid4().hex[:8]}"


# One shape: tests/integration/chart/ runs every check again, as the chart's hooks, on the
# embedded and the scale-out shape (persistence and the bucket lookup included).
@one_shape
def test_every_check_passes_on_a_working_server(live_server):
    name = package_name()
    done = selftest(live_server, "--package", name, "--verify-blob-store")
    assert done.returncode == 0, done.stdout + done.stderr
    checks = [line.split(":", 1)[0] for line in done.stdout.splitlines()]
    assert checks == [
        "ok   connection", "ok   simple-index", "ok   storage", "ok   upload", "ok   download",
        "ok   multiple-versions", "ok   concurrent", "ok   auth",
    ]  # fmt: skip
    assert "Uploads: none 401, wrong 401, right 200" in done.stdout
    assert f"blob is in the {live_server.env['ORCHARD_BLOB_STORE']} blob store" in done.stdout
    assert live_server.admin_password not in done.stdout + done.stderr
    page = httpx.get(f"{live_server.url}/simple/{name}/").text
    assert f"{name.replace('-', '_')}-2.0.0-py3-none-any.whl" in page


@one_shape
def test_a_second_run_uploads_the_same_bytes_and_passes_again(live_server):
    # helm test may run twice on one release: identical files again are a 200, not a 409.
    name = package_name()
    for _ in range(2):
        done = selftest(live_server, "--check", "upload", "--check", "download", "--package", name)
        assert done.returncode == 0, done.stdout + done.stderr


@one_shape
def test_wrong_credentials_fail_the_upload_check(live_server):
    # An unknown user: failing as the shared admin would count towards its lockout.
    done = selftest(
        live_server, "--check", "upload", "--package", package_name(), password="not-it-123",
        user=f"nobody{uuid.uuid4().hex[:6]}",
    )  # fmt: skip
    line = assert_failed_once(done, "upload", "refused the upload", "401")
    assert "not-it-123" not in line


@one_shape
def test_a_user_who_may_only_read_fails_the_upload_check(live_server, admin_client):
    user, password = f"reader{uuid.uuid4().hex[:6]}", "reader-password-123"
    made = admin_client.post("/api/v1/users", json={"username": user, "password": password})
    assert made.status_code in (200, 201), made.text
    env = {**live_server.env, PASSWORD_ENV: password}
    done = subprocess.run(
        [ORCHARD, "selftest", "--url", live_server.url, "--username", user, "--check", "upload",
         "--package", package_name()],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert_failed_once(done, "upload", "refused the upload", "403")


@one_shape
def test_a_server_serving_wrong_bytes_fails_the_download_check(live_server):
    name = package_name()
    uploaded = selftest(live_server, "--check", "upload", "--package", name)
    assert uploaded.returncode == 0, uploaded.stderr
    with CorruptingProxy(live_server.url) as proxy:
        done = selftest(live_server, "--check", "download", "--package", name, url=proxy.url)
    assert proxy.corrupted  # the proxy did serve the files it altered
    assert_failed_once(done, "download", "served wrong bytes", f"{name.replace('-', '_')}-1.0.0")


@one_shape
def test_wrong_bytes_fail_the_concurrent_check_from_its_threads(live_server):
    with CorruptingProxy(live_server.url) as proxy:
        done = selftest(live_server, "--check", "concurrent", "--package", package_name(),
                        url=proxy.url)  # fmt: skip
    assert_failed_once(done, "concurrent", "served wrong bytes", "_parallel_")


@pytest.mark.parametrize("live_server", ["sqlite-fs"], indirect=True)
def test_a_blob_missing_from_the_configured_store_fails_the_storage_check(live_server, tmp_path):
    # The pod's settings name another data directory than the server's: the API's 200 is
    # not taken for the blob being where the settings say.
    elsewhere = {"ORCHARD_DATA_DIR": str(tmp_path)}
    done = selftest(live_server, "--check", "storage", "--verify-blob-store", env=elsewhere)
    assert_failed_once(done, "storage", "is not in the filesystem blob store")


@one_shape
def test_a_package_never_uploaded_fails_the_download_check(live_server):
    done = selftest(live_server, "--check", "download", "--package", package_name())
    assert_failed_once(done, "download", "run the upload check first")


@one_shape
def test_a_version_that_is_not_pep_440_is_a_usage_error(live_server):
    done = selftest(live_server, "--check", "upload", "--versions", "1.0,next")
    assert done.returncode == 2
    assert "'next' is not a PEP 440 version." in done.stderr
    assert "Traceback" not in done.stderr


@one_shape
def test_an_unreachable_server_fails_the_connection_check(live_server):
    done = selftest(
        live_server, "--check", "connection", "--timeout", "0", url="http://127.0.0.1:9"
    )
    assert_failed_once(done, "connection", "did not answer")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), ["--pod-selector"]),
        (("--pod-selector", "app=orchard", "--kube-api", ""), ["Kubernetes API"]),
    ],
)
@one_shape
def test_persistence_without_the_kubernetes_api_says_what_is_missing(live_server, args, words):
    env_args = ("--check", "persistence", "--kube-namespace", "x", *args)
    done = selftest(live_server, *env_args)
    assert_failed_once(done, "persistence", *words)


@one_shape
def test_the_kubernetes_api_refusing_the_token_fails_persistence(live_server, tmp_path):
    token = tmp_path / "token"
    token.write_text("right-token")
    wrong = tmp_path / "wrong"
    wrong.write_text("wrong-token")
    with PodApi(live_server, token, "ns", {"app": "orchard"}) as api:
        done = selftest(
            live_server, "--check", "persistence", "--pod-selector", "app=orchard",
            "--kube-api", api.url, "--kube-token-file", str(wrong), "--kube-namespace", "ns",
            "--package", package_name(),  # the seed plan's tests upload the default name
        )  # fmt: skip
    assert_failed_once(done, "persistence", "refused", "Unauthorized")
    assert api.deleted == 0
