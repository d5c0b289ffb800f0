"""The checks of ``orchard selftest``, one per item of the functional test plan (seed 002).

Each check returns one sentence saying what it proved, or raises ``SelftestFailure`` with
one sentence saying what failed. Checks that read (download, persistence) compare what the
server serves with the bytes built here, so a server that stores or serves wrong bytes
fails even when it lists the right hashes."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from packaging.version import Version

from entrypoints.selftest import storage
from entrypoints.selftest.client import SelftestFailure
from entrypoints.selftest.concurrency import check_concurrent
from entrypoints.selftest.plan import Plan
from entrypoints.selftest.steps import (
    HTML,
    install_and_import,
    listed,
    served_intact,
    upload,
    wait_ready,
)


def check_connection(plan: Plan) -> str:
    """``/health`` answers 200 with JSON (retried until ``timeout``: a pod may be starting)."""
    deadline, last = time.monotonic() + plan.timeout, "no answer"
    while True:
        try:
            reply = plan.server.request("GET", "/health")
            if reply.status == 200 and "status" in reply.json():
                checks = reply.json().get("checks", {})
                said = ", ".join(f"{k} {v}" for k, v in checks.items())
                return f"Orchard answers at {plan.server.url} ({said or 'no backend report'})."
            last = f"/health answered {reply.status} {reply.reason}"
        except SelftestFailure as failure:
            last = str(failure).rstrip(".")
        if time.monotonic() >= deadline:
            raise SelftestFailure(
                f"Orchard at {plan.server.url} did not answer within {plan.timeout:g} s: {last}."
            )
        time.sleep(1)


def check_simple_index(plan: Plan) -> str:
    """The root ``/simple/`` and the project's index are PEP 503 HTML pages."""
    for url in (f"{plan.server.url}/simple/", plan.server.index_url):
        reply = plan.server.request("GET", url, headers=HTML)
        if reply.status != 200:
            raise SelftestFailure(f"{url} answered {reply.status}: {reply.detail}.")
        if not reply.headers.get("Content-Type", "").startswith("text/html"):
            raise SelftestFailure(f"{url} is not HTML: {reply.headers.get('Content-Type')}.")
        if b'name="pypi:repository-version"' not in reply.body:
            raise SelftestFailure(f"{url} is not a simple index page (no repository-version).")
    return f"{plan.server.url}/simple/ and {plan.server.index_url} serve the index as HTML."


def check_storage(plan: Plan) -> str:
    """Bytes written through the API read back identical; ``/ready`` reports the store."""
    said = storage.round_trip(plan.server, verify_blob_store=plan.verify_blob_store)
    reply = plan.server.request("GET", "/ready")
    blob_store = reply.json().get("checks", {}).get("blob_store")
    if reply.status != 200 or blob_store != "ok":
        raise SelftestFailure(
            f"/ready answered {reply.status} with blob store {blob_store!r}, not 200 and 'ok'."
        )
    return f"{said} /ready reports the blob store ok."


def check_upload(plan: Plan) -> str:
    """The sdist and the wheel upload, and the index lists both with their hashes."""
    dist = plan.dist()
    upload(plan.server, dist)
    listed(plan.server, dist)
    return f"Uploaded {dist.sdist.filename} and {dist.wheel.filename}; the index lists both."


def check_download(plan: Plan) -> str:
    """The files serve the uploaded bytes, and pip installs a module of the right version."""
    dist = plan.dist()
    served_intact(plan.server, dist)
    installed = install_and_import(plan, f"{dist.name}=={dist.version}", dist.module)
    if installed != dist.version:
        raise SelftestFailure(
            f"pip installed {dist.name}=={dist.version} but {dist.module}.__version__ is "
            f"{installed!r}."
        )
    return f"pip installed {dist.name}=={dist.version}; import {dist.module} gives {installed}."


def check_multiple_versions(plan: Plan) -> str:
    """Every version uploads and is listed; pip installs a pinned one and the latest."""
    if len(plan.versions) < 2:
        raise SelftestFailure("The multiple-versions check needs at least two versions.")
    ordered = sorted(plan.versions, key=Version)
    dists = [plan.dist(v) for v in ordered]
    for dist in dists:
        upload(plan.server, dist)
    for dist in dists:
        listed(plan.server, dist)
    pinned, latest = dists[-2], dists[-1]
    module = pinned.module
    got = install_and_import(plan, f"{pinned.name}=={pinned.version}", module)
    if got != pinned.version:
        raise SelftestFailure(f"pip install {pinned.name}=={pinned.version} gave {got}.")
    got = install_and_import(plan, pinned.name, module)
    if got != latest.version:
        raise SelftestFailure(
            f"pip install {pinned.name} gave {got}, not the latest version {latest.version}."
        )
    listed_versions = ", ".join(d.version for d in dists)
    return f"{listed_versions} listed; the pin installs {pinned.version}, no pin {latest.version}."


def check_persistence(plan: Plan) -> str:
    """Upload, replace the server's pods, then the package is still listed and installs."""
    if plan.restarter is None:
        raise SelftestFailure(
            "The persistence check needs the Kubernetes API and --pod-selector: none given."
        )
    dist = plan.dist()
    upload(plan.server, dist)
    replaced = plan.restarter.restart(plan.timeout)
    wait_ready(plan)
    listed(plan.server, dist)
    said = check_download(plan)
    return f"{replaced} server pod(s) deleted and replaced; {said}"


def check_auth(plan: Plan) -> str:
    """Uploads: no credentials 401, wrong credentials 401, the right ones 200; reads as
    the project's visibility says.

    The wrong credentials name a user that does not exist: failed logins are throttled per
    user, and a check that ran often (``helm test`` in a loop) must never lock out the
    very administrator it uploads as."""
    server, dist = plan.server, plan.dist()
    wheel = dist.wheel
    if not server.username:
        raise SelftestFailure("The auth check needs credentials (--username and a password).")
    stranger = (f"selftest-nobody-{secrets.token_hex(4)}", secrets.token_urlsafe(12))
    for label, auth, wanted in (
        ("without credentials", ("", ""), 401),
        ("with wrong credentials", stranger, 401),
        ("with the right credentials", None, 200),
    ):
        reply = server.upload(dist, wheel, auth=auth)
        if reply.status != wanted:
            raise SelftestFailure(
                f"An upload {label} answered {reply.status} ({reply.detail}), not {wanted}."
            )
    return f"Uploads: none 401, wrong 401, right 200; {anonymous_reads(plan)}"


def anonymous_reads(plan: Plan) -> str:
    server = plan.server
    about = server.request("GET", f"/api/v1/projects/{plan.server.project}")
    if about.status != 200:
        raise SelftestFailure(f"Project {server.project} cannot be read: {about.detail}.")
    public = bool(about.json().get("is_public"))
    reply = server.request("GET", server.index_url, auth=("", ""), headers=HTML)
    if public and reply.status != 200:
        raise SelftestFailure(
            f"Project {server.project} is public but an anonymous read answered {reply.status}."
        )
    if not public and reply.status == 200:
        raise SelftestFailure(f"Project {server.project} is private but anyone can read it.")
    return f"project {server.project} is {'public' if public else 'private'}: anonymous " + (
        "reads 200." if public else f"reads {reply.status}."
    )


CHECKS: dict[str, Callable[[Plan], str]] = {
    "connection": check_connection,
    "simple-index": check_simple_index,
    "storage": check_storage,
    "upload": check_upload,
    "download": check_download,
    "multiple-versions": check_multiple_versions,
    "concurrent": check_concurrent,
    "persistence": check_persistence,
    "auth": check_auth,
}
DEFAULT_CHECKS = tuple(name for name in CHECKS if name != "persistence")
