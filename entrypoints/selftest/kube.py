"""The persistence check's Kubernetes side: delete the server's pods through the API, then
wait until as many new ones are Ready. The standard library and urllib3 only: the test pod
runs the Orchard image, which has no kubectl.

In a pod the defaults are Kubernetes' own: the API at ``KUBERNETES_SERVICE_HOST``, the
service-account token, CA and namespace under ``/var/run/secrets/kubernetes.io/``."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import urllib3

from entrypoints.selftest.client import SelftestFailure

ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def in_cluster_api() -> str:
    host, port = (
        os.environ.get("KUBERNETES_SERVICE_HOST"),
        os.environ.get("KUBERNETES_SERVICE_PORT", "443"),
    )
    return f"https://{host}:{port}" if host else ""


@dataclass
class PodRestarter:
    """Replaces the pods matching ``selector`` in ``namespace`` of the API at ``api``."""

    api: str
    selector: str
    token_file: Path = ACCOUNT / "token"
    ca_file: Path | None = ACCOUNT / "ca.crt"
    namespace: str = ""
    pool: urllib3.PoolManager = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.api:
            raise SelftestFailure("No Kubernetes API: not in a pod and no --kube-api given.")
        if not self.namespace:
            self.namespace = _read(ACCOUNT / "namespace", "the pod's namespace").strip()
        timeout = urllib3.Timeout(connect=10, read=60)
        if self.api.startswith("https"):
            ca_certs = str(self.ca_file) if self.ca_file else None
            self.pool = urllib3.PoolManager(timeout=timeout, retries=False, ca_certs=ca_certs)
        else:
            self.pool = urllib3.PoolManager(timeout=timeout, retries=False)

    def restart(self, timeout: float) -> int:
        """Delete every matching pod; return their number once as many new ones are Ready."""
        old = self._pods()
        if not old:
            raise SelftestFailure(f"No pod in {self.namespace} matches {self.selector}.")
        for pod in old:
            self._call("DELETE", f"{self._pods_path()}/{quote(pod['metadata']['name'])}")
        old_uids = {pod["metadata"]["uid"] for pod in old}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = [p for p in self._pods() if p["metadata"]["uid"] not in old_uids and _ready(p)]
            if len(ready) >= len(old):
                return len(old)
            time.sleep(2)
        raise SelftestFailure(
            f"{len(old)} pod(s) matching {self.selector} were deleted but not replaced by "
            f"Ready ones within {timeout:g} s."
        )

    def _pods(self) -> list[dict]:
        found = self._call("GET", f"{self._pods_path()}?labelSelector={quote(self.selector)}")
        return [p for p in found.get("items", []) if not p["metadata"].get("deletionTimestamp")]

    def _pods_path(self) -> str:
        return f"/api/v1/namespaces/{quote(self.namespace)}/pods"

    def _call(self, method: str, path: str) -> dict:
        token = _read(self.token_file, "the service-account token").strip()
        try:
            response = self.pool.request(
                method, f"{self.api}{path}", headers={"Authorization": f"Bearer {token}"}
            )
        except urllib3.exceptions.HTTPError as error:
            raise SelftestFailure(
                f"The Kubernetes API at {self.api} did not answer: {error}."
            ) from None
        if response.status not in (200, 202):
            said = _message(response.data) or response.reason
            raise SelftestFailure(f"The Kubernetes API refused {method} pods: {said}.")
        return json.loads(response.data or b"{}")


def _ready(pod: dict) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("message", ""))
    except ValueError:
        return ""


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text()
    except OSError:
        raise SelftestFailure(f"Cannot read {what} at {path}.") from None
