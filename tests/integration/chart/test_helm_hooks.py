"""Every ``helm test`` hook of the chart, as rendered, run against a live Orchard in both
shapes: SQLite + files with the default values, PostgreSQL + S3 with
``ci/scale-out-values.yaml``. No cluster runs here, so the hook's container is run as a
process: its command, arguments and environment are read from the rendered Pod, with what
the cluster would provide substituted (the Service URL, the Secrets' values, /tmp, and for
the persistence hook the Kubernetes API and the mounted service-account token, answered by
a stand-in that restarts the live server as a replaced pod)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.harness.live_server import LiveServer
from tests.helm_chart import NAMESPACE, find, hook_pods, manifests, server, values_of
from tests.integration.selftest.servers import PodApi

SHAPES = {"sqlite-fs": "default", "postgres-s3": "scale-out"}
both_shapes = pytest.mark.parametrize("live_server", list(SHAPES), indirect=True)
SERVICE_URL = f"http://orchard.{NAMESPACE}.svc:8080"
BIN = str(Path(sys.executable).parent)  # where the image has `orchard` on its PATH


def values_for(live_server: LiveServer) -> dict:
    """The shape's values file, aimed at the harness' bucket, with a package of its own."""
    values = values_of(SHAPES[live_server.config_name])
    values["tests"] = {"package": f"helm-hooks-{uuid.uuid4().hex[:8]}"}
    if "s3" in live_server.config_name:
        s3 = values["blobStore"]["s3"]
        s3["endpoint"] = live_server.env["ORCHARD_S3_ENDPOINT"]
        s3["bucket"] = live_server.env["ORCHARD_S3_BUCKET"]
        s3["region"] = live_server.env["ORCHARD_S3_REGION"]
    return values


def secrets_for(values: dict, live_server: LiveServer, password: str | None = None) -> dict:
    """The Secrets the cluster would hold: name → key → value."""
    env = live_server.env
    secrets = {
        values.get("auth", {}).get("existingSecret") or "orchard-auth": {
            "admin-password": password or live_server.admin_password,
            "secret-key": env["ORCHARD_SECRET_KEY"],
        }
    }
    if name := values.get("database", {}).get("existingSecret"):
        secrets[name] = {"database-url": live_server.database_url}
    if name := values.get("blobStore", {}).get("s3", {}).get("existingSecret"):
        secrets[name] = {
            "access-key": env["ORCHARD_S3_ACCESS_KEY"],
            "secret-key": env["ORCHARD_S3_SECRET_KEY"],
        }
    return secrets


def run_hook(hook: dict, live_server, secrets: dict, tmp: Path, **provided: str):
    """The hook's container as a process: rendered command, args and env, with the
    cluster's parts substituted. Nothing else of this process' environment leaks in."""
    (container,) = hook["spec"]["containers"]
    env = {"PATH": f"{BIN}:/usr/bin:/bin"}
    for var in container["env"]:
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = secrets[ref["name"]][ref["key"]]
    assert env["ORCHARD_SELFTEST_URL"] == SERVICE_URL
    assert env["HOME"] == env["TMPDIR"] == "/tmp"  # the pod's emptyDir
    env.update(ORCHARD_SELFTEST_URL=live_server.url, HOME=str(tmp), TMPDIR=str(tmp), **provided)
    return subprocess.run(
        [*container["command"], *container["args"]], env=env, capture_output=True, text=True,
        timeout=600, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def kubernetes_provides(tmp: Path, api: PodApi) -> dict:
    """In a pod: the API server's address and the mounted token and namespace."""
    return {
        "ORCHARD_SELFTEST_KUBE_API": api.url,
        "ORCHARD_SELFTEST_KUBE_TOKEN_FILE": str(tmp / "token"),
        "ORCHARD_SELFTEST_KUBE_NAMESPACE": NAMESPACE,
    }


@both_shapes
def test_every_hook_passes_in_helm_test_order(live_server, tmp_path):
    values = values_for(live_server)
    objects = manifests(values)
    secrets = secrets_for(values, live_server)
    (tmp_path / "token").write_text("token-of-orchard-test\n")
    labels = server(objects)["spec"]["template"]["metadata"]["labels"]
    ran, said = [], []
    with PodApi(live_server, tmp_path / "token", NAMESPACE, labels) as api:
        for hook in hook_pods(objects):
            check = hook["spec"]["containers"][0]["args"][1]
            provided = kubernetes_provides(tmp_path, api) if check == "persistence" else {}
            done = run_hook(hook, live_server, secrets, tmp_path, **provided)
            assert done.returncode == 0, f"{hook['metadata']['name']}: {done.stdout}{done.stderr}"
            assert done.stdout.startswith(f"ok   {check}: "), done.stdout
            ran.append(check)
            said.append(done.stdout + done.stderr)
    assert api.deleted == 1  # the persistence hook replaced the server pod
    storage = said[ran.index("storage")]
    if "s3" in live_server.config_name:  # found in the bucket itself
        assert "the blob is in the s3 blob store" in storage
    else:  # the test pod cannot mount the server's ReadWriteOnce volume: the API's word
        assert "blob is in" not in storage
    assert ran == [
        "connection", "simple-index", "storage", "upload", "download", "multiple-versions",
        "concurrent", "persistence", "auth",
    ]  # fmt: skip
    assert live_server.admin_password not in "".join(said)


@pytest.mark.parametrize("live_server", ["sqlite-fs"], indirect=True)
def test_a_hook_fails_loudly_when_the_server_refuses_its_credentials(live_server, tmp_path):
    values = values_for(live_server)
    # A user that does not exist: a wrong password for the shared admin would count
    # towards its lockout (login throttling) in the tests that follow.
    values["auth"] = {**values.get("auth", {}), "adminUser": f"gone{uuid.uuid4().hex[:6]}"}
    (hook,) = find(manifests(values), "Pod", "orchard-test-upload")
    secrets = secrets_for(values, live_server, password="a-stale-secret-value")
    done = run_hook(hook, live_server, secrets, tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("FAIL upload: The server refused the upload of ")
    assert "401" in done.stderr and "a-stale-secret-value" not in done.stderr
